"""Settings shared by the CLI, worker, API and UI (environment variables ``PARTLENS_*``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where partlens keeps its data and how its services find each other.

    Every field can be set with an environment variable of the same name prefixed by
    ``PARTLENS_`` (``PARTLENS_DATA_DIR``, ``PARTLENS_DATABASE_URL``, ...).
    """

    model_config = SettingsConfigDict(env_prefix="PARTLENS_", extra="ignore")

    data_dir: Path = Path("partlens-data")
    database_url: str | None = None
    broker_url: str = "redis://127.0.0.1:6379/0"
    queue: str = "partlens"
    # Registered dataset roots must lie under these folders (":"-separated); default:
    # <data_dir>/datasets. Keeps API clients from indexing arbitrary server paths.
    dataset_roots: str | None = None
    # When set, mutations of the API (launch, cancel, register) need "Authorization: Bearer".
    api_token: str | None = None
    device: str = "auto"
    api_url: str = "http://127.0.0.1:8000/api/v1"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    ui_host: str = "127.0.0.1"
    ui_port: int = 8050
    # Server processes of the API (uvicorn) and the UI (gunicorn).
    api_workers: int = Field(default=2, ge=1, le=64)
    ui_workers: int = Field(default=2, ge=1, le=64)
    # A worker renews its lease on a run every lease_s / 4 and a reaper requeues a running run
    # whose lease is older than lease_s: a killed worker's run resumes within about lease_s.
    lease_s: float = Field(default=20.0, gt=0.5)
    # Checkpoints land after every epoch and at least this often inside long epochs.
    checkpoint_interval_s: float = Field(default=300.0, gt=0)
    # Training history: one step point at most this often (every epoch end is always kept).
    history_interval_s: float = Field(default=2.0, ge=0)

    @property
    def resolved_database_url(self) -> str:
        """The metadata database: ``database_url`` or a SQLite file inside ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir.resolve() / 'partlens.sqlite'}"

    @property
    def fallback_broker_url(self) -> str:
        """The broker used when no Redis answers: kombu's SQLAlchemy transport on SQLite."""
        return f"sqla+sqlite:///{self.data_dir.resolve() / 'broker.sqlite'}"

    @property
    def runs_dir(self) -> Path:
        return self.data_dir / "runs"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
