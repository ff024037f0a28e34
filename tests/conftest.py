"""Shared fixtures.  Qt runs offscreen; every test gets its own data folder and settings."""

from __future__ import annotations

import gc
import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import keyring  # noqa: E402
import keyring.backend  # noqa: E402
import keyring.errors  # noqa: E402
import pytest  # noqa: E402

from studio.store.database import Database  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

# Every property-based test runs the same examples on every run: CI is repeatable.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("repeatable", derandomize=True)
_hypothesis_settings.load_profile("repeatable")


@pytest.fixture
def qt_loop(qapp):
    """qasync's loop over the Qt loop that pytest-qt spins (STACK_NOTES), current for the test.
    qasync registers an ``already_running`` loop as the thread's *running* loop; that is undone
    after, or a later test's ``asyncio.run`` would refuse to start."""
    import asyncio

    import qasync

    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)


@pytest.fixture(autouse=True)
def _collect_garbage():
    """Collect after each test so Qt and SQLite objects die in the test that made them."""
    yield
    gc.collect()


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring in memory: no test ever reads or writes the machine's real keyring."""

    priority = 1

    def __init__(self):
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.items[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError(f"no password for {username!r}") from None


@pytest.fixture(autouse=True)
def memory_keyring():
    """Every test gets a fresh in-memory keyring (the previous backend comes back after)."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def _migrated_database(tmp_path_factory) -> Path:
    """One database file migrated to the head, made once per run: a test's ``db`` starts as a
    copy of it (Alembic's eight migrations cost ~0.1 s a test; the migration tests open their
    own folders and still migrate from empty)."""
    from studio.store.database import DATABASE_FILENAME

    folder = tmp_path_factory.mktemp("migrated")
    Database.open(folder).close()
    return folder / DATABASE_FILENAME


@pytest.fixture
def db(data_dir: Path, _migrated_database: Path):
    import shutil

    leftovers = [Path(f"{_migrated_database}{suffix}") for suffix in ("-wal", "-shm")]
    if not any(p.exists() for p in leftovers):  # a whole, checkpointed file only
        shutil.copyfile(_migrated_database, data_dir / _migrated_database.name)
    database = Database.open(data_dir)
    yield database
    database.close()
