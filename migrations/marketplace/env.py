"""Alembic environment of the marketplace database (SQLite or PostgreSQL).

``studio-marketplace migrate`` hands over an open connection through
``config.attributes["connection"]``; the ``alembic`` command line works too, with
``-x url=DATABASE_URL``.  Batch mode is on because SQLite cannot alter constraints in place
(on PostgreSQL it makes no difference).  PostgreSQL-only DDL (row-level security) is guarded by
``op.get_bind().dialect.name`` in the revisions.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from studio.marketplace.models import Base
from studio.marketplace.settings import normalise_url

config = context.config
target_metadata = Base.metadata


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("pass the database with: alembic -x url=DATABASE_URL upgrade head")
    engine = create_engine(normalise_url(url), poolclass=pool.NullPool)
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    url = context.get_x_argument(as_dictionary=True).get("url", "sqlite://")
    context.configure(url=normalise_url(url), target_metadata=target_metadata,
                      render_as_batch=True, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
