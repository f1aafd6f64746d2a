"""Paying a case's fee: online through a payment provider, or at the counter."""
