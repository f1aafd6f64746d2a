"""The history of a municipality's configuration."""
