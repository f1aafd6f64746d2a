"""The municipal service implementations: one module per service type behind one interface."""
