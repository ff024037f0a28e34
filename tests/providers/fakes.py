"""Fake OpenAI, ElevenLabs and Automatic1111 servers for tests: real HTTP on 127.0.0.1.

Each fake is a subprocess (``fake_server.py``, uvicorn) on a socket bound here first (no port
race; STACK_NOTES: no uvicorn in a thread of the test process, qasync loops make it crash).

From any test::

    from tests.providers.fakes import start_openai_fake

    with start_openai_fake() as fake:           # key: fake.key (None: no key needed)
        config = fake.config(model="gpt-4o-mini")   # a ProviderConfig pointing at it
        provider = registry.create(config, fake.key)
        ...
        assert fake.requests[-1].path == "/v1/chat/completions"

or use the fixtures (one server per session, reset before each test): import them into a
``conftest.py`` — ``from tests.providers.fakes import openai_fake  # noqa: F401`` — and ask
for ``openai_fake`` / ``openai_images_fake`` / ``elevenlabs_fake`` / ``a1111_fake``.

Switches (each applies once, to the next API request whose path matches ``path``, a regex):
``fail_next(status, body, headers)``, ``respond_next(body, status=200)``, ``hang_next(s)``,
``malformed_next()``, ``truncate_next()``.  ``configure(**state)`` changes the fake's state
(``key``, ``models``, ``reply``, ``image_mode="url"``, ``character_limit``, ``voices``…, see
``fake_server.fresh_state``); ``reset(**state)`` starts over.  ``requests`` lists what the
server received (``Recorded``: method, path, query, headers, json, form, files).
"""

from __future__ import annotations

import base64
import contextlib
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from studio.providers.base import ProviderConfig

HERE = Path(__file__).resolve().parent
OPENAI_KEY = "sk-fake-openai-0123456789abcdef"
ELEVENLABS_KEY = "xi-fake-elevenlabs-0123456789"

# The paths the providers' base URLs end with, per fake kind.
BASE_PATH = {"openai": "/v1", "elevenlabs": "", "a1111": ""}
PROVIDER_KIND = {"openai": "openai", "elevenlabs": "elevenlabs", "a1111": "a1111"}


@dataclass
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)
    files: list[dict] = field(default_factory=list)  # field, filename, content_type, data
    body_size: int = 0
    disconnected: bool = False  # the client went away while the fake was hanging

    @classmethod
    def from_wire(cls, item: dict) -> "Recorded":
        files = [{**f, "data": base64.b64decode(f.pop("data_b64"))} for f in item["files"]]
        return cls(item["method"], item["path"], item["query"], item["headers"], item["json"],
                   item["form"], files, item["body_size"], item["disconnected"])


class FakeService:
    """A running fake: its address, its switches and what it received."""

    def __init__(self, kind: str, proc: subprocess.Popen, sock: socket.socket, key: str | None):
        self.kind, self.proc, self.sock = kind, proc, sock
        self.root = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.url = self.root + BASE_PATH[kind]  # what goes in the provider's base_url
        self.start_key = key
        self.key = key
        self._http = httpx.Client(base_url=self.root, timeout=10)

    # --- using it ---

    def config(self, name: str = "", kind: str | None = None, **settings) -> ProviderConfig:
        """A provider configuration pointing at this fake (short timeout, few retries)."""
        kind = kind or PROVIDER_KIND[self.kind]
        values = {"base_url": self.root + ("/v1" if kind.startswith("openai") else ""),
                  "timeout": 5, "retries": 0, **settings}
        return ProviderConfig(kind=kind, name=name or f"Fake {kind}", settings=values, id=None)

    @property
    def requests(self) -> list[Recorded]:
        """The API requests received since the last reset (control calls excluded)."""
        return [Recorded.from_wire(r) for r in self._get("/__fake/requests")]

    def state(self) -> dict:
        return self._get("/__fake/state")

    # --- switches ---

    def reset(self, **state) -> None:
        """Forget requests and scripts; back to the starting state (plus ``state``)."""
        self.key = state.get("key", self.start_key)
        self._post("/__fake/reset", {"key": self.start_key, **state})

    def configure(self, **state) -> None:
        if "key" in state:
            self.key = state["key"]
        self._post("/__fake/config", state)

    def fail_next(self, status: int = 500, body: Any = None, headers: dict | None = None, *,
                  path: str = "", times: int = 1) -> None:
        """Answer ``status`` with ``body`` (JSON, or text if a str; ``{sent_key}`` in it
        becomes the key the client sent) and ``headers`` (e.g. ``{"Retry-After": "1"}``)."""
        for _ in range(times):
            self._script(action="fail", status=status, body=body, headers=headers or {},
                         path=path)

    def respond_next(self, body: Any = None, status: int = 200, headers: dict | None = None, *,
                     content_type: str | None = None, raw: str | None = None,
                     data: bytes | None = None, path: str = "") -> None:
        """Answer ``body`` (JSON), ``raw`` text or ``data`` bytes instead of the real answer."""
        step: dict[str, Any] = {"action": "respond", "status": status, "body": body,
                                "headers": headers or {}, "path": path, "raw": raw}
        if content_type:
            step["content_type"] = content_type
        if data is not None:
            step["b64"] = base64.b64encode(data).decode()
        self._script(**step)

    def hang_next(self, seconds: float = 30.0, *, path: str = "", times: int = 1) -> None:
        """Say nothing for ``seconds`` (then answer normally, if the client still waits)."""
        for _ in range(times):
            self._script(action="hang", seconds=seconds, path=path)

    def malformed_next(self, *, path: str = "") -> None:
        """200 with a JSON content type and a body that is not JSON."""
        self._script(action="malformed", path=path)

    def truncate_next(self, *, path: str = "") -> None:
        """200 announcing 5000 bytes, then 18 of them and a closed connection."""
        self._script(action="truncate", path=path)

    # --- plumbing ---

    def _script(self, **step) -> None:
        self._post("/__fake/script", step)

    def _get(self, path: str) -> Any:
        r = self._http.get(path)
        r.raise_for_status()
        return r.json()

    def _post(self, path: str, body: Any) -> None:
        self._http.post(path, json=body).raise_for_status()

    def stop(self) -> None:
        self._http.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.sock.close()


