"""Townhall kernel: database, tenancy and domain building blocks shared by every service."""
