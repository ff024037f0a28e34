"""The marketplace services with the real outbox drainer and a real marketplace (a SQLite
server in a subprocess): Ann publishes twice while nothing has landed yet, Bob downloads,
forks (registering the fork), edits and publishes a remix; Ann publishes v3, Bob pulls it."""

from __future__ import annotations

import random

from studio.services import (
    forking, manuscript, marketplace_ops, portability, publishing, pulling, reference_cache,
    stories,
)
from studio.store.database import Database
from studio.store.repositories import outbox as outbox_repo
from studio.sync.client import MarketplaceClient, TokenSource
from studio.sync.operations import SENDERS
from studio.sync.outbox import Handler, OutboxDrainer
from tests.services._marketplace_content import story_texts
from tests.sync.conftest import mkt_sqlite  # noqa: F401 (fixture)
from tests.sync.helpers import register, run, run_db, unique

META = {"title": "", "licence": "CC-BY", "description": "Gull Rock", "tags": ["sea"]}


class Author:
    """A local library and the drainer that sends its outbox, signed in as a new user."""

    def __init__(self, folder, url: str, prefix: str):
        self.db = Database.open(folder)
        self.url = url
        self.username, self.password = register(url, prefix)
        self.client = MarketplaceClient(url, tokens=TokenSource.from_keyring(url,
                                                                             self.username))
        handlers = {kind: Handler(prepare, SENDERS[kind], complete)
                    for kind, (prepare, complete) in marketplace_ops.HANDLERS.items()
                    if kind in SENDERS}
        self.drainer = OutboxDrainer(run_db, self.db, lambda _url: self.client, handlers,
                                     rng=random.Random(3))

    async def sign_in(self):
        await self.client.login(self.username, self.password)

    async def download(self, story_id: str, number: int) -> int:
        detail = await self.client.story(story_id)
        await run_db(reference_cache.cache_story, self.db, self.url, detail)
        answer = await self.client.version_content(story_id, number)
        return await run_db(reference_cache.cache_version, self.db, self.url, story_id, number,
                            answer.get("changelog", ""), answer["content"])

    async def close(self):
        await self.client.aclose()
        self.db.close()


def edit(db, story_id: int, scene_uid: str, index: int, text: str) -> None:
    paragraphs = [s.text for s in manuscript.load_scene(db, story_id, scene_uid).segments]
    paragraphs[index] = text
    manuscript.save_scene_text(db, story_id, scene_uid, "\n\n".join(paragraphs))


def test_publish_fork_remix_and_pull_through_a_real_marketplace(mkt_sqlite, tmp_path):  # noqa: F811
    url = mkt_sqlite.base_url
    title = unique("Lighthouse ")

    async def scenario():
        ann = Author(tmp_path / "ann", url, "ann")
        bob = Author(tmp_path / "bob", url, "bob")
        try:
            await ann.sign_in()
            await bob.sign_in()
            # Ann: two publishes queued before either landed → one story, versions 1 and 2
            story = portability.import_sample(ann.db).id
            meta = {**META, "title": title}
            publishing.enqueue_publish(ann.db, story, url, meta, "First version")
            first_scene = manuscript.outline(ann.db, story).chapters[0].scenes[0].uid
            publishing.enqueue_publish(ann.db, story, url, meta, "Second thoughts")
            assert await ann.drainer.drain() == 2
            status = pulling.publish_status(ann.db, story)
            remote, number = status.remote_story_id, status.remote_version
            assert number == 2
            versions = (await ann.client.versions(remote))["items"]
            assert [v["number"] for v in versions] == [1, 2]

            # Bob: download v2, fork it, register the fork on the server
            ref = await bob.download(remote, 2)
            fork = await run_db(forking.fork_reference, bob.db, ref)
            assert story_texts(bob.db, fork) == story_texts(ann.db, story)
            with bob.db.session() as s:  # as the marketplace panel queues it after forking
                outbox_repo.enqueue(s, url, "register_fork", "Fork",
                                    {"story_id": remote, "version": 2}, story_id=fork)
            assert await bob.drainer.drain() == 1

            # Bob edits one paragraph and a module, and publishes a remix
            bob_scene = manuscript.outline(bob.db, fork).chapters[1].scenes[0].uid
            edit(bob.db, fork, bob_scene, 0, "Bob's own opening.")
            out = stories.open_story(bob.db, fork).modules["idea_spark"].output
            stories.save_module(bob.db, fork, "idea_spark", "Bob's idea.", out)
            publishing.enqueue_remix(bob.db, fork, url, {**META, "title": title + " (remix)"},
                                     "Bob's cut")
            assert await bob.drainer.drain() == 1
            remix = pulling.publish_status(bob.db, fork)
            assert remix.remote_story_id and remix.remote_story_id != remote
            detail = await bob.client.story(remix.remote_story_id)
            assert detail["forked_from"]["story_id"] == remote
            assert detail["forked_from"]["version"] == 2
            served = (await bob.client.version_content(remix.remote_story_id, 1))["content"]
            mine = publishing.publish_content(bob.db, fork)
            assert served["manuscript"] == mine["manuscript"]
            assert served["modules"]["idea_spark"]["input"] == "Bob's idea."

            # Ann publishes v3 (one paragraph Bob edited, one he did not); Bob pulls it
            edit(ann.db, story, bob_scene, 0, "Ann's new opening.")
            edit(ann.db, story, first_scene, 1, "Ann revised this.")
            publishing.enqueue_publish(ann.db, story, url, meta, "v3")
            assert await ann.drainer.drain() == 1
            target = await bob.download(remote, 3)
            plan = pulling.plan_pull(bob.db, fork, target)
            assert len(plan.applied) == 1 and len(plan.conflicts) == 1
            pulling.apply_pull(bob.db, fork, plan, {plan.conflicts[0].segment_id: "both"})
            texts = [s.text for s in manuscript.load_scene(bob.db, fork, bob_scene).segments]
            assert texts[:2] == ["Ann's new opening.", "Bob's own opening."]
            assert "Ann revised this." in story_texts(bob.db, fork).values()
        finally:
            await ann.close()
            await bob.close()

    run(scenario())
