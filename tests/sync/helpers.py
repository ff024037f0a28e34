"""Helpers of the sync tests."""

from __future__ import annotations

import asyncio

import httpx

from tests.marketplace.helpers import PASSWORD, story_body, unique  # noqa: F401


def register(server_url: str, prefix: str = "u") -> tuple[str, str]:
    """A new account on the server (username, password), not signed in."""
    username = unique(prefix)
    r = httpx.post(server_url + "/v1/accounts",
                   json={"username": username, "password": PASSWORD}, timeout=60)
    assert r.status_code == 201, r.text
    return username, PASSWORD


def run(coro):
    """Run a coroutine on a fresh event loop (no qtbot or Qt loop at this layer)."""
    return asyncio.run(coro)


async def run_db(fn, *args):
    """The drainer's ``run_db`` in tests: the sync function in a worker thread."""
    return await asyncio.to_thread(fn, *args)


def studio_windows(qtbot, tmp_path, monkeypatch, base_url: str):
    """A factory of studio main windows, each on a data folder of its own and signed to the
    marketplace at ``base_url``; a generator: the windows close when it ends (use it from a
    fixture with ``yield from``)."""
    from studio.app import build_main_window

    monkeypatch.setenv("STUDIO_MARKETPLACE_URL", base_url)
    made = []

    def make(name: str):
        folder = tmp_path / name
        folder.mkdir()
        window = build_main_window(folder)
        qtbot.addWidget(window)
        window.show()
        window.start()
        qtbot.waitUntil(lambda: window.document is not None, timeout=15_000)
        window.start_marketplace()
        qtbot.waitUntil(lambda: window.marketplace.status is not None, timeout=15_000)
        made.append(window)
        return window

    yield make
    for window in made:
        window.close()
        window.runner.shutdown()
        window.db.close()
