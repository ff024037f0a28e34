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
