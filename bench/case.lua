-- wrk script for Townhall's POST /t/aalst/v1/cases (bench/run.py adds the Authorization header).
-- Each request opens a case: form check, reference, due date, timeline step and outbox event.
wrk.method = "POST"
wrk.body = '{"service": "eid-card", "form": {"reason": "renewal"}, "citizen": "citizen@demo.example"}'
wrk.headers["Content-Type"] = "application/json"
