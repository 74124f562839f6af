"""The revisions, one module each, in order: ``0001_initial``, ``0002_run_lease``, ..."""
