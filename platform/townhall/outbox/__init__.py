"""Events out. Every feature writes its events with `operations.emit` (a Core write builds the same
row with `operations.event_row`) in the transaction of the change; the worker fans them out
(`delivery`) to signed webhooks for IT partners (Standard Webhooks, CloudEvents payloads) and to
branded e-mail (`mail`).

Webhook subscriptions (their models, use-cases, queries, SSRF policy and sealed secrets) live here
too rather than in a package of their own: delivery reads subscriptions and replay re-reads events,
so the two halves would import each other. The outbox sits below every feature (cases,
appointments, rules, proactive) and imports none of them: what it needs of one (a case's citizen,
for e-mail) is handed to it (`mail.CitizenOf`)."""