def _bind() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def start_fake(kind: str, key: str | None = None) -> FakeService:
    """Start a fake server (``openai``, ``elevenlabs`` or ``a1111``); ``stop()`` it after."""
    sock = _bind()
    args = [sys.executable, str(HERE / "fake_server.py"), "--kind", kind,
            "--fd", str(sock.fileno())]
    if key is not None:
        args += ["--key", key]
    log = tempfile.TemporaryFile()  # the server's own errors, shown if it fails to start
    proc = subprocess.Popen(args, pass_fds=(sock.fileno(),), stdout=log,
                            stderr=subprocess.STDOUT)
    root = f"http://127.0.0.1:{sock.getsockname()[1]}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(root + "/__fake/ping", timeout=2).status_code == 200:
                log.close()  # the child keeps its own handle
                return FakeService(kind, proc, sock, key)
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            sock.close()
            log.seek(0)
            raise RuntimeError(f"the fake {kind} server did not start:\n"
                               f"{log.read().decode(errors='replace')}")
        time.sleep(0.03)


@contextlib.contextmanager
def _running(kind: str, key: str | None) -> Iterator[FakeService]:
    fake = start_fake(kind, key)
    try:
        yield fake
    finally:
        fake.stop()


def start_openai_fake(key: str | None = OPENAI_KEY) -> contextlib.AbstractContextManager:
    """A fake OpenAI API (chat, embeddings, models, images); ``key=None``: like Ollama."""
    return _running("openai", key)


def start_elevenlabs_fake(key: str = ELEVENLABS_KEY) -> contextlib.AbstractContextManager:
    return _running("elevenlabs", key)


def start_a1111_fake() -> contextlib.AbstractContextManager:
    return _running("a1111", None)


def closed_port_url() -> str:
    """An address where nothing listens."""
    sock = _bind()
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


# --- fixtures (import them into a conftest.py to use them elsewhere) ---

@pytest.fixture(scope="session")
def _openai_fake_server():
    with start_openai_fake() as fake:
        yield fake


@pytest.fixture(scope="session")
def _elevenlabs_fake_server():
    with start_elevenlabs_fake() as fake:
        yield fake


@pytest.fixture(scope="session")
def _a1111_fake_server():
    with start_a1111_fake() as fake:
        yield fake


@pytest.fixture
def openai_fake(_openai_fake_server) -> FakeService:
    """The session's fake OpenAI server, reset for this test (key ``OPENAI_KEY``)."""
    _openai_fake_server.reset()
    return _openai_fake_server


@pytest.fixture
def openai_images_fake(_openai_fake_server) -> FakeService:
    """The same fake OpenAI server, for the ``openai_images`` kind."""
    _openai_fake_server.reset()
    return _openai_fake_server


@pytest.fixture
def elevenlabs_fake(_elevenlabs_fake_server) -> FakeService:
    _elevenlabs_fake_server.reset()
    return _elevenlabs_fake_server


@pytest.fixture
def a1111_fake(_a1111_fake_server) -> FakeService:
    _a1111_fake_server.reset()
    return _a1111_fake_server
