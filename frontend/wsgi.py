"""The UI as a WSGI application, for a production server: ``gunicorn frontend.wsgi:server``."""

from __future__ import annotations

from frontend.app import create_app

server = create_app().server
