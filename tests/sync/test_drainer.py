"""The outbox drainer against real marketplaces: offline, lost answers, refusals, sign-outs.

The handlers' ``prepare``/``complete`` here are test-local stand-ins for the services' ones:
they keep the "local links" (story → remote story id, remix → server fork id) in memory.
The ``send`` halves are the real ones (``studio.sync.operations``).
"""

from __future__ import annotations

import asyncio
import random
import threading

import pytest

from studio.domain.errors import NotFoundError
from studio.store.models import utcnow
from studio.store.repositories import outbox as repo
from studio.sync.client import MarketplaceClient, TokenSource
from studio.sync.operations import SENDERS
from studio.sync.outbox import Handler, OutboxDrainer, SyncStatus, backoff_delay
from tests.sync.helpers import register, run, run_db, story_body, unique


class Local:
    """What the local database would record about published stories and remixes."""

    def __init__(self):
        self.lock = threading.Lock()
        self.remote: dict[str, str] = {}  # local story name → remote story id
        self.forks: dict[str, str] = {}   # local remix name → server fork id
        self.completed: list[int] = []

    def payload(self, db, entry_id: int) -> dict:
        with db.session() as s:
            return repo.payload(repo.get(s, entry_id))

    def handlers(self) -> dict[str, Handler]:
        def prepare_publish(db, entry_id):
            p = self.payload(db, entry_id)
            return {"remote_story_id": self.remote.get(p["local"]),
                    "meta": {"title": p["title"], "licence": p.get("licence", "CC-BY"),
                             "tags": [], "description": "", "genre": "",
                             "visibility": "public"},
                    "content": story_body(p["texts"])["content"],
                    "changelog": p.get("changelog", "")}

        def complete_publish(db, entry_id, result):
            p = self.payload(db, entry_id)
            with self.lock:
                self.remote[p["local"]] = result["remote_story_id"]
                self.completed.append(entry_id)

        def prepare_story_ref(db, entry_id):
            p = self.payload(db, entry_id)
            if p["local"] not in self.remote:
                raise NotFoundError(f"the story {p['local']!r} is not published yet")
            return {"story_id": self.remote[p["local"]], **p.get("extra", {})}

        def prepare_report(db, entry_id):
            spec = prepare_story_ref(db, entry_id)
            return {"item_type": "story", "item_id": spec["story_id"], "reason": "spam",
                    "note": ""}

        def prepare_remix(db, entry_id):
            p = self.payload(db, entry_id)
            return {"source_story_id": p["source"], "source_version": 1,
                    "remote_fork_id": self.forks.get(p["local"]),
                    "segments": p["segments"], "parts": p.get("parts"),
                    "meta": {"title": p["title"], "licence": "CC-BY"},
                    "changelog": "A remix"}

        def complete_remix(db, entry_id, result):
            p = self.payload(db, entry_id)
            with self.lock:
                self.forks[p["local"]] = result["fork_id"]
                self.remote[p["local"]] = result["remote_story_id"]
                self.completed.append(entry_id)

        def complete_other(db, entry_id, result):
            with self.lock:
                self.completed.append(entry_id)

        return {
            "publish": Handler(prepare_publish, SENDERS["publish"], complete_publish),
            "like": Handler(prepare_story_ref, SENDERS["like"], complete_other),
            "unlike": Handler(prepare_story_ref, SENDERS["unlike"], complete_other),
            "report": Handler(prepare_report, SENDERS["report"], complete_other),
            "publish_remix": Handler(prepare_remix, SENDERS["publish_remix"], complete_remix),
        }


class Harness:
    """A drainer over the test's local database, its clients signed in from the keyring."""

    def __init__(self, db, username: str | None, **options):
        self.db, self.username = db, username
        self.local = Local()
        self.clients: dict[str, MarketplaceClient] = {}
        self.statuses: list[SyncStatus] = []
        options.setdefault("base_delay", 0.2)
        options.setdefault("max_delay", 1.0)
        self.drainer = OutboxDrainer(run_db, db, self.client_for, self.local.handlers(),
                                     on_status=self.statuses.append,
                                     rng=random.Random(7), **options)

    def client_for(self, server_url: str) -> MarketplaceClient:
        if server_url not in self.clients:
            tokens = (TokenSource.from_keyring(server_url, self.username)
                      if self.username else TokenSource())
            self.clients[server_url] = MarketplaceClient(server_url, tokens=tokens, timeout=10)
        return self.clients[server_url]

    async def close(self):
        for client in self.clients.values():
            await client.aclose()

    def add(self, server_url: str, kind: str, **payload) -> int:
        with self.db.session() as s:
            return repo.enqueue(s, server_url, kind, f"{kind} {payload.get('local', '')}",
                                payload).id

    def entry(self, entry_id: int):
        with self.db.session() as s:
            return repo.get(s, entry_id)

    def states(self, *ids: int) -> list[str]:
        return [self.entry(i).state for i in ids]


