"""Public branding of a municipality."""
