"""Cases: a citizen's request for a service, from application to result."""
