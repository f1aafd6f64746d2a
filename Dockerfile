# syntax=docker/dockerfile:1
# Townhall API image: build a wheel, install it into a virtualenv, run gunicorn as a non-root user.

FROM python:3.11-slim AS build
WORKDIR /src
RUN pip install --no-cache-dir "build>=1.2"
COPY pyproject.toml setup.cfg README.md ./
COPY platform/ platform/
COPY api/ api/
COPY tenants/ tenants/
RUN python -m build --wheel --outdir /dist

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/townhall/bin:$PATH \
    TOWNHALL_HOME=/app \
    TOWNHALL_INSTANCE_PATH=/var/lib/townhall \
    GUNICORN_BIND=0.0.0.0:8000
RUN python -m venv /opt/townhall \
    && useradd --system --uid 10001 --no-create-home --home-dir /app townhall \
    && mkdir -p /var/lib/townhall \
    && chown townhall /var/lib/townhall
COPY --from=build /dist/ /tmp/dist/
RUN /opt/townhall/bin/pip install --no-cache-dir /tmp/dist/*.whl && rm -rf /tmp/dist
# The work directory holds only what the installed packages read at run time (the contract,
# migrations, gunicorn settings), never a second copy of the source packages.
WORKDIR /app
COPY openapi.yaml gunicorn.conf.py ./
COPY migrations/ migrations/
USER townhall
EXPOSE 8000
# The API's check; deploy/compose.yaml gives workers their own (`townhall worker --check`).
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/livez', timeout=2)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py"]
