"""Quotas: free/pro limits from the environment, items (stories + community chapters + voice
templates) and stored bytes; a clear 403 naming the limit and the usage; admins set tiers.

The shared servers have roomy quotas; these tests run against a second server on the same
database whose environment sets the limits low.
"""

from __future__ import annotations

import pytest

from tests.marketplace.conftest import Server, _account_factory, _start, _stop
from tests.marketplace.helpers import publish, story_body, unique
from tests.marketplace.test_community import chapter_doc, publish_chapter, template_body

FREE_ITEMS, PRO_ITEMS = 3, 5
STORAGE_MB = 0.05  # 52 428 bytes
LOW_QUOTAS = {"STUDIO_MARKETPLACE_QUOTA_FREE_ITEMS": str(FREE_ITEMS),
              "STUDIO_MARKETPLACE_QUOTA_FREE_STORAGE_MB": str(STORAGE_MB),
              "STUDIO_MARKETPLACE_QUOTA_PRO_ITEMS": str(PRO_ITEMS),
              "STUDIO_MARKETPLACE_QUOTA_PRO_STORAGE_MB": "1"}


def _companion(shared: Server, folder):
    if shared.backend == "sqlite":
        args = ["--data-dir", str(shared.db_path.parent)]
    else:
        args = ["--database-url", shared.pg["app_url"]]
    proc, url, sock = _start(args, folder / "server.log", env=LOW_QUOTAS)
    return Server(shared.backend, proc, url, folder / "server.log", db_path=shared.db_path,
                  pg=shared.pg), sock


@pytest.fixture(scope="session")
def low_quota_servers(tmp_path_factory):
    started: dict[str, tuple] = {}

    def get(shared: Server) -> Server:
        if shared.backend not in started:
            folder = tmp_path_factory.mktemp(f"mkt-quota-{shared.backend}")
            started[shared.backend] = _companion(shared, folder)
        return started[shared.backend][0]

    yield get
    for server, sock in started.values():
        _stop(server.proc)
        sock.close()


@pytest.fixture
def quota_server(server, low_quota_servers) -> Server:
    return low_quota_servers(server)


@pytest.fixture
def make_user(quota_server):
    make, made = _account_factory(quota_server)
    yield make
    for account in made:
        account.close()


def _quota(account) -> dict:
    r = account.get("/v1/accounts/me/quota")
    assert r.status_code == 200, r.text
    return r.json()


def test_free_users_hit_the_item_limit_with_a_clear_403(make_user):
    user = make_user("quota")
    empty = _quota(user)
    assert empty["tier"] == "free" and empty["limits"]["items"] == FREE_ITEMS
    assert empty["usage"]["items"] == 0 and empty["usage"]["storage_bytes"] == 0
    publish(user, ["one"])
    publish(user, ["two"])
    publish_chapter(user)
    r = user.post("/v1/stories", json=story_body(["four"]))
    assert r.status_code == 403, r.text
    body = r.json()
    assert body["code"] == "quota_exceeded" and body["quota"] == "items"
    assert body["limit"] == FREE_ITEMS and body["usage"] == 3
    assert body["detail"].startswith(f"Free accounts may keep {FREE_ITEMS} stories")
    assert "you have 3: 2 stories, 1 chapters, 0 voice templates" in body["detail"]
    assert "upgrade" in body["detail"]
    # chapters, templates and chapter forks count the same way
    assert user.post("/v1/voice-templates", json=template_body()).status_code == 403
    assert user.post("/v1/chapters", json={"title": "t", "licence": "CC-BY",
                                           "chapter": chapter_doc()}).status_code == 403
    other = make_user("quotaother")
    theirs = publish_chapter(other)["chapter"]["id"]
    r = user.post(f"/v1/chapters/{theirs}/forks", json={})
    assert r.status_code == 403 and r.json()["quota"] == "items"
    usage = _quota(user)["usage"]
    assert (usage["items"], usage["stories"], usage["chapters"],
            usage["voice_templates"]) == (3, 2, 1, 0)
    assert _quota(user)["remaining"]["items"] == 0
    # new versions of what one has are not new items
    sid = user.get("/v1/accounts/me/stories").json()["items"][0]["id"]
    r = user.post(f"/v1/stories/{sid}/versions",
                  json={"changelog": "v2", "content": story_body(["two, revised"])["content"]})
    assert r.status_code == 201, r.text
    # deleting a story frees its place
    assert user.delete(f"/v1/stories/{sid}").status_code == 200
    assert _quota(user)["usage"]["stories"] == 1
    publish(user, ["four"])
    assert user.post("/v1/stories", json=story_body(["five"])).status_code == 403


