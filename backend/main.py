"""The FastAPI application: ``uvicorn backend.main:create_app --factory``."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from backend.api.routes import catalog, datasets, figures, filters, metrics, runs, weights
from backend.core.queue import RunQueue
from partlens.config import Settings, get_settings
from partlens.store import create_session_factory

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the API bound to the metadata DB, artifact folder and broker of ``settings``."""
    settings = settings or get_settings()
    # Import the library's heavy modules (torch) now, not inside the first request.
    import partlens.data
    import partlens.models  # noqa: F401

    app = FastAPI(title="partlens", version="0.1.0", openapi_url=f"{API_PREFIX}/openapi.json")
    app.state.settings = settings
    app.state.sessions = create_session_factory(settings.resolved_database_url)
    app.state.queue = RunQueue(settings)

    api = APIRouter(prefix=API_PREFIX)

    @api.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok", "broker": app.state.queue.broker_scheme}

    api.include_router(catalog.router)
    api.include_router(runs.router)
    api.include_router(datasets.router)
    api.include_router(weights.router)
    api.include_router(filters.router)
    api.include_router(figures.router)
    api.include_router(metrics.router)
    app.include_router(api)
    return app
