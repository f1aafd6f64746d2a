"""Events out: signed webhooks for IT partners (Standard Webhooks, CloudEvents payloads)."""
