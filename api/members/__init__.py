"""A municipality's staff memberships, managed by its tenant admins."""
