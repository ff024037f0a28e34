"""The migrated schema is the models' schema on both backends; the CLI migrates, creates
admins and refuses to serve a database that is not migrated."""

from __future__ import annotations

import secrets
import sqlite3
import subprocess
import sys
from contextlib import closing

import psycopg
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from studio.marketplace.db import alembic_config, head_revision, migrate
from studio.marketplace.models import Base
from tests.marketplace.conftest import PG_DSN


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "studio.marketplace.cli", *args],
                          input=stdin, capture_output=True, text=True, timeout=120)


def test_migrated_database_matches_the_models(server):
    url = (f"sqlite:///{server.db_path}" if server.backend == "sqlite"
           else server.pg["owner_url"])
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            assert context.get_current_revision() == head_revision()
    finally:
        engine.dispose()


def test_sqlite_downgrade_and_upgrade_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    assert migrate(url) == (None, head_revision())
    assert migrate(url) == (head_revision(), head_revision())  # a no-op the second time
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")
        with closing(sqlite3.connect(tmp_path / "m.sqlite3")) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master "
                                                 "WHERE type = 'table'")}
        assert tables == {"alembic_version"}
    finally:
        engine.dispose()
    assert migrate(url)[1] == head_revision()


def test_cli_migrate_and_create_admin(tmp_path):
    data = str(tmp_path / "data")
    r = _cli("migrate", "--data-dir", data)
    assert r.returncode == 0 and head_revision() in r.stdout
    r = _cli("create-admin", "Root_User", "--data-dir", data, "--password-stdin",
             stdin="a long password\n")
    assert r.returncode == 0, r.stderr
    assert "root_user created" in r.stdout
    r = _cli("create-admin", "root_user", "--data-dir", data, "--password-stdin", stdin="\n")
    assert r.returncode == 0 and "promoted" in r.stdout
    with closing(sqlite3.connect(tmp_path / "data" / "marketplace.sqlite3")) as conn:
        assert conn.execute("SELECT role, password_hash FROM users").fetchall()[0][0] == "admin"
    r = _cli("create-admin", "x", "--data-dir", data, "--password-stdin", stdin="pw\n")
    assert r.returncode == 2 and "invalid username or password" in r.stderr
    r = _cli("migrate", "--data-dir", data, "--grant-to", "someone")
    assert r.returncode == 2 and "PostgreSQL only" in r.stderr


def test_serve_refuses_an_unmigrated_postgresql_database():
    name = f"studio_mkt_empty_{secrets.token_hex(4)}"
    with psycopg.connect(PG_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            info = psycopg.conninfo.conninfo_to_dict(PG_DSN)
            url = (f"postgresql://{info.get('user', 'postgres')}@{info.get('host', '127.0.0.1')}"
                   f":{info.get('port', 5432)}/{name}")
            r = _cli("serve", "--database-url", url, "--port", "1")
            assert r.returncode == 2
            assert "studio-marketplace migrate" in r.stderr
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_migration_0004_moves_fork_overrides_into_the_forks_row_and_back(tmp_path):
    """A deployment at 0003 keeps every fork edit through the upgrade (and the downgrade)."""
    import hashlib
    import json
    import zlib

    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    engine = create_engine(url)

    def to(revision: str, how=command.upgrade) -> None:
        with engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            how(cfg, revision)

    texts = {"seg_1": "Mine, with an accent: é.", "seg_2": "Also mine."}
    now = "2026-11-28 10:00:00"
    try:
        to("0003")
        with closing(sqlite3.connect(tmp_path / "m.sqlite3")) as db:
            db.execute("INSERT INTO users (id, username, password_hash, role, tier, disabled, "
                       "created_at) VALUES (1, 'ann', 'x', 'user', 'free', 0, ?)", (now,))
            db.execute("INSERT INTO stories (id, public_id, owner_id, title, description, genre, "
                       "licence, visibility, latest_version, hidden, created_at, updated_at) "
                       "VALUES (1, 'st_a', 1, 't', '', '', 'CC-BY', 'public', 1, 0, ?, ?)",
                       (now, now))
            db.execute("INSERT INTO story_versions (id, story_id, number, changelog, author_id, "
                       "segment_count, manifest, modules, scene_bible, chapter_graph, created_at)"
                       " VALUES (1, 1, 1, '', 1, 0, '{}', '{}', '{}', '{}', ?)", (now,))
            db.execute("INSERT INTO forks (id, public_id, owner_id, source_story_id, "
                       "source_version_id, synced_version, strategy, title, created_at, "
                       "updated_at) VALUES (1, 'fk_a', 1, 1, 1, 1, 'delta', '', ?, ?)",
                       (now, now))
            for seg, text in texts.items():
                digest = hashlib.sha256(text.encode()).hexdigest()
                db.execute("INSERT INTO segment_texts (hash, text, length) VALUES (?, ?, ?)",
                           (digest, text, len(text)))
                db.execute("INSERT INTO fork_overrides (fork_id, segment_id, owner_id, "
                           "text_hash) VALUES (1, ?, 1, ?)", (seg, digest))
            db.commit()
        to("0004")
        with closing(sqlite3.connect(tmp_path / "m.sqlite3")) as db:
            (packed,) = db.execute("SELECT overrides FROM forks WHERE id = 1").fetchone()
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
            stored = db.execute("SELECT count(*) FROM segment_texts").fetchone()[0]
        assert json.loads(zlib.decompress(packed)) == texts
        assert "fork_overrides" not in tables and stored == 2  # no text was deleted
        to("0003", command.downgrade)
        with closing(sqlite3.connect(tmp_path / "m.sqlite3")) as db:
            rows = db.execute("SELECT o.segment_id, t.text FROM fork_overrides o JOIN "
                              "segment_texts t ON t.hash = o.text_hash").fetchall()
        assert dict(rows) == texts
    finally:
        engine.dispose()
