"""The FastAPI application: ``uvicorn backend.main:create_app --factory``."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from backend.api.routes import (
    catalog,
    datasets,
    figures,
    filter_table,
    filters,
    heatmaps,
    metrics,
    positions,
    probe_figures,
    probes,
    runs,
    samples,
    weights,
)
from backend.core.queue import RunQueue
from backend.schemas import Health
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

    @api.get("/health", tags=["health"], response_model=Health)
    def health(workers: bool = False) -> Health:
        """Database and broker in use; with ``workers=true`` also the live workers and their
        queues (a broadcast that waits up to a second)."""
        try:
            with app.state.sessions() as session:
                session.execute(text("SELECT 1"))
            database = "ok"
        except SQLAlchemyError as error:
            database = f"unreachable: {error.__class__.__name__}"
        return Health(
            status="ok" if database == "ok" else "degraded",
            database=database,
            broker=app.state.queue.broker_scheme,
            workers=app.state.queue.live_workers() if workers else None,
        )

    api.include_router(catalog.router)
    api.include_router(runs.router)
    api.include_router(datasets.router)
    api.include_router(samples.router)
    api.include_router(weights.router)
    api.include_router(filters.router)
    api.include_router(filter_table.router)
    api.include_router(positions.router)
    api.include_router(figures.router)
    api.include_router(metrics.router)
    api.include_router(heatmaps.router)
    api.include_router(probes.runs_router)
    api.include_router(probes.router)
    api.include_router(probe_figures.router)
    app.include_router(api)
    return app
