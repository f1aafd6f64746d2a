"""Offices, slots and appointments."""
