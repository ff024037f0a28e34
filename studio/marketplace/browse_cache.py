"""A short-lived, per-process cache of anonymous ``GET /v1/stories`` answers.

Most browse traffic is anonymous visitors asking for the same few pages (the first pages of
recent / popular / trending, popular genres and tags).  On 2 CPUs a closed loop of 50 clients
cannot be served in ~20 ms each if every request runs its queries (bench/README.md), so this
ASGI middleware keeps each anonymous answer ``ttl`` seconds (``Settings.browse_cache_seconds``,
2 s by default; 0 turns it off) and serves it again without touching the app or the database.

What is cached, and why nothing private is:

- only ``GET /v1/stories`` requests **without** an ``Authorization`` header, and only their
  200 answers.  Browse lists listed stories only (public, not hidden, not deleted) and, for an
  anonymous caller, shows nothing that depends on who asks (``liked_by_me`` is null, a
  remix's source is named only when it is public).  Logged-in callers always get a fresh
  answer: theirs carry their own ``liked_by_me`` and may name sources only they can see.
- the key is the query as the app parses it (``parse_qsl``, like Starlette): the parameters
  grouped by name in a fixed order, each name's values kept in their order, a parameter
  given once with its default value (``sort=recent``, ``offset=0``, ``limit=20``) left out,
  ASCII tags and genres in lower case (``_normal``).  Two requests with one key get the same
  answer from the app, valid or not.

Staleness is bounded by ``ttl``: a story published, changed, unlisted, hidden or deleted shows
up (or disappears) in anonymous pages at most ``ttl`` seconds later, in every process (each
has its own cache, nothing is shared).  Concurrent misses of one key wait for the first
(single flight), so an expiring popular page costs one query, not one per waiting client.
The answers carry ``X-Cache: hit`` or ``miss``.  Memory is bounded by ``max_bytes`` (least
recently used answers go first).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass
from urllib.parse import parse_qsl

PATH = "/v1/stories"
DEFAULTS = {"sort": "recent", "offset": "0", "limit": "20"}  # browse's parameter defaults


def _normal(name: str, value: str) -> str:
    """What browse's validation does first to a value, where it never changes whether the
    value is valid: ASCII tags are stripped and lower-cased (``schemas.Tag``), an ASCII genre
    lower-cased (the filter ignores case; same length, so same ``max_length`` verdict)."""
    if value.isascii():
        if name == "tags":
            return value.strip().lower()
        if name == "genre":
            return value.lower()
    return value


def cache_key(query_string: bytes) -> tuple[tuple[str, str], ...]:
    """The normalised query (see the module's docstring)."""
    pairs = [(n, _normal(n, v))
             for n, v in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)]
    counts = Counter(name for name, _ in pairs)
    kept = [(n, v) for n, v in pairs if not (counts[n] == 1 and DEFAULTS.get(n) == v)]
    return tuple(sorted(kept, key=lambda pair: pair[0]))  # stable: values keep their order


@dataclass
class _Entry:
    at: float
    headers: list[tuple[bytes, bytes]]
    body: bytes


class BrowseCache:
    def __init__(self, app, ttl: float, max_bytes: int = 32 * 2**20):
        self.app = app
        self.ttl = ttl
        self.max_bytes = max_bytes
        self.entries: OrderedDict[tuple, _Entry] = OrderedDict()
        self.bytes = 0
        self.inflight: dict[tuple, asyncio.Future] = {}
        self.hits = self.misses = 0

    async def __call__(self, scope, receive, send):
        if (self.ttl <= 0 or scope["type"] != "http" or scope["method"] != "GET"
                or scope["path"] != PATH
                or any(name == b"authorization" for name, _ in scope["headers"])):
            return await self.app(scope, receive, send)
        key = cache_key(scope.get("query_string", b""))
        entry = self._fresh(key)
        if entry is None and key in self.inflight:  # someone is fetching it: wait for that
            entry = await asyncio.shield(self.inflight[key])
            if entry is None:  # it was not a 200 (or it failed): no answer to share
                self.misses += 1
                return await self.app(scope, receive, send)
        if entry is not None:
            self.hits += 1
            return await self._replay(entry, send)
        self.misses += 1
        return await self._fetch(key, scope, receive, send)

    def _fresh(self, key: tuple) -> _Entry | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        if time.monotonic() - entry.at >= self.ttl:
            self._drop(key)
            return None
        self.entries.move_to_end(key)
        return entry

    async def _fetch(self, key: tuple, scope, receive, send) -> None:
        """Run the app (sending its answer as it comes) and keep a complete 200 answer."""
        started = time.monotonic()  # the answer is at least this fresh
        future = asyncio.get_running_loop().create_future()
        self.inflight[key] = future
        head: dict = {}
        chunks: list[bytes] = []
        complete = False

        async def capture(message) -> None:
            nonlocal complete
            if message["type"] == "http.response.start":
                head.update(message)
                message = {**message, "headers": [*message.get("headers", []),
                                                   (b"x-cache", b"miss")]}
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                complete = not message.get("more_body", False)
            await send(message)

        entry = None
        try:
            await self.app(scope, receive, capture)
            if head.get("status") == 200 and complete:
                entry = _Entry(started, list(head.get("headers", [])), b"".join(chunks))
                self._store(key, entry)
        finally:
            del self.inflight[key]
            future.set_result(entry)  # None: the waiters run the app themselves

    def _store(self, key: tuple, entry: _Entry) -> None:
        if len(entry.body) > self.max_bytes // 4:
            return
        if key in self.entries:
            self._drop(key)
        self.entries[key] = entry
        self.bytes += len(entry.body)
        while self.bytes > self.max_bytes:
            self._drop(next(iter(self.entries)))

    def _drop(self, key: tuple) -> None:
        self.bytes -= len(self.entries.pop(key).body)

    async def _replay(self, entry: _Entry, send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*entry.headers, (b"x-cache", b"hit")]})
        await send({"type": "http.response.body", "body": entry.body})
