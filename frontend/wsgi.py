"""The UI as a WSGI application, for a production server: ``gunicorn frontend.wsgi:server``.

Each gunicorn worker imports this module, so each one registers the bundles it will serve.
"""

from __future__ import annotations

from frontend.app import create_app, register_bundles

app = create_app()
register_bundles(app)
server = app.server