async def sign_in(server_url: str, prefix: str = "u") -> str:
    """Register and sign in; the tokens go to the (test) keyring, as the app does."""
    username, password = register(server_url, prefix)
    async with MarketplaceClient(server_url,
                                 tokens=TokenSource.from_keyring(server_url, username)) as c:
        await c.login(username, password)
    return username


async def wait_out_backoff(h: Harness, timeout: float = 15.0) -> None:
    """Sleep until the next planned retry is due."""
    delay = h.drainer.status.next_retry_in
    assert delay is not None and delay <= timeout
    await asyncio.sleep(delay + 0.05)


# --- the scenarios -----------------------------------------------------------------------------

def test_entries_made_offline_wait_with_back_off_and_land_once_in_order(marketplace, db):
    url = marketplace.base_url
    title = unique("Offline ")

    async def scenario():
        username = await sign_in(url, "off")
        h = Harness(db, username)
        marketplace.stop()  # the author works on while the marketplace is unreachable
        try:
            first = h.add(url, "publish", local="s1", title=title, texts=["One.", "Two."])
            like = h.add(url, "like", local="s1")
            second = h.add(url, "publish", local="s1", title=title, texts=["One!", "Two!"],
                           changelog="Second draft")
            assert await h.drainer.drain() == 0
            e = h.entry(first)
            assert e.state == "pending" and e.attempts == 1
            assert "cannot reach the marketplace" in e.last_error
            assert repo.next_attempt_at(e) > utcnow()
            assert h.entry(like).attempts == 0 and h.entry(second).attempts == 0
            status = h.drainer.status
            assert status.state == "offline" and status.waiting == 3
            assert status.next_retry_in is not None and 0 < status.next_retry_in <= 0.2
            assert "cannot reach" in status.last_error
            # draining again at once does not hammer the server: the back-off holds
            assert await h.drainer.drain() == 0
            assert h.entry(first).attempts == 1
            await wait_out_backoff(h)
            assert await h.drainer.drain() == 0
            assert h.entry(first).attempts == 2 and h.entry(like).attempts == 0
            assert h.drainer.status.state == "offline"
        finally:
            marketplace.start()  # same address, same database
        await wait_out_backoff(h)
        assert await h.drainer.drain() == 3
        assert h.states(first, like, second) == ["done", "done", "done"]
        assert h.local.completed == [first, like, second]  # in order
        assert h.drainer.status == SyncStatus("online", 0, "", None)
        assert [s.state for s in h.statuses][-2:] == ["syncing", "online"]
        await h.close()
        return h.local.remote["s1"]

    story_id = run(scenario())
    rows = marketplace.sql("SELECT id, latest_version FROM stories WHERE title = ?", (title,))
    assert len(rows) == 1 and rows[0][1] == 2
    assert marketplace.sql("SELECT count(*) FROM story_versions WHERE story_id = ?",
                           (rows[0][0],))[0][0] == 2
    assert marketplace.sql("SELECT count(*) FROM likes WHERE story_id = ?",
                           (rows[0][0],))[0][0] == 1
    assert marketplace.sql("SELECT public_id FROM stories WHERE id = ?",
                           (rows[0][0],))[0][0] == story_id


def test_a_publish_whose_answer_was_lost_lands_exactly_once(marketplace, proxy, db):
    url = proxy.url("proxy")  # the app talks to the marketplace through a lossy proxy
    title = unique("Lost ")

    async def scenario():
        username = await sign_in(url, "lost")
        h = Harness(db, username)
        proxy.drop("POST", r"/v1/stories", count=1)  # the server does it; the answer is lost
        entry = h.add(url, "publish", local="s1", title=title, texts=["Once upon a time."])
        assert await h.drainer.drain() == 0
        e = h.entry(entry)
        assert e.state == "pending" and "lost before the transfer finished" in e.last_error
        key = e.idempotency_key
        h.drainer.wake(retry_backoff=True)  # e.g. "retry now"
        assert await h.drainer.drain() == 1
        e = h.entry(entry)
        assert e.state == "done" and e.idempotency_key == key and e.attempts == 2
        assert repo.result(e)["remote_story_id"] == h.local.remote["s1"]
        await h.close()
        return h.local.remote["s1"]

    story_id = run(scenario())
    sent = [f for f in proxy.forwarded() if f[:2] == ("POST", "/v1/stories")]
    assert sent == [("POST", "/v1/stories", True), ("POST", "/v1/stories", False)]
    rows = marketplace.sql("SELECT public_id, latest_version FROM stories WHERE title = ?",
                           (title,))
    assert rows == [(story_id, 1)]  # one story with one version


