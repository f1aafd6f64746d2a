"""gunicorn settings, read from the environment (TOWNHALL_* / GUNICORN_*), tested in tests/unit/test_packaging.py."""

import os

wsgi_app = "api.wsgi:app"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: on two cores more workers or threads add latency, not throughput (see docs/benchmarks.md).
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycling workers is off by default: at a thousand requests per second a limit of a few thousand
# restarts a worker every few seconds, and each boot costs CPU. Set it if a leak is ever suspected.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "0"))
# The app writes its own JSON access log line per request (without query strings); gunicorn's
# access log would repeat it with the raw URL, which may carry personal data.
accesslog = None
# Above the app's own limits (api/request_checks.py: 8 KiB target, 8 KiB per header, 32 KiB in
# all), so that Townhall answers too long a request with a problem document, not gunicorn's HTML.
# 0 lets gunicorn read request lines up to 1 MiB; past these limits gunicorn still answers itself.
limit_request_line = 0
limit_request_field_size = 65_536
limit_request_fields = 200
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# No control socket in $HOME: parallel servers (tests, benchmarks) must not clash.
control_socket_disable = True
