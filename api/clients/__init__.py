"""A municipality's OAuth clients, managed by its tenant admins."""
