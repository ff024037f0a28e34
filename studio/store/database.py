"""Opening the local database: checks, backup, migration, engine and units of work.

Opening is the moment existing user data is most at risk (a newer file, a foreign file, a
failing migration), so every refusal happens *before* anything is written, and a migration runs
only after a backup it can be rolled back to.
"""

from __future__ import annotations

import sqlite3
import tempfile
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError, DatabaseError as SADatabaseError
from sqlalchemy.orm import Session, sessionmaker

from studio.config import DATABASE_FILENAME, migrations_dir
from studio.domain.errors import StudioError
from studio.store.backup import backup_database, restore_database

SQLITE_MAGIC = b"SQLite format 3\x00"


class StoreError(StudioError):
    """A problem with the local database that the user must be told about in plain words."""


class DataDirError(StoreError):
    pass


class NotADatabaseError(StoreError):
    pass


class NewerDatabaseError(StoreError):
    pass


class MigrationFailedError(StoreError):
    pass


class DiskFullError(StoreError):
    pass


#: The newest schema revision this version of the app writes.  Opening a database already at it
#: needs no Alembic at all (a faster start, ~17 MiB less memory); a test keeps it equal to the
#: head of ``migrations/studio``.
SCHEMA_HEAD = "0009"


def _alembic_config():
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir() / "studio"))
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(_alembic_config()).get_heads()
    return heads[0]


def _check_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise DataDirError(
            f"Story Studio cannot write to its data folder {folder}: {exc.strerror or exc}. "
            "Choose another folder with --data-dir or STUDIO_DATA_DIR, or fix its permissions."
        ) from exc


def _inspect_file(path: Path) -> tuple[str | None, bool]:
    """Return (alembic revision or None, whether the file holds any tables) without writing."""
    with open(path, "rb") as fh:
        header = fh.read(len(SQLITE_MAGIC))
    if header and header != SQLITE_MAGIC:
        raise NotADatabaseError(
            f"{path} is not a SQLite database (it may be another kind of file or damaged). "
            "Story Studio has left it untouched; move it away or choose another data folder."
        )
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            tables = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table'")}
            if "alembic_version" not in tables:
                return None, bool(tables)
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            return (row[0] if row else None), True
    except sqlite3.DatabaseError as exc:
        raise NotADatabaseError(
            f"{path} cannot be read as a database ({exc}). Story Studio has left it untouched."
        ) from exc


def _on_connect(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL syncs the WAL on every commit: a crash, a kill or a power cut loses no committed edit.
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(path: Path) -> Engine:
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": 10},
    )
    event.listen(engine, "connect", _on_connect)
    return engine


def translate_error(exc: Exception, path: Path) -> StoreError | None:
    """Map SQLite failures to messages an author understands; None if it is a real bug."""
    text = str(getattr(exc, "orig", exc)).lower()
    if "disk is full" in text or "disk full" in text:
        return DiskFullError(
            "The disk is full, so the last change could not be saved. Everything saved before "
            f"it is intact in {path}. Free some space and keep working; the change will be "
            "saved on the next attempt."
        )
    if "readonly" in text or "read-only" in text:
        return DataDirError(f"The database {path} has become read-only; changes cannot be saved.")
    if "not a database" in text or "malformed" in text:
        return NotADatabaseError(f"The database {path} is damaged: {text}")
    return None


@dataclass
class MigrationReport:
    from_revision: str | None
    to_revision: str
    backup: Path | None


