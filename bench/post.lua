-- wrk script for the baseline's POST /rows (bench/run.py: wrk -s bench/post.lua URL).
-- One fixed small JSON body: the benchmark measures insert + commit, not body handling.
wrk.method = "POST"
wrk.body = '{"name": "bench"}'
wrk.headers["Content-Type"] = "application/json"
