"""Real marketplace servers for the API tests: uvicorn in a subprocess, once per backend.

- SQLite: ``studio-marketplace serve --data-dir <tmp>`` (it migrates the file itself).
- PostgreSQL (127.0.0.1:5432, trust auth, superuser ``postgres``, database ``test``; override
  with ``STUDIO_TEST_PG_DSN``): a fresh database ``studio_mkt_<random>`` migrated by its owner,
  and a fresh non-superuser role that owns nothing, which the server (two workers) connects
  as — so row-level security really applies.  Both are dropped at the end.  PostgreSQL being
  unreachable is an error, never a skip.

The test process binds each listening socket and hands it to the server with ``--fd``: no
port race, and the server is ready when ``/v1/meta`` answers.
"""

from __future__ import annotations

import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.marketplace.helpers import PASSWORD, Account, unique

# Cheaper argon2id hashes: the sessions make ~200 accounts; the algorithm stays the same.
FAST_ARGON2 = {"STUDIO_MARKETPLACE_PASSWORD_TIME_COST": "1",
               "STUDIO_MARKETPLACE_PASSWORD_MEMORY_KIB": "8192",
               "STUDIO_MARKETPLACE_PASSWORD_PARALLELISM": "1"}
# The shared servers' quotas are out of the way of functional tests, which may make many items
# per user; tests of the quotas themselves start a server of their own (``_start(env=…)``).
ROOMY_QUOTAS = {"STUDIO_MARKETPLACE_QUOTA_FREE_ITEMS": "1000000",
                "STUDIO_MARKETPLACE_QUOTA_FREE_STORAGE_MB": "1000000"}
# Functional tests read what they just wrote, also anonymously: the shared servers do not keep
# anonymous browse answers (two seconds, by default); test_browse_speed.py tests that cache on a
# server of its own.
NO_BROWSE_CACHE = {"STUDIO_MARKETPLACE_BROWSE_CACHE_SECONDS": "0"}
PG_DSN = os.environ.get("STUDIO_TEST_PG_DSN",
                        "host=127.0.0.1 port=5432 user=postgres dbname=test")


class Server:
    def __init__(self, backend: str, proc: subprocess.Popen, base_url: str, log: Path,
                 db_path: Path | None = None, pg: dict | None = None):
        self.backend, self.proc, self.base_url, self.log = backend, proc, base_url, log
        self.db_path, self.pg = db_path, pg

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        """Run SQL directly on the database, as its owner (``?`` placeholders)."""
        if self.backend == "sqlite":
            with closing(sqlite3.connect(self.db_path, timeout=15)) as conn:
                rows = conn.execute(query, params).fetchall()
                conn.commit()
                return rows
        with psycopg.connect(self.pg["owner_dsn"], autocommit=True) as conn:
            cur = conn.execute(query.replace("?", "%s"), params)
            return cur.fetchall() if cur.description else []

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60)

    def __repr__(self) -> str:
        return f"<{self.backend} server {self.base_url}>"


def _bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _start(args: list[str], log: Path, env: dict[str, str] | None = None
           ) -> tuple[subprocess.Popen, str, socket.socket]:
    sock = _bound_socket()
    port = sock.getsockname()[1]
    env = {**ROOMY_QUOTAS, **NO_BROWSE_CACHE, **os.environ, "PYTHONUNBUFFERED": "1",
           **FAST_ARGON2, **(env or {})}
    env.pop("STUDIO_MARKETPLACE_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio.marketplace.cli", "serve", *args,
         "--fd", str(sock.fileno()), "--log-level", "warning"],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, pass_fds=(sock.fileno(),), env=env)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}):\n{log.read_text()}")
        try:
            if httpx.get(base_url + "/v1/meta", timeout=2).status_code == 200:
                return proc, base_url, sock
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the server did not answer in 60 s:\n{log.read_text()}")
        time.sleep(0.1)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def sqlite_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mkt-sqlite")
    proc, url, sock = _start(["--data-dir", str(folder / "data")], folder / "server.log")
    yield Server("sqlite", proc, url, folder / "server.log",
                 db_path=folder / "data" / "marketplace.sqlite3")
    _stop(proc)
    sock.close()


def _pg_admin() -> psycopg.Connection:
    try:
        return psycopg.connect(PG_DSN, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:  # a failure, not a skip
        raise RuntimeError(f"PostgreSQL is required for these tests ({PG_DSN}): {exc}") from exc


@pytest.fixture(scope="session")
def postgresql_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mkt-pg")
    suffix = secrets.token_hex(4)
    dbname, role = f"studio_mkt_{suffix}", f"studio_app_{suffix}"
    params = psycopg.conninfo.conninfo_to_dict(PG_DSN)
    host, port = params.get("host", "127.0.0.1"), params.get("port", "5432")
    owner = params.get("user", "postgres")
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{dbname}"')
        admin.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB '
                      "NOCREATEROLE")
    owner_url = f"postgresql+psycopg://{owner}@{host}:{port}/{dbname}"
    app_url = f"postgresql+psycopg://{role}@{host}:{port}/{dbname}"
    proc = None
    sock = None
    try:
        migrated = subprocess.run(
            [sys.executable, "-m", "studio.marketplace.cli", "migrate", "--database-url",
             owner_url, "--grant-to", role], capture_output=True, text=True, timeout=120)
        assert migrated.returncode == 0, migrated.stderr
        proc, url, sock = _start(["--database-url", app_url, "--workers", "2"],
                                 folder / "server.log")
        yield Server("postgresql", proc, url, folder / "server.log", pg={
            "dbname": dbname, "role": role,
            "owner_dsn": f"host={host} port={port} user={owner} dbname={dbname}",
            "app_dsn": f"host={host} port={port} user={role} dbname={dbname}",
            "owner_url": owner_url, "app_url": app_url})
    finally:
        if proc is not None:
            _stop(proc)
        if sock is not None:
            sock.close()
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request) -> Server:
    return request.getfixturevalue(f"{request.param}_server")


@pytest.fixture
def anon(server):
    with server.client() as client:
        yield client


def _account_factory(server: Server):
    made: list[Account] = []

    def make(prefix: str = "user") -> Account:
        username = unique(prefix)
        with server.client() as c:
            r = c.post("/v1/accounts", json={"username": username, "password": PASSWORD})
            assert r.status_code == 201, r.text
            r = c.post("/v1/auth/login", json={"username": username, "password": PASSWORD})
            assert r.status_code == 200, r.text
        account = Account(server, username, PASSWORD, r.json())
        made.append(account)
        return account

    return make, made


@pytest.fixture
def make_account(server):
    make, made = _account_factory(server)
    yield make
    for account in made:
        account.close()


@pytest.fixture
def make_pg_account(postgresql_server):
    """Accounts on the PostgreSQL server only (for tests that are PostgreSQL-specific)."""
    make, made = _account_factory(postgresql_server)
    yield make
    for account in made:
        account.close()


@pytest.fixture
def alice(make_account) -> Account:
    return make_account("alice")


@pytest.fixture
def bob(make_account) -> Account:
    return make_account("bob")
