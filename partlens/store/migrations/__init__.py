"""Alembic migrations of the run metadata database, applied by :mod:`partlens.store.migrate`."""