class Database:
    """An open local database: engine, session factory and the facts about its opening."""

    def __init__(self, path: Path, engine: Engine, report: MigrationReport):
        self.path = path
        self.engine = engine
        self.report = report
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def data_dir(self) -> Path:
        return self.path.parent

    @property
    def backups_dir(self) -> Path:
        return self.path.parent / "backups"

    @classmethod
    def open(cls, data_dir: Path) -> "Database":
        data_dir = Path(data_dir)
        _check_writable(data_dir)
        path = data_dir / DATABASE_FILENAME
        report = migrate(path, data_dir / "backups")
        return cls(path, make_engine(path), report)

    @classmethod
    def attach(cls, path: Path) -> "Database":
        """Another process's view of a database the app has opened (and migrated): no
        migration, no backup — for helper processes that read, such as the analyser."""
        path = Path(path)
        return cls(path, make_engine(path), MigrationReport(SCHEMA_HEAD, SCHEMA_HEAD, None))

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed on success, rolled back (nothing half-written) on error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except (OperationalError, SADatabaseError) as exc:
            session.rollback()
            friendly = translate_error(exc, self.path)
            if friendly is not None:
                raise friendly from exc
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def backup(self, reason: str = "manual") -> Path:
        return backup_database(self.path, self.backups_dir, reason)

    def integrity_check(self) -> list[str]:
        with self.engine.connect() as conn:
            rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
            fk = list(conn.exec_driver_sql("PRAGMA foreign_key_check"))
        problems = [r for r in rows if r != "ok"]
        problems += [f"foreign key: {tuple(r)}" for r in fk]
        return problems

    def close(self) -> None:
        self.engine.dispose()


def migrate(path: Path, backups_dir: Path) -> MigrationReport:
    """Bring the file at ``path`` to the head revision, or refuse and leave it untouched."""
    if path.exists():
        current, _has_tables = _inspect_file(path)
        if current == SCHEMA_HEAD:
            return MigrationReport(current, current, None)
    from alembic import command
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config())
    head = script.get_current_head()
    current: str | None = None
    has_tables = False
    if path.exists():
        current, has_tables = _inspect_file(path)
        if current is None and has_tables:
            raise NotADatabaseError(
                f"{path} is a SQLite database, but not one of Story Studio's. It was left "
                "untouched; choose another data folder."
            )
        if current is not None:
            try:
                script.get_revision(current)
            except Exception:
                raise NewerDatabaseError(
                    f"{path} was written by a newer version of Story Studio (schema {current}). "
                    "Install that version or newer to open it; this version will not change it."
                ) from None
    if current == head:
        return MigrationReport(current, head, None)

    existed = path.exists()
    backup = backup_database(path, backups_dir, f"before-{head}") if has_tables else None
    engine = _migration_engine(path)
    try:
        with engine.begin() as conn:
            cfg = _alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            broken = list(conn.exec_driver_sql("PRAGMA foreign_key_check"))
            if broken:
                raise RuntimeError(f"the migrated data breaks {len(broken)} foreign keys")
    except Exception as exc:
        engine.dispose()
        if backup is not None:
            restore_database(backup, path)
            where = f"The database was restored from the backup {backup}."
        elif not existed:
            for leftover in (path, path.with_name(path.name + "-wal"),
                             path.with_name(path.name + "-shm")):
                leftover.unlink(missing_ok=True)
            where = "No data had been saved in it yet."
        else:
            where = "The file held no data before."
        friendly = translate_error(exc, path)
        raise MigrationFailedError(
            f"Updating the database {path} to schema {head} failed: "
            f"{friendly or exc}. {where}"
        ) from exc
    finally:
        engine.dispose()
    return MigrationReport(current, head, backup)


def _migration_engine(path: Path) -> Engine:
    """An engine whose transactions really cover DDL, with foreign keys off while tables move.

    pysqlite commits DDL on its own unless it is told to leave transactions to us; with it
    told, a failing migration rolls back whole.  Foreign keys are off because Alembic's batch
    mode re-creates tables, and a DROP TABLE with them on would cascade-delete child rows; the
    result is checked with ``foreign_key_check`` before commit instead.
    """
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None
        dbapi_conn.execute("PRAGMA foreign_keys=OFF")
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA synchronous=FULL")

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def database_revision(path: Path) -> str | None:
    if not path.exists():
        return None
    return _inspect_file(path)[0]
