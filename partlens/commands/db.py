"""``partlens db``: the run metadata database's schema (Alembic migrations shipped in the package).

Every service migrates the database when it opens it, so these commands are for operators who
want to migrate before a roll-out, or to see where a database stands.
"""

from __future__ import annotations

import typer
from sqlalchemy.exc import SQLAlchemyError

from partlens.commands import console, fail
from partlens.config import get_settings

db_app = typer.Typer(no_args_is_help=True, help="The run metadata database's schema.")


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@db_app.command("upgrade")
def upgrade() -> None:
    """Migrate the database ($PARTLENS_DATABASE_URL, or SQLite in the data dir) to the head."""
    from partlens.store.migrate import upgrade_database

    url = get_settings().resolved_database_url
    try:
        revision = upgrade_database(url)
    except (SQLAlchemyError, OSError) as error:
        raise fail(f"cannot migrate {_redacted(url)}: {error}") from None
    console.print(f"{_redacted(url)} is at revision {revision} (head)")


@db_app.command("current")
def current() -> None:
    """Print the database's revision and the head this partlens expects (exit 2 when behind)."""
    from partlens.store.db import make_engine
    from partlens.store.migrate import HEAD_REVISION, current_revision

    url = get_settings().resolved_database_url
    engine = make_engine(url)
    try:
        revision = current_revision(engine)
    except SQLAlchemyError as error:
        raise fail(f"cannot read {_redacted(url)}: {error}") from None
    finally:
        engine.dispose()
    typer.echo(f"current: {revision or 'none (never migrated)'}")
    typer.echo(f"head:    {HEAD_REVISION}")
    if revision != HEAD_REVISION:
        raise fail("the database is behind: run `partlens db upgrade`")
