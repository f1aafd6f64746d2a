"""Operational endpoints: health, readiness, the contract and its docs page."""
