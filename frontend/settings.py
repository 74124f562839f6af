"""The UI's own settings, read from ``PARTLENS_*`` environment variables."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class UISettings(BaseSettings):
    """Where the UI serves and which API it talks to.

    Set by ``PARTLENS_API_URL``, ``PARTLENS_UI_HOST`` and ``PARTLENS_UI_PORT``; other
    ``PARTLENS_*`` variables (those of the API and the worker) are ignored.
    """

    model_config = SettingsConfigDict(env_prefix="PARTLENS_", extra="ignore")

    api_url: str = "http://127.0.0.1:8000/api/v1"
    ui_host: str = "127.0.0.1"
    ui_port: int = 8050