def test_storage_limit_counts_new_texts_and_version_json(make_user):
    user = make_user("bytes")
    nonce = unique("n")
    texts = [f"{nonce} {i} " + "x" * 9_000 for i in range(4)]  # ~36 KB of new text
    first = publish(user, texts)["story"]["id"]
    used = _quota(user)["usage"]["storage_bytes"]
    assert 36_000 < used < 40_000
    # the same texts again cost only the version's JSON (texts are stored once)
    r = user.post(f"/v1/stories/{first}/versions",
                  json={"changelog": "same", "content": story_body(texts)["content"]})
    assert r.status_code == 201, r.text
    again = _quota(user)["usage"]["storage_bytes"]
    assert 0 < again - used < 2_000
    r = user.post("/v1/stories", json=story_body([f"{nonce} new " + "y" * 20_000]))
    assert r.status_code == 403, r.text
    body = r.json()
    assert body["quota"] == "storage" and body["limit"] == int(STORAGE_MB * 1024 * 1024)
    assert body["usage"] == again and body["needed"] > 20_000
    assert body["detail"].startswith("Free accounts may store 51.2 KB; you use ")
    assert "this needs" in body["detail"]
    assert _quota(user)["usage"]["storage_bytes"] == again  # the refusal changed nothing
    assert user.get("/v1/accounts/me/stories").json()["items"][0]["id"] == first


def test_an_idempotent_repeat_is_counted_once(server, make_user):
    user = make_user("idem")
    key = {"Idempotency-Key": unique("k")}
    body = story_body(["only once " + unique()], title=unique("Once "))
    a = user.post("/v1/stories", json=body, headers=key)
    used = _quota(user)["usage"]
    b = user.post("/v1/stories", json=body, headers=key)
    assert a.status_code == b.status_code == 201 and a.json() == b.json()
    assert _quota(user)["usage"] == used and used["stories"] == 1
    assert server.sql("SELECT count(*) FROM stories WHERE title = ?", (body["title"],)) \
        == [(1,)]


def test_admins_set_tiers_and_pro_limits_apply(quota_server, make_user):
    user, admin = make_user("tiered"), make_user("admin")
    for _ in range(FREE_ITEMS):
        publish(user, ["t"])
    assert user.post("/v1/stories", json=story_body(["t"])).status_code == 403
    r = user.put(f"/v1/admin/users/{user.username}/tier", json={"tier": "pro"})
    assert r.status_code == 403 and "admins" in r.json()["detail"]
    quota_server.sql("UPDATE users SET role = 'admin' WHERE username = ?", (admin.username,))
    r = admin.put(f"/v1/admin/users/{user.username}/tier", json={"tier": "pro"},
                  headers={"Idempotency-Key": unique("k")})
    assert r.status_code == 200, r.text
    assert r.json()["tier"] == "pro" and r.json()["limits"]["items"] == PRO_ITEMS
    assert admin.put(f"/v1/admin/users/{user.username}/tier",
                     json={"tier": "gold"}).status_code == 422
    assert admin.put("/v1/admin/users/nobody-here/tier",
                     json={"tier": "pro"}).status_code == 404
    quota = _quota(user)
    assert quota["tier"] == "pro" and quota["limits"]["items"] == PRO_ITEMS
    assert quota["remaining"]["items"] == PRO_ITEMS - FREE_ITEMS
    publish(user, ["t"])
    publish(user, ["t"])
    r = user.post("/v1/stories", json=story_body(["t"]))
    assert r.status_code == 403
    assert r.json()["detail"].startswith(f"Pro accounts may keep {PRO_ITEMS} stories")


def test_meta_reports_the_configured_limits(quota_server, server):
    with quota_server.client() as c:
        quotas = c.get("/v1/meta").json()["quotas"]
    assert quotas["free"]["items"] == FREE_ITEMS and quotas["pro"]["items"] == PRO_ITEMS
    assert quotas["free"]["storage_bytes"] == int(STORAGE_MB * 1024 * 1024)
    with server.client() as c:  # the shared server: roomy
        assert c.get("/v1/meta").json()["quotas"]["free"]["items"] >= 1000


def test_bad_quota_environment_is_refused():
    from studio.marketplace.quotas import load_limits

    with pytest.raises(ValueError, match="QUOTA_FREE_ITEMS"):
        load_limits({"STUDIO_MARKETPLACE_QUOTA_FREE_ITEMS": "lots"})
    with pytest.raises(ValueError, match="negative"):
        load_limits({"STUDIO_MARKETPLACE_QUOTA_PRO_STORAGE_MB": "-1"})
    defaults = load_limits({})
    assert defaults["free"].items == 20 and defaults["free"].storage_bytes == 50 * 1024 * 1024
    assert defaults["pro"].items == 500 and defaults["pro"].storage_bytes == 5000 * 1024 * 1024
