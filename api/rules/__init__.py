"""Tenant rules and the consortium's rule templates."""
