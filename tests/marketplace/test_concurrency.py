"""Many readers at once: counted reads (views, downloads) must not exhaust the connection pool.

A story's detail and content count a view or download in a short transaction of their own.  A
request that took that second connection while still holding its first one deadlocked the pool
as soon as a worker ran more such requests at once than it has connections (5 + 10 overflow):
every request waited the 30 s pool timeout and answered 500.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.marketplace.helpers import publish

READERS = 64  # each PostgreSQL test worker gets ~32 at once: twice its pool


def test_a_burst_of_counted_reads_is_served_and_every_read_is_counted(server, alice):
    # Enough text that a content read holds its connection a while.
    story = publish(alice, [f"Paragraph {i}. " * 40 for i in range(300)])["story"]
    sid = story["id"]
    paths = [f"/v1/stories/{sid}", f"/v1/stories/{sid}/versions/1/content"] * (READERS // 2)
    start = threading.Barrier(READERS)

    def read(path: str) -> int:
        with httpx.Client(base_url=server.base_url, timeout=60) as client:
            client.get("/v1/meta")  # connected before the burst
            start.wait()
            return client.get(path).status_code

    started = time.monotonic()
    with ThreadPoolExecutor(READERS) as pool:
        codes = list(pool.map(read, paths))
    elapsed = time.monotonic() - started
    assert codes == [200] * READERS
    assert elapsed < 25, f"{READERS} reads took {elapsed:.1f} s: connections were starved"
    stats = alice.get(f"/v1/stories/{sid}").json()["stats"]
    assert stats["downloads"] == READERS // 2
    assert stats["views"] == READERS // 2 + 1  # this read counts itself too
