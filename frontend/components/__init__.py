"""Layout pieces: pure functions from API data to Dash components (they call no API)."""
