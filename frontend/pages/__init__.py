"""The UI's pages, one module each, found and imported by Dash (``use_pages``).

Each module registers itself with ``dash.register_page``. Dash matches a URL against the path
templates in registry order, and its wildcard also spans ``/``, so ``/runs/<run_id>`` would
swallow ``/runs/<run_id>/compare``: every page sets an ``order`` that puts the longer templates
first.
"""
