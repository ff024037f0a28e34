"""Engines, per-request sessions and migrations of the marketplace database.

SQLite (the default, one file in a data folder): WAL, foreign keys on, and two engines — reads
begin a plain (deferred) transaction, writes ``BEGIN IMMEDIATE`` so concurrent writers queue on
the busy timeout instead of failing when a read lock cannot be upgraded.

PostgreSQL (psycopg 3): one pooled engine; every transaction starts by setting the row-level
security settings of its request (``set_config(…, true)``: transaction-local, so nothing leaks
to the next user of a pooled connection).  Its connections run with ``jit = off``: the
stories policy's sub-plans make the planner cost every browse query above
``jit_above_cost``, and compiling them took longer than running them (7–260 ms a query,
bench/README.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from studio.marketplace.security import grant_statements
from studio.marketplace.settings import normalise_url

RLS_SETTINGS = ("app.user_id", "app.token_hash", "app.story_ref")
_PACKAGE_DIR = Path(__file__).resolve().parents[1]


class SchemaError(RuntimeError):
    """The database is not at the schema this server expects; a message for the operator."""


def migrations_dir() -> Path:
    candidates = []
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        candidates.append(Path(frozen) / "migrations" / "marketplace")
    candidates.append(_PACKAGE_DIR / "_migrations" / "marketplace")  # installed wheel
    candidates.append(_PACKAGE_DIR.parent / "migrations" / "marketplace")  # source tree
    for path in candidates:
        if path.is_dir():
            return path
    raise FileNotFoundError("the marketplace migrations are missing (looked in: "
                            + ", ".join(map(str, candidates)) + "); reinstall the package")


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _sqlite_pragmas(synchronous: str):
    def on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # transactions are begun explicitly (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA busy_timeout=15000")
        cur.close()
    return on_connect


def _sqlite_engine(url: str, begin: str, synchronous: str = "FULL") -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})
    event.listen(engine, "connect", _sqlite_pragmas(synchronous))
    event.listen(engine, "begin", lambda conn: conn.exec_driver_sql(begin))
    return engine


def _prepare_sqlite_file(url: str) -> None:
    path = make_url(url).database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


# Connection options of the PostgreSQL engine (libpq ``options``: run-time settings).
PG_OPTIONS = "-c jit=off"


class Database:
    def __init__(self, url: str, pool_size: int = 15, max_overflow: int = 5):
        self.url = normalise_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        if self.dialect == "sqlite":
            _prepare_sqlite_file(self.url)
            self.write_engine = _sqlite_engine(self.url, "BEGIN IMMEDIATE")
            self.read_engine = _sqlite_engine(self.url, "BEGIN")
            # Counters (views, downloads) commit without waiting for the disk: a power cut
            # may lose the last few increments, never anything else (the next durable commit
            # syncs the WAL they sit in).
            self.lazy_engine = _sqlite_engine(self.url, "BEGIN IMMEDIATE", "NORMAL")
        elif self.dialect == "postgresql":
            self.write_engine = create_engine(self.url, pool_size=pool_size,
                                              max_overflow=max_overflow, pool_pre_ping=True,
                                              connect_args={"options": PG_OPTIONS})
            self.read_engine = self.lazy_engine = self.write_engine
        else:
            raise SchemaError(f"unsupported database {self.dialect!r}: use sqlite:///PATH or "
                              "postgresql+psycopg://USER@HOST/DB")
        self._writes = sessionmaker(self.write_engine, expire_on_commit=False)
        self._reads = sessionmaker(self.read_engine, expire_on_commit=False)
        self._lazy = sessionmaker(self.lazy_engine, expire_on_commit=False)
        for factory in (self._writes, self._reads, self._lazy):
            event.listen(factory, "after_begin", self._after_begin)

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    def session(self, write: bool, durable: bool = True) -> Session:
        """A session; ``durable=False`` (counters only) commits without waiting for fsync."""
        if not durable:
            session = self._lazy()
            session.info["lazy"] = True
        else:
            session = (self._writes if write else self._reads)()
        session.info["rls"] = {}
        return session

    def _after_begin(self, session: Session, _transaction, connection) -> None:
        if self.is_postgres:
            if session.info.get("lazy"):
                connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            for name, value in session.info.get("rls", {}).items():
                connection.execute(text("SELECT set_config(:n, :v, true)"),
                                   {"n": name, "v": value})

    def set_rls(self, session: Session, name: str, value: object | None) -> None:
        """Set one RLS setting for this session's current and later transactions."""
        assert name in RLS_SETTINGS
        shown = "" if value is None else str(value)
        session.info.setdefault("rls", {})[name] = shown
        if self.is_postgres and session.in_transaction():
            session.execute(text("SELECT set_config(:n, :v, true)"), {"n": name, "v": shown})

    def insert(self, table):
        """The dialect's INSERT construct (for ON CONFLICT clauses)."""
        return (postgresql.insert if self.is_postgres else sqlite.insert)(table)

    def revision(self) -> str | None:
        with self.read_engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def check_schema(self) -> None:
        head = head_revision()
        try:
            current = self.revision()
        except Exception as exc:  # noqa: BLE001 - reported to the operator in words
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise SchemaError(f"cannot read the database schema version: {reason}") from exc
        if current != head:
            raise SchemaError(
                f"the database is at schema {current or '(empty)'}, this server needs {head}: "
                "run `studio-marketplace migrate --database-url …` as the database owner")

    def dispose(self) -> None:
        for engine in {self.write_engine, self.read_engine, self.lazy_engine}:
            engine.dispose()


def migrate(url: str, grant_to: str | None = None) -> tuple[str | None, str]:
    """Upgrade the database at ``url`` to head; on PostgreSQL optionally grant the app role."""
    url = normalise_url(url)
    dialect = make_url(url).get_backend_name()
    if grant_to and dialect != "postgresql":
        raise SchemaError("--grant-to applies to PostgreSQL only")
    grants = grant_statements(grant_to) if grant_to else []  # a bad name fails before DDL
    if dialect == "sqlite":
        _prepare_sqlite_file(url)
        engine = create_engine(url)

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn, _record) -> None:
            # Batch mode re-creates tables; with foreign keys on, dropping one would cascade.
            dbapi_conn.isolation_level = None
            dbapi_conn.execute("PRAGMA foreign_keys=OFF")
            dbapi_conn.execute("PRAGMA journal_mode=WAL")

        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    else:
        engine = create_engine(url)
    try:
        with engine.begin() as conn:
            before = MigrationContext.configure(conn).get_current_revision()
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            if dialect == "sqlite":
                broken = list(conn.exec_driver_sql("PRAGMA foreign_key_check"))
                if broken:
                    raise SchemaError(f"the migrated data breaks {len(broken)} foreign keys")
            for statement in grants:
                conn.exec_driver_sql(statement)
            after = MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
    return before, after
