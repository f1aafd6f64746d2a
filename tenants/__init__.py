"""Tenancy: the municipalities (tenants), their configuration and how a request finds its tenant."""
