"""partlens's browser UI, a Dash app that reaches the data through the HTTP API only."""
