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
