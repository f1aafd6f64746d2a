"""The platform's OAuth 2.0 authorization server (Authlib) and the tenant APIs' token checks."""
