"""Helpers the tests import explicitly (fixtures live in conftest.py). postgres.py also runs as a script."""
