"""``python -m frontend``: serve the UI with the settings of the environment."""

from __future__ import annotations

from frontend.app import create_app
from frontend.settings import UISettings


def main() -> None:
    """Serve the UI on ``PARTLENS_UI_HOST:PARTLENS_UI_PORT``, talking to ``PARTLENS_API_URL``."""
    settings = UISettings()
    create_app(settings).run(host=settings.ui_host, port=settings.ui_port, debug=False)


if __name__ == "__main__":
    main()
