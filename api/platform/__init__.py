"""The platform API (`/v1`): what platform operators do for the whole consortium."""