def test_a_remix_interrupted_after_its_publish_is_finished_once(marketplace, proxy, db):
    url = proxy.url("proxy")
    title = unique("Remix ")

    async def scenario():
        author = await sign_in(url, "src")
        async with MarketplaceClient(url, tokens=TokenSource.from_keyring(url, author)) as c:
            source = (await c.publish_story(story_body(["A.", "B.", "C."]), unique("k")))
        remixer = await sign_in(url, "mix")
        h = Harness(db, remixer)
        proxy.drop("POST", r"/v1/forks/fk_[^/]+/publish", count=1)
        entry = h.add(url, "publish_remix", local="r1", source=source["story"]["id"],
                      title=title, segments={"seg_1": "B, retold."},
                      parts={"modules": {"idea": {"premise": "retold"}}})
        assert await h.drainer.drain() == 0
        assert h.entry(entry).state == "pending"
        h.drainer.wake(retry_backoff=True)
        assert await h.drainer.drain() == 1
        result = repo.result(h.entry(entry))
        await h.close()
        return remixer, result

    remixer, result = run(scenario())
    steps = [(m, p.split("/")[-1]) for m, p, _ in proxy.forwarded() if "/forks" in p]
    # every step was sent twice (the retry), the server did each once
    assert steps == [("POST", "forks"), ("PATCH", "segments"), ("PATCH", "parts"),
                     ("POST", "publish")] * 2
    forks = marketplace.sql("SELECT f.public_id FROM forks f JOIN users u ON u.id = f.owner_id "
                            "WHERE u.username = ?", (remixer,))
    assert forks == [(result["fork_id"],)]
    stories = marketplace.sql("SELECT public_id, latest_version FROM stories WHERE title = ?",
                              (title,))
    assert stories == [(result["remote_story_id"], 1)]


def test_a_refused_entry_fails_without_blocking_the_next(mkt_sqlite, db):
    url = mkt_sqlite.base_url

    async def scenario():
        username = await sign_in(url, "ref")
        h = Harness(db, username)
        bad = h.add(url, "publish", local="bad", title="Bad", texts=["x"], licence="GPL")
        good = h.add(url, "publish", local="s1", title=unique("Good "), texts=["x"])
        own = h.add(url, "report", local="s1")  # reporting one's own story is refused
        missing = h.add(url, "like", local="never-published")
        like = h.add(url, "like", local="s1")
        assert await h.drainer.drain() == 2
        assert h.states(bad, good, own, missing, like) == [
            "failed", "done", "failed", "failed", "done"]
        assert "licence" in h.entry(bad).last_error
        assert "cannot report your own story" in h.entry(own).last_error
        assert "is not published yet" in h.entry(missing).last_error
        assert h.drainer.status.state == "online" and h.drainer.status.waiting == 0
        # the author retries the refused one (same key, refused again), then cancels it
        with db.session() as s:
            repo.retry_now(s, bad)
        assert await h.drainer.drain() == 0
        assert h.entry(bad).state == "failed" and h.entry(bad).attempts == 2
        with db.session() as s:
            repo.cancel(s, bad)
        assert h.states(bad)[0] == "cancelled"
        await h.close()

    run(scenario())


def test_over_quota_fails_with_the_quota_message(tight_quota_server, db):
    url = tight_quota_server.base_url

    async def scenario():
        h = Harness(db, await sign_in(url, "quota"))
        one = h.add(url, "publish", local="s1", title=unique("One "), texts=["x"])
        two = h.add(url, "publish", local="s2", title=unique("Two "), texts=["y"])
        assert await h.drainer.drain() == 1
        assert h.states(one, two) == ["done", "failed"]
        assert "may keep 1 stor" in h.entry(two).last_error
        assert h.drainer.status.last_error == h.entry(two).last_error
        await h.close()

    run(scenario())


def test_signed_out_entries_wait_for_a_sign_in(mkt_sqlite, db):
    url = mkt_sqlite.base_url
    username, password = register(url, "later")

    async def scenario():
        h = Harness(db, username)  # nothing in the keyring yet: never signed in
        entry = h.add(url, "publish", local="s1", title=unique("Later "), texts=["x"])
        assert await h.drainer.drain() == 0
        e = h.entry(entry)
        assert e.state == "pending" and e.attempts == 1
        assert h.drainer.status.state == "signed_out"
        assert "Sign in to the marketplace" in h.drainer.status.last_error
        assert h.drainer.status.waiting == 1
        assert await h.drainer.drain() == 0  # not tried again until woken
        assert h.entry(entry).attempts == 1
        await h.client_for(url).login(username, password)  # the author signs in
        h.drainer.wake()
        assert await h.drainer.drain() == 1
        assert h.entry(entry).state == "done"
        assert h.drainer.status.state == "online"
        await h.close()

    run(scenario())


