"""The schema exists only through migrations, run on open; existing files are protected."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from studio import config
from studio.store import database as database_mod
from studio.store.backup import KEEP_BACKUPS, backup_database, list_backups
from studio.store.database import (
    Database, DataDirError, MigrationFailedError, NewerDatabaseError, NotADatabaseError,
    head_revision,
)
from studio.store.models import Base


def include_name(name, type_, _parents) -> bool:
    """FTS5 shadow tables are SQLite's own; the models do not describe them."""
    return not (type_ == "table" and name and name.startswith("segments_fts"))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_migrate_from_empty_matches_the_models(data_dir):
    db = Database.open(data_dir)
    try:
        assert db.report.from_revision is None
        assert db.report.to_revision == head_revision()
        assert db.report.backup is None  # nothing to back up in a new file
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_name": include_name})
            diffs = compare_metadata(context, Base.metadata)
            assert diffs == []
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert db.integrity_check() == []
    finally:
        db.close()


def _make_first_revision_db(path: Path) -> None:
    """A database as the first revision that held data left it, with a story in it."""
    from alembic import command

    cfg = database_mod._alembic_config()
    engine = database_mod._migration_engine(path)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.exec_driver_sql(
            "INSERT INTO stories (id, uid, title, logline, genre, complete, created_at, "
            "updated_at) VALUES (1, 'u-1', 'Old tale', 'A logline', 'Fantasy', 0, "
            "'2025-01-01 10:00:00', '2025-01-01 10:00:00')")
        conn.exec_driver_sql(
            "INSERT INTO modules (story_id, name, position, input_text, output_json, "
            "created_at, updated_at) VALUES (1, 'idea_spark', 1, 'notes from 2025', "
            "'{\"premise\": \"an old premise\"}', '2025-01-01 10:00:00', '2025-01-01 10:00:00')")
        conn.exec_driver_sql(
            "INSERT INTO versions (story_id, number, label, created_at, snapshot_json) VALUES "
            "(1, 1, 'first', '2025-01-01 10:00:00', '{\"story\": {\"title\": \"Old tale\"}}')")
    engine.dispose()


def test_upgrade_from_first_revision_keeps_data_and_backs_up(data_dir):
    path = data_dir / config.DATABASE_FILENAME
    _make_first_revision_db(path)
    db = Database.open(data_dir)
    try:
        assert db.report.from_revision == "0001"
        assert db.report.backup is not None and db.report.backup.exists()
        with sqlite3.connect(db.report.backup) as conn:  # the backup is the old schema
            assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"
        from studio.services import stories, versions

        detail = stories.open_story(db, 1)
        assert detail.fields.title == "Old tale"
        assert detail.modules["idea_spark"].input_text == "notes from 2025"
        assert detail.modules["idea_spark"].output["premise"] == "an old premise"
        listed = versions.list_versions(db, 1)
        assert [(v.number, v.label, v.summary) for v in listed] == [(1, "first", "")]
        assert db.integrity_check() == []
    finally:
        db.close()


def test_failing_migration_restores_the_backup(data_dir, tmp_path, monkeypatch):
    path = data_dir / config.DATABASE_FILENAME
    _make_first_revision_db(path)
    before = sha(path)
    # A migrations folder whose head revision breaks half-way through.
    broken = tmp_path / "migrations"
    shutil.copytree(config.migrations_dir(), broken)
    (broken / "studio" / "versions" / "0099_broken.py").write_text(
        f'revision = "0099"\ndown_revision = "{head_revision()}"\nbranch_labels = None\n'
        "depends_on = None\n"
        "from alembic import op\n"
        "def upgrade():\n"
        "    op.execute(\"UPDATE stories SET title = 'CLOBBERED'\")\n"
        "    op.execute('DROP TABLE modules')\n"
        "    raise RuntimeError('simulated failure half-way')\n"
        "def downgrade():\n    pass\n")
    monkeypatch.setattr(database_mod, "migrations_dir", lambda: broken)
    with pytest.raises(MigrationFailedError) as err:
        Database.open(data_dir)
    assert "restored from the backup" in str(err.value)
    assert "simulated failure" in str(err.value)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT title FROM stories").fetchone()[0] == "Old tale"
        assert conn.execute("SELECT count(*) FROM modules").fetchone()[0] == 1
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # The real migrations still open it afterwards.
    monkeypatch.undo()
    Database.open(data_dir).close()
    assert sha(path) != before  # upgraded now, as it should be


def test_newer_database_is_refused_and_untouched(data_dir):
    Database.open(data_dir).close()
    path = data_dir / config.DATABASE_FILENAME
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    before = sha(path)
    with pytest.raises(NewerDatabaseError) as err:
        Database.open(data_dir)
    assert "newer version of Story Studio" in str(err.value)
    assert sha(path) == before
    assert list_backups(data_dir / "backups", path.stem) == []


@pytest.mark.parametrize("content", [b"hello, I am a text file\n", b"\x00" * 5000])
def test_a_file_that_is_not_a_database_is_refused_and_untouched(data_dir, content):
    path = data_dir / config.DATABASE_FILENAME
    path.write_bytes(content)
    with pytest.raises(NotADatabaseError):
        Database.open(data_dir)
    assert path.read_bytes() == content


def test_a_foreign_sqlite_database_is_refused(data_dir):
    path = data_dir / config.DATABASE_FILENAME
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE recipes (name TEXT)")
        conn.execute("INSERT INTO recipes VALUES ('soup')")
    before = sha(path)
    with pytest.raises(NotADatabaseError, match="not one of Story Studio's"):
        Database.open(data_dir)
    assert sha(path) == before


def test_unwritable_data_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(DataDirError, match="cannot write to its data folder"):
        Database.open(blocker / "data")


def test_backups_keep_the_last_ten(db):
    made = [backup_database(db.path, db.backups_dir, f"n{i}") for i in range(KEEP_BACKUPS + 3)]
    kept = list_backups(db.backups_dir, db.path.stem)
    assert kept == made[-KEEP_BACKUPS:]
    with sqlite3.connect(kept[-1]) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_schema_head_constant_matches_the_migrations():
    from studio.store.database import SCHEMA_HEAD

    assert SCHEMA_HEAD == head_revision()
