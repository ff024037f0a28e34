"""Alembic environment of the local Story Studio database.

The app runs migrations itself when it opens a database (``studio.store.database``), handing
over an open connection through ``config.attributes["connection"]``; the ``alembic`` command
line works too, with ``-x db=PATH``.  Batch mode is on because SQLite cannot alter constraints
in place.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from studio.store.models import Base

config = context.config
target_metadata = Base.metadata


def _include_name(name, type_, _parents) -> bool:
    """The FTS5 index and its shadow tables are created by hand in a migration; autogenerate
    must not propose dropping them."""
    return not (type_ == "table" and name and name.startswith("segments_fts"))


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_name=_include_name,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    db_path = context.get_x_argument(as_dictionary=True).get("db")
    if not db_path:
        raise SystemExit("pass the database file with: alembic -x db=PATH upgrade head")
    engine = create_engine(f"sqlite:///{db_path}", poolclass=pool.NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    context.configure(url="sqlite://", target_metadata=target_metadata, render_as_batch=True,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
