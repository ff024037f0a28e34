"""The marketplace client against real servers (SQLite and PostgreSQL) and misbehaving ones."""

from __future__ import annotations

import asyncio
import re

import pytest

from studio.sync import credentials
from studio.sync.client import MarketplaceClient, TokenSource
from studio.sync.errors import (
    Cancelled, ConflictError, MarketplaceError, Offline, QuotaExceeded, Refused, ServerFault,
    SignInRequired,
)
from tests.sync.helpers import register, run, story_body, unique


async def signed_in(server_url: str, prefix: str = "u") -> MarketplaceClient:
    """A client signed in as a new user, its tokens in the (test) keyring."""
    username, password = register(server_url, prefix)
    client = MarketplaceClient(server_url,
                               tokens=TokenSource.from_keyring(server_url, username))
    await client.login(username, password)
    return client


def test_register_login_me_and_logout_keep_tokens_only_in_the_keyring(marketplace):
    url = marketplace.base_url

    async def scenario():
        username = unique("ann")
        async with MarketplaceClient(url) as client:
            user = await client.register(username, "correct horse battery")
            assert user["username"] == username
            with pytest.raises(ConflictError, match="taken"):
                await client.register(username, "correct horse battery")
            with pytest.raises(Refused, match="Wrong username or password"):
                await client.login(username, "wrong password!")
            with pytest.raises(SignInRequired, match="Sign in to the marketplace"):
                await client.me()
        source = TokenSource.from_keyring(url, username)
        assert source.access_token is None
        async with MarketplaceClient(url, tokens=source) as client:
            tokens = await client.login(username, "correct horse battery")
            assert tokens["access_token"].startswith("sa_") or tokens["access_token"]
            assert tokens["expires_at"] > tokens["expires_in"]  # absolute time added
            stored = credentials.load_tokens(url, username)
            assert stored["refresh_token"] == tokens["refresh_token"]
            assert (await client.me())["username"] == username
            assert (await client.meta())["api_version"]
            await client.logout()
            assert credentials.load_tokens(url, username) is None
            with pytest.raises(SignInRequired):
                await client.me()

    run(scenario())


def test_an_expired_access_token_is_refreshed_once_and_saved(marketplace):
    url = marketplace.base_url

    async def scenario():
        client = await signed_in(url)
        username = client.tokens.username
        old = credentials.load_tokens(url, username)
        # the server expires the access token (as an hour would)
        marketplace.sql("UPDATE auth_tokens SET expires_at = ? WHERE kind = 'access'",
                        ("2000-01-01 00:00:00",))
        assert (await client.me())["username"] == username
        new = credentials.load_tokens(url, username)
        assert new["access_token"] != old["access_token"]
        assert new["refresh_token"] != old["refresh_token"]  # rotated, and saved
        # several requests meeting an expired token at once make one refresh between them
        # (a refresh token works once: a second refresh would end the session)
        marketplace.sql("UPDATE auth_tokens SET expires_at = ? WHERE kind = 'access'",
                        ("2000-01-01 00:00:00",))
        results = await asyncio.gather(*(client.me() for _ in range(5)))
        assert {r["username"] for r in results} == {username}
        assert (await client.me())["username"] == username
        await client.aclose()

    run(scenario())


def test_a_revoked_session_means_sign_in_required_and_forgets_the_tokens(marketplace):
    url = marketplace.base_url

    async def scenario():
        client = await signed_in(url)
        username = client.tokens.username
        story = (await client.publish_story(story_body(["Once."]), unique("k")))["story"]
        # the session ends elsewhere (log-out on another device, an admin…)
        async with MarketplaceClient(url, tokens=TokenSource(client.tokens.tokens)) as other:
            await other.logout()
        with pytest.raises(SignInRequired, match="expired or was ended; sign in again"):
            await client.like(story["id"], unique("k"))
        assert credentials.load_tokens(url, username) is None
        assert client.tokens.access_token is None
        # reading public data does not need the sign-in
        assert (await client.story(story["id"]))["id"] == story["id"]
        await client.aclose()

    run(scenario())


def test_a_stale_token_does_not_stop_public_reads(marketplace):
    async def scenario():
        source = TokenSource({"access_token": "sa_stale", "refresh_token": "sr_stale"})
        async with MarketplaceClient(marketplace.base_url, tokens=source) as client:
            page = await client.browse(limit=1)
            assert "items" in page
        assert source.access_token is None  # the refused refresh token was forgotten

    run(scenario())


