"""Townhall (api.wsgi's app) as `make bench` serves it, with two departures, both for the measurement:

- every plan's quotas are raised past what one benchmark client sends: its requests are counted in
  their buckets (in Redis, as deployed) and answered with the RateLimit headers, but never refused;
- with BENCH_AUDIT=0 the audit trail is left out, for the rows that show what auditing and rate
  limits cost (issue 18's goal: ≤ 10 %).

A deployment serves api.wsgi; nothing here is reachable from it."""

import os
from dataclasses import replace

import api.auditing
from api.app import create_app
from tenants.plans import PLANS

UNLIMITED = 1_000_000_000  # requests a minute: a bucket that never empties during a run

for code, plan in list(PLANS.items()):
    PLANS[code] = replace(plan, client_requests_per_minute=UNLIMITED, person_requests_per_minute=UNLIMITED)
if os.environ.get("BENCH_AUDIT", "1") == "0":
    api.auditing.AUDITED = frozenset()  # no blueprint's requests are audited

app = create_app()
