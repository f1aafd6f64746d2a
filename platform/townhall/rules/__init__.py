"""Tenant rules (CEL), resident register, life events and proactive service."""