def test_publish_browse_versions_and_content_with_progress(marketplace):
    async def scenario():
        client = await signed_in(marketplace.base_url, "writer")
        word, tag = unique("word"), unique("tag")[:20]
        texts = [f"Segment {i}: " + "the rain kept falling on the harbour. " * 12
                 for i in range(150)]
        body = story_body(texts, title=f"The {word} harbour", tags=[tag], genre="Mystery")
        first = await client.publish_story(body, unique("key"))
        story_id = first["story"]["id"]
        assert first["version"]["number"] == 1
        again = await client.publish_story(body, unique("key"))  # another story, same texts
        second = await client.publish_version(
            story_id, {"changelog": "Second", "content": body["content"]}, unique("key"))
        assert second["version"]["number"] == 2

        found = await client.browse(q=word, tags=[tag], genre="mystery")
        assert {s["id"] for s in found["items"]} == {story_id, again["story"]["id"]}
        page1 = await client.browse(q=word, limit=1)
        page2 = await client.browse(q=word, limit=1, cursor=page1["next_cursor"])
        assert page1["items"][0]["id"] != page2["items"][0]["id"]
        assert page2["next_cursor"] is None
        assert (await client.story(story_id))["title"] == f"The {word} harbour"
        versions = await client.versions(story_id)
        assert [v["number"] for v in versions["items"]] == [1, 2]
        assert (await client.version(story_id, 2))["changelog"] == "Second"
        assert (await client.lineage(story_id))["forked_by"] == []

        seen: list[tuple[int, int | None]] = []
        content = await client.version_content(story_id, 2,
                                               progress=lambda n, t: seen.append((n, t)))
        segments = content["content"]["manuscript"]["chapters"][0]["scenes"][0]["segments"]
        assert segments[0]["text"] == texts[0]
        total = seen[-1][1]
        assert total is not None and total > 50_000
        assert seen[0] == (0, total) and seen[-1][0] == total
        assert [n for n, _ in seen] == sorted(n for n, _ in seen) and len(seen) > 2

        analysis = await client.analysis(story_id, 1)
        assert "analysis" in analysis or analysis["pending"] is True
        await client.aclose()

    run(scenario())


def test_the_same_idempotency_key_publishes_once(marketplace):
    async def scenario():
        client = await signed_in(marketplace.base_url)
        title, key = unique("Once "), unique("key")
        body = story_body(["Only once."], title=title)
        one = await client.publish_story(body, key)
        two = await client.publish_story(body, key)  # e.g. a retry after a lost answer
        assert one == two
        with pytest.raises(Refused, match="already sent to the marketplace with different"):
            await client.publish_story({**body, "title": title + " changed"}, key)
        await client.aclose()
        return one["story"]["id"], title

    story_id, title = run(scenario())
    rows = marketplace.sql("SELECT count(*) FROM stories WHERE title = ?", (title,))
    assert rows[0][0] == 1


def test_likes_reports_forks_and_remixes(marketplace):
    async def scenario():
        alice = await signed_in(marketplace.base_url, "alice")
        bob = await signed_in(marketplace.base_url, "bob")
        source = await alice.publish_story(
            story_body(["One.", "Two."], title=unique("Source ")), unique("k"))
        sid = source["story"]["id"]
        liked = await bob.like(sid, unique("k"))
        assert liked["liked"] is True and liked["likes"] == 1
        assert (await bob.unlike(sid, unique("k")))["likes"] == 0
        flag = await bob.report("story", sid, "spam", "Looks like an advert", unique("k"))
        assert flag["id"].startswith("fl_")
        with pytest.raises(ConflictError, match="already reported") as info:
            await bob.report("story", sid, "spam", "", unique("k"))
        assert info.value.code == "already_reported"
        with pytest.raises(Refused, match="own"):
            await alice.report("story", sid, "spam", "", unique("k"))
        fork = await bob.create_fork(sid, 1, unique("k"))
        assert fork["id"].startswith("fk_")
        edited = await bob.edit_fork_segments(fork["id"], {"seg_0": "Uno."}, unique("k"))
        assert edited["modified"] == 1
        await bob.edit_fork_parts(fork["id"], {"modules": {"idea": {"premise": "remix"}}},
                                  unique("k"))
        remix = await bob.publish_remix(fork["id"], {"title": unique("Remix "),
                                                     "licence": "CC-BY"}, unique("k"))
        assert remix["version"] == 1
        assert remix["story"]["forked_from"]["story_id"] == sid
        with pytest.raises(Refused, match="No fork") as info:
            await alice.edit_fork_segments(fork["id"], {"seg_0": "x"}, unique("k"))
        assert info.value.status == 404
        with pytest.raises(Refused, match="licence"):
            await alice.publish_story({**story_body(["x"]), "licence": "GPL"}, unique("k"))
        await alice.aclose()
        await bob.aclose()

    run(scenario())


