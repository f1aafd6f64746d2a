"""Webhook subscriptions of a municipality."""
