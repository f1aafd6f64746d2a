"""Offices, opening hours, slots and appointments at any counter in the region."""