def test_server_faults_back_off_exponentially_up_to_the_cap(misbehaving, db):
    url = misbehaving.url("error500")

    async def scenario():
        h = Harness(db, None, base_delay=1.0, max_delay=4.0)
        h.clients[url] = MarketplaceClient(url, tokens=TokenSource({"access_token": "sa_x"}))
        h.local.remote["s1"] = "st_x"
        entry = h.add(url, "like", local="s1")
        delays = []
        for _ in range(5):
            await h.drainer.drain()
            e = h.entry(entry)
            delays.append((repo.next_attempt_at(e) - e.updated_at.replace(
                tzinfo=repo.next_attempt_at(e).tzinfo)).total_seconds())
            h.drainer.wake(retry_backoff=True)
        e = h.entry(entry)
        assert e.state == "pending" and e.attempts == 5
        assert "problem on its side (HTTP 500)" in e.last_error
        assert h.drainer.status.state == "offline"
        assert "HTTP 500" in h.drainer.status.last_error
        await h.close()
        return delays

    delays = run(scenario())
    for delay, ceiling in zip(delays, [1, 2, 4, 4, 4]):
        assert ceiling / 2 - 0.01 <= delay <= ceiling + 0.01, delays


def test_backoff_delay_doubles_with_jitter_and_is_capped():
    rng = random.Random(1)
    for attempts, ceiling in [(1, 2), (2, 4), (3, 8), (8, 256), (9, 300), (50, 300)]:
        values = [backoff_delay(attempts, 2.0, 300.0, rng) for _ in range(200)]
        assert min(values) >= ceiling / 2 and max(values) <= ceiling
        assert max(values) - min(values) > ceiling / 5  # really jittered


def test_an_entry_interrupted_mid_send_is_sent_again_with_its_key(mkt_sqlite, db):
    url = mkt_sqlite.base_url

    async def scenario():
        h = Harness(db, await sign_in(url, "crash"))
        entry = h.add(url, "publish", local="s1", title=unique("Crash "), texts=["x"])
        with db.session() as s:  # a previous run claimed it and died
            repo.mark_sending(s, entry)
        assert await h.drainer.drain() == 1
        e = h.entry(entry)
        assert e.state == "done" and e.attempts == 2
        await h.close()

    run(scenario())


def test_handler_problems_fail_only_their_own_entry(mkt_sqlite, db):
    url = mkt_sqlite.base_url

    async def scenario():
        h = Harness(db, await sign_in(url, "bugs"))

        async def broken_send(client, spec, key):
            raise RuntimeError("boom")

        handlers = h.drainer.handlers
        handlers["broken"] = Handler(lambda db, i: {}, broken_send, lambda db, i, r: None)
        unknown = h.add(url, "from_the_future")
        broken = h.add(url, "broken")
        good = h.add(url, "publish", local="s1", title=unique("Fine "), texts=["x"])
        assert await h.drainer.drain() == 1
        assert h.states(unknown, broken, good) == ["failed", "failed", "done"]
        assert "does not know how to send" in h.entry(unknown).last_error
        assert "internal error (RuntimeError: boom)" in h.entry(broken).last_error
        await h.close()

    run(scenario())


def test_run_forever_drains_when_woken_and_reports_its_status(mkt_sqlite, db):
    url = mkt_sqlite.base_url

    async def scenario():
        h = Harness(db, await sign_in(url, "loop"))
        task = asyncio.create_task(h.drainer.run_forever(poll=60))
        try:
            await asyncio.sleep(0.2)
            assert h.drainer.status.state == "online"
            entry = h.add(url, "publish", local="s1", title=unique("Loop "), texts=["x"])
            h.drainer.wake()
            deadline = asyncio.get_running_loop().time() + 20
            while h.entry(entry).state != "done":
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.05)
            while h.drainer.status.state != "online":
                await asyncio.sleep(0.05)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        states = [s.state for s in h.statuses]
        assert "syncing" in states and states[-1] == "online"
        assert h.statuses[-1].waiting == 0
        await h.close()

    run(scenario())


def test_run_forever_retries_when_the_back_off_ends(mkt_sqlite, db):
    url = mkt_sqlite.base_url

    async def scenario():
        h = Harness(db, await sign_in(url, "retry"), base_delay=0.3, max_delay=0.3)
        entry = h.add(url, "publish", local="s1", title=unique("Soon "), texts=["x"])
        with db.session() as s:  # it failed a moment ago and waits out its back-off
            repo.mark_sending(s, entry)
            repo.mark_retry(s, entry, "offline", delay=0.5)
        task = asyncio.create_task(h.drainer.run_forever(poll=60))
        try:
            started = asyncio.get_running_loop().time()
            while h.entry(entry).state != "done":
                assert asyncio.get_running_loop().time() - started < 10
                await asyncio.sleep(0.05)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        await h.close()

    run(scenario())
