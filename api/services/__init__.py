"""The services the platform offers, and each municipality's catalogue."""
