"""WSGI entry point for gunicorn: `gunicorn -c gunicorn.conf.py` (wsgi_app = "api.wsgi:app")."""

from api.app import create_app

app = create_app()
