-- wrk script for Townhall's POST /t/aalst/v1/cases (bench/run.py adds the Authorization header).
-- Each request opens a case: form check, reference, due date, timeline step, outbox event and the
-- application's photo kept (the same body as CASE_BODY in bench/run.py).
wrk.method = "POST"
wrk.body = '{"service": "eid-card", "form": {"reason": "renewal", "photo": {"media_type": "image/jpeg", "content": "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA="}}, "citizen": "citizen@demo.example"}'
wrk.headers["Content-Type"] = "application/json"
