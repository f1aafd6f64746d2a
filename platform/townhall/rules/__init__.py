"""Tenant rules (CEL): templates, rules and their versions, the decisions they make on cases, and
the resident register they read."""
