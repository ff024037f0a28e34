"""Servers for the sync tests: real marketplaces that can be stopped and restarted on the same
address (SQLite, fresh per module; PostgreSQL, on the marketplace tests' database), and a
misbehaving server (``misbehaving_server.py``) that answers garbage, 5xx, hangs up, trickles,
or proxies to a real server while losing chosen answers.

Everything runs in subprocesses (STACK_NOTES: no uvicorn in a thread of the test process), on
sockets the test process binds first (``tests.marketplace.conftest._start``).
"""

from __future__ import annotations

import itertools
import socket
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import httpx
import pytest

import tests.marketplace.conftest as mkt
from tests.marketplace.conftest import Server, _start, _stop, postgresql_server  # noqa: F401

HERE = Path(__file__).resolve().parent


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class RestartableServer(Server):
    """A marketplace subprocess that can be stopped (its port then refuses connections) and
    started again on the same address with the same database."""

    def __init__(self, backend: str, args: list[str], folder: Path, env: dict | None = None,
                 **kw):
        super().__init__(backend, None, "", folder / "server-0.log", **kw)
        self.args, self.folder, self.env = args, folder, env or {}
        self.port = 0
        self.sock: socket.socket | None = None
        self._runs = itertools.count()

    def start(self) -> None:
        assert self.proc is None, "already running"
        self.log = self.folder / f"server-{next(self._runs)}.log"
        port = self.port
        with mock.patch.object(mkt, "_bound_socket", lambda: _bind(port)):
            self.proc, self.base_url, self.sock = _start(self.args, self.log, self.env)
        self.port = self.sock.getsockname()[1]

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)
            self.proc = None
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    @property
    def running(self) -> bool:
        return self.proc is not None


@pytest.fixture(scope="module")
def mkt_sqlite(tmp_path_factory):
    """A fresh SQLite marketplace for the module."""
    folder = tmp_path_factory.mktemp("sync-mkt-sqlite")
    server = RestartableServer("sqlite", ["--data-dir", str(folder / "data")], folder,
                               db_path=folder / "data" / "marketplace.sqlite3")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def mkt_postgresql(postgresql_server, tmp_path_factory):
    """A marketplace process of its own (two workers) on the PostgreSQL test database, as the
    non-owner app role: row-level security applies."""
    folder = tmp_path_factory.mktemp("sync-mkt-pg")
    server = RestartableServer("postgresql",
                               ["--database-url", postgresql_server.pg["app_url"],
                                "--workers", "2"], folder, pg=postgresql_server.pg)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tight_quota_server(tmp_path_factory):
    """A SQLite marketplace where a free account may keep one story."""
    folder = tmp_path_factory.mktemp("sync-mkt-quota")
    server = RestartableServer("sqlite", ["--data-dir", str(folder / "data")], folder,
                               env={"STUDIO_MARKETPLACE_QUOTA_FREE_ITEMS": "1"},
                               db_path=folder / "data" / "marketplace.sqlite3")
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def marketplace(request) -> RestartableServer:
    server = request.getfixturevalue(f"mkt_{request.param}")
    if not server.running:  # a test that stopped it failed before restarting it
        server.start()
    return server


class Misbehaving:
    def __init__(self, proc: subprocess.Popen, base_url: str, sock: socket.socket):
        self.proc, self.base_url, self.sock = proc, base_url, sock

    def url(self, mode: str) -> str:
        return f"{self.base_url}/{mode}"

    def drop(self, method: str, path_regex: str, count: int = 1) -> None:
        r = httpx.post(self.base_url + "/__control/drop",
                       json={"method": method, "path_regex": path_regex, "count": count})
        r.raise_for_status()

    def forwarded(self) -> list[tuple[str, str, bool]]:
        r = httpx.get(self.base_url + "/__control/stats")
        return [tuple(x) for x in r.json()["forwarded"]]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.sock.close()


def start_misbehaving(upstream: str | None = None) -> Misbehaving:
    sock = _bind(0)
    args = [sys.executable, str(HERE / "misbehaving_server.py"), "--fd", str(sock.fileno())]
    if upstream:
        args += ["--upstream", upstream]
    proc = subprocess.Popen(args, pass_fds=(sock.fileno(),))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(base_url + "/__control/stats", timeout=2).status_code == 200:
                return Misbehaving(proc, base_url, sock)
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("the misbehaving server did not start")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def misbehaving():
    server = start_misbehaving()
    yield server
    server.stop()


@pytest.fixture
def proxy(marketplace):
    """A proxy in front of ``marketplace`` that can lose answers (``proxy.drop(...)``)."""
    server = start_misbehaving(marketplace.base_url)
    yield server
    server.stop()


@pytest.fixture
def closed_port_url() -> str:
    """An address where nothing listens."""
    sock = _bind(0)
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"