def test_community_chapters_and_voice_templates(marketplace):
    from tests.marketplace.test_community import chapter_doc, template_body

    async def scenario():
        client = await signed_in(marketplace.base_url, "comm")
        tag = unique("t")[:20]
        chapter = (await client._request(  # publishing these is not the client's job (yet)
            "POST", "/v1/chapters", auth="required", key=unique("k"),
            body={"title": unique("Chapter "), "licence": "CC-BY", "tags": [tag],
                  "chapter": chapter_doc()}))["chapter"]
        template = await client._request("POST", "/v1/voice-templates", auth="required",
                                         key=unique("k"), body=template_body(tags=[tag]))
        listed = await client.chapters(tags=[tag])
        assert [c["id"] for c in listed["items"]] == [chapter["id"]]
        assert (await client.chapter(chapter["id"]))["title"] == chapter["title"]
        assert (await client.chapter_versions(chapter["id"]))["items"][0]["number"] == 1
        seen = []
        got = await client.chapter_content(chapter["id"], 1,
                                           progress=lambda n, t: seen.append(n))
        assert got["chapter"]["title"] == "The Gate" and seen[-1] > 0
        templates = await client.voice_templates(tags=[tag], emotion="fear")
        assert [t["id"] for t in templates["items"]] == [template["id"]]
        assert (await client.voice_template(template["id"]))["name"] == template["name"]
        downloaded = await client.voice_template_content(template["id"])
        assert downloaded["parameters"]["pitch"] == 1.15 and downloaded["attribution"]
        await client.aclose()

    run(scenario())


def test_a_quota_refusal_is_quota_exceeded_with_its_numbers(tight_quota_server):
    async def scenario():
        client = await signed_in(tight_quota_server.base_url)
        await client.publish_story(story_body(["One."]), unique("k"))
        with pytest.raises(QuotaExceeded, match="may keep 1 stor") as info:
            await client.publish_story(story_body(["Two."]), unique("k"))
        assert (info.value.quota, info.value.limit, info.value.usage) == ("items", 1, 1)
        assert info.value.status == 403
        await client.aclose()

    run(scenario())


# --- no server, broken servers --------------------------------------------------------------

def test_nothing_listening_is_offline(closed_port_url):
    async def scenario():
        async with MarketplaceClient(closed_port_url, timeout=5) as client:
            with pytest.raises(Offline, match="cannot reach the marketplace"):
                await client.meta()
            with pytest.raises(Offline):
                await client.browse()

    run(scenario())


def test_an_unknown_host_is_offline():
    async def scenario():
        async with MarketplaceClient("http://marketplace.invalid", timeout=5) as client:
            with pytest.raises(Offline):
                await client.meta()

    run(scenario())


@pytest.mark.parametrize("mode, error, words", [
    ("garbage", ServerFault, "does not understand"),
    ("list", ServerFault, "does not understand"),
    ("error500", ServerFault, "problem on its side (HTTP 500)"),
    ("error503", ServerFault, "database is busy"),
    ("html404", ServerFault, "Is this the address of a Story Studio marketplace"),
    ("redirect", ServerFault, "https://elsewhere.example/"),
    ("hangup", Offline, "lost before the transfer finished"),
    ("truncated", Offline, "lost before the transfer finished"),
])
def test_misbehaving_servers_map_to_clear_errors(misbehaving, mode, error, words):
    async def scenario():
        async with MarketplaceClient(misbehaving.url(mode), timeout=5) as client:
            with pytest.raises(error, match=re.escape(words)) as info:
                await client.story("st_abc")
            assert isinstance(info.value, MarketplaceError)
            assert "Traceback" not in str(info.value)

    run(scenario())


def test_a_server_that_never_answers_times_out_as_offline(misbehaving):
    async def scenario():
        async with MarketplaceClient(misbehaving.url("stall"), timeout=0.5) as client:
            with pytest.raises(Offline, match="did not answer in time"):
                await client.meta()

    run(scenario())


def test_a_download_cut_mid_transfer_is_offline_after_partial_progress(misbehaving):
    async def scenario():
        seen = []
        async with MarketplaceClient(misbehaving.url("truncated")) as client:
            with pytest.raises(Offline):
                await client.version_content("st_x", 1,
                                             progress=lambda n, t: seen.append((n, t)))
        assert seen[0] == (0, 5000) and seen[-1] == (1000, 5000)

    run(scenario())


def test_cancelling_a_download(misbehaving):
    async def scenario():
        async with MarketplaceClient(misbehaving.url("slow")) as client:
            # cancelling the task: asyncio's CancelledError propagates
            started = asyncio.Event()

            def progress(n, total):
                if n > 0:
                    started.set()

            task = asyncio.create_task(client.version_content("st_x", 1, progress=progress))
            await asyncio.wait_for(started.wait(), 10)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

            # the progress callback raising Cancelled (a Cancel button): Cancelled propagates
            def stop_after_3k(n, total):
                assert total == 200_000
                if n >= 3000:
                    raise Cancelled("Download cancelled.")

            loop = asyncio.get_running_loop()
            t0 = loop.time()
            with pytest.raises(Cancelled):
                await client.version_content("st_x", 1, progress=stop_after_3k)
            assert loop.time() - t0 < 5  # long before the 10 s the whole body takes

    run(scenario())
