"""The audit trail: one hash-chained, append-only list of entries per municipality."""
