"""The API's settings and its producer of run tasks."""
