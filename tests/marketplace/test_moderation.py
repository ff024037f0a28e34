"""Moderation: users flag items (one open flag each), moderators resolve flags and hide or
unhide items; hidden items vanish for everyone but their owner (marked) and moderators; a
user's flags are private; on PostgreSQL the new tables' row-level security is checked directly.
"""

from __future__ import annotations

import psycopg
import pytest

from tests.marketplace.helpers import publish, unique
from tests.marketplace.test_community import chapter_doc, publish_chapter, publish_template


def _promote(server, account, role: str = "moderator"):
    server.sql("UPDATE users SET role = ? WHERE username = ?", (role, account.username))
    return account


@pytest.fixture
def moderator(server, make_account):
    return _promote(server, make_account("mod"))


@pytest.fixture
def carol(make_account):
    return make_account("carol")


def _report(account, item_type: str, item_id: str, reason: str = "spam", **extra):
    return account.post("/v1/flags", json={"item_type": item_type, "item_id": item_id,
                                           "reason": reason, **extra})


def _open_flags(moderator, item_id: str) -> list[dict]:
    items, offset = [], 0
    while offset is not None:
        page = moderator.get("/v1/moderation/flags", params={"limit": 100, "offset": offset})
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        offset = page.json()["next_offset"]
    return [f for f in items if f["item"]["id"] == item_id]


def test_report_hide_and_unhide_a_chapter(alice, bob, carol, anon, moderator):
    title = unique("Flagged ")
    cid = publish_chapter(alice, title=title)["chapter"]["id"]
    r = _report(bob, "chapter", cid, "abuse", note="Slurs in beat 1")
    assert r.status_code == 201, r.text
    flag = r.json()
    assert flag["id"].startswith("fl_") and flag["status"] == "open"
    assert flag["item"] == {"type": "chapter", "id": cid} and "reporter" not in flag
    again = _report(bob, "chapter", cid, "spam")
    assert again.status_code == 409 and "already reported" in again.json()["detail"]
    assert _report(carol, "chapter", cid, "other").status_code == 201  # one per user
    assert _report(alice, "chapter", cid).status_code == 422  # not your own
    assert _report(anon, "chapter", cid).status_code == 401

    queued = _open_flags(moderator, cid)
    assert len(queued) == 2 and queued[0]["id"] == flag["id"]  # oldest first
    assert queued[0]["reporter"] == bob.username and queued[0]["note"] == "Slurs in beat 1"
    assert queued[0]["item"]["title"] == title and queued[0]["item"]["open_flags"] == 2
    r = moderator.post(f"/v1/moderation/flags/{flag['id']}/resolve",
                       json={"action": "hide", "note": "abusive"})
    assert r.status_code == 200, r.text
    assert r.json()["item"]["hidden"] is True and len(r.json()["closed_flags"]) == 2
    assert r.json()["flag"]["status"] == "hidden"
    assert _open_flags(moderator, cid) == []
    r = moderator.post(f"/v1/moderation/flags/{flag['id']}/resolve", json={"action": "dismiss"})
    assert r.status_code == 409 and "already resolved" in r.json()["detail"]

    # gone for everyone else: lists and every read by id
    for client in (bob, carol, anon):
        assert client.get("/v1/chapters", params={"q": title}).json()["total"] == 0
        for path in ("", "/versions", "/versions/1", "/versions/1/content", "/lineage"):
            assert client.get(f"/v1/chapters/{cid}{path}").status_code == 404, path
    assert carol.post(f"/v1/chapters/{cid}/forks", json={}).status_code == 404
    # the owner still sees it, marked; so do moderators
    mine = alice.get(f"/v1/chapters/{cid}").json()
    assert mine["hidden"] is True and "Hidden by moderation" in mine["moderation"]
    listed = alice.get("/v1/accounts/me/chapters").json()["items"]
    assert [c["hidden"] for c in listed if c["id"] == cid] == [True]
    assert moderator.get(f"/v1/chapters/{cid}").status_code == 200
    hidden = moderator.get("/v1/moderation/hidden", params={"item_type": "chapter",
                                                             "limit": 100}).json()
    assert cid in [x["id"] for x in hidden["items"]]
    # the reporter sees what became of the report, not the moderator's notes
    flags = bob.get("/v1/accounts/me/flags").json()["items"]
    assert [(f["id"], f["status"]) for f in flags] == [(flag["id"], "hidden")]
    assert "resolution_note" not in flags[0] and "reporter" not in flags[0]

    r = moderator.post(f"/v1/moderation/items/chapter/{cid}/unhide")
    assert r.status_code == 200 and r.json()["item"]["hidden"] is False
    assert anon.get(f"/v1/chapters/{cid}").status_code == 200
    assert anon.get("/v1/chapters", params={"q": title}).json()["total"] == 1


def test_hidden_story_and_dismissed_flags(alice, bob, carol, anon, moderator):
    title = unique("Story ")
    sid = publish(alice, ["x", "y"], title=title)["story"]["id"]
    flag = _report(bob, "story", sid, "copyright").json()
    r = moderator.post(f"/v1/moderation/flags/{flag['id']}/resolve",
                       json={"action": "dismiss", "note": "public domain"})
    assert r.status_code == 200 and r.json()["flag"]["status"] == "dismissed"
    assert r.json()["item"]["hidden"] is False and r.json()["closed_flags"] == [flag["id"]]
    assert anon.get(f"/v1/stories/{sid}").status_code == 200
    assert _report(bob, "story", sid, "copyright").status_code == 201  # may report again

    r = moderator.post(f"/v1/moderation/items/story/{sid}/hide")
    assert r.status_code == 200 and r.json()["item"]["hidden"] is True
    assert len(r.json()["closed_flags"]) == 1
    for client in (bob, carol, anon):
        assert client.get("/v1/stories", params={"q": title}).json()["total"] == 0
        for path in ("", "/versions", "/versions/1", "/versions/1/content", "/lineage"):
            assert client.get(f"/v1/stories/{sid}{path}").status_code == 404, path
    assert bob.put(f"/v1/stories/{sid}/like").status_code == 404
    assert bob.post(f"/v1/stories/{sid}/forks", json={}).status_code == 404
    mine = alice.get(f"/v1/stories/{sid}").json()
    assert mine["hidden"] is True and "moderation" in mine
    assert alice.get(f"/v1/stories/{sid}/versions/1/content").status_code == 200
    assert moderator.get(f"/v1/stories/{sid}").status_code == 200
    moderator.post(f"/v1/moderation/items/story/{sid}/unhide")
    assert "hidden" not in anon.get(f"/v1/stories/{sid}").json()


def test_moderators_hide_voice_templates_which_are_never_deleted(server, alice, bob, anon,
                                                                moderator):
    tid = publish_template(alice)["id"]
    assert _report(bob, "voice_template", tid, "spam").status_code == 201
    r = moderator.post(f"/v1/moderation/items/voice_template/{tid}/hide")
    assert r.status_code == 200 and r.json()["item"]["hidden"] is True
    assert anon.get(f"/v1/voice-templates/{tid}").status_code == 404
    assert anon.get(f"/v1/voice-templates/{tid}/content").status_code == 404
    assert alice.get(f"/v1/voice-templates/{tid}").json()["hidden"] is True
    assert moderator.delete(f"/v1/voice-templates/{tid}").status_code == 405
    assert server.sql("SELECT hidden FROM voice_templates WHERE public_id = ?",
                      (tid,))[0][0] in (1, True)
    moderator.post(f"/v1/moderation/items/voice_template/{tid}/unhide")
    assert anon.get(f"/v1/voice-templates/{tid}").status_code == 200


def test_a_flag_on_a_since_deleted_story_can_still_be_resolved(alice, bob, moderator):
    sid = publish(alice, ["x"])["story"]["id"]
    flag = _report(bob, "story", sid, "spam").json()
    assert alice.delete(f"/v1/stories/{sid}").status_code == 200
    r = moderator.post(f"/v1/moderation/flags/{flag['id']}/resolve", json={"action": "dismiss"})
    assert r.status_code == 200, r.text
    assert r.json()["flag"]["status"] == "dismissed"


def test_unlisted_items_can_be_reported_and_moderated(alice, bob, moderator):
    cid = publish_chapter(alice, visibility="unlisted")["chapter"]["id"]
    flag = _report(bob, "chapter", cid, "other").json()  # bob has the link
    r = moderator.post(f"/v1/moderation/flags/{flag['id']}/resolve", json={"action": "hide"})
    assert r.status_code == 200, r.text
    assert r.json()["item"]["hidden"] is True


def test_regular_users_get_403_on_moderation(alice, bob, anon, moderator):
    cid = publish_chapter(alice)["chapter"]["id"]
    flag = _report(bob, "chapter", cid).json()
    attempts = [
        ("GET", "/v1/moderation/flags", None),
        ("GET", "/v1/moderation/hidden", None),
        ("POST", f"/v1/moderation/flags/{flag['id']}/resolve", {"action": "hide"}),
        ("POST", f"/v1/moderation/items/chapter/{cid}/hide", None),
        ("POST", f"/v1/moderation/items/chapter/{cid}/unhide", None),
    ]
    for method, path, body in attempts:
        for client in (alice, bob):
            r = client.request(method, path, json=body)
            assert r.status_code == 403, (method, path, r.text)
            assert "moderators" in r.json()["detail"]
        assert anon.request(method, path, json=body).status_code == 401
    assert alice.get(f"/v1/chapters/{cid}").json()["hidden"] is False  # nothing happened
    r = moderator.post(f"/v1/moderation/items/story/{cid}/hide")
    assert r.status_code == 422 and "st_" in r.json()["detail"]
    assert moderator.post("/v1/moderation/items/chapter/ch_nothere/hide").status_code == 404
    assert moderator.post("/v1/moderation/flags/fl_nothere/resolve",
                          json={"action": "dismiss"}).status_code == 404


def test_flags_are_private_to_reporter_and_moderators(alice, bob, carol, moderator):
    sid = publish(alice, ["x"])["story"]["id"]
    secret = unique("my private reason ")
    flag = _report(bob, "story", sid, "other", note=secret).json()
    assert secret not in carol.get("/v1/accounts/me/flags").text
    assert carol.get("/v1/accounts/me/flags").json()["total"] == 0
    assert alice.get("/v1/accounts/me/flags").json()["total"] == 0  # not even the owner
    assert carol.get("/v1/moderation/flags").status_code == 403
    assert bob.get("/v1/accounts/me/flags").json()["items"][0]["note"] == secret
    assert [f["note"] for f in _open_flags(moderator, sid)] == [secret]
    assert flag["id"] not in alice.get(f"/v1/stories/{sid}").text


@pytest.mark.parametrize("body, words", [
    ({"item_type": "story", "item_id": "st_x", "reason": "boring"}, "reason"),
    ({"item_type": "story", "item_id": "ch_x", "reason": "spam"}, "st_"),
    ({"item_type": "idea", "item_id": "st_x", "reason": "spam"}, "item_type"),
    ({"item_type": "story", "item_id": "st_x", "reason": "spam", "note": "n" * 2001}, "note"),
    ({"item_type": "story", "item_id": "st_x", "reason": "spam", "extra": 1}, "extra"),
])
def test_bad_reports_are_422(bob, body, words):
    r = bob.post("/v1/flags", json=body)
    assert r.status_code == 422, r.text
    assert words in r.json()["detail"]


def test_reports_of_unknown_items_are_404_and_idempotent_reports_are_one(server, alice, bob):
    assert _report(bob, "story", "st_nothere").status_code == 404
    cid = publish_chapter(alice)["chapter"]["id"]
    key = {"Idempotency-Key": unique("k")}
    body = {"item_type": "chapter", "item_id": cid, "reason": "spam"}
    a = bob.post("/v1/flags", json=body, headers=key)
    b = bob.post("/v1/flags", json=body, headers=key)
    assert a.status_code == b.status_code == 201 and a.json() == b.json()
    assert server.sql("SELECT count(*) FROM moderation_flags WHERE item_public_id = ?",
                      (cid,))[0][0] == 1


# --- PostgreSQL: the policies themselves -------------------------------------------------

def _as_app_role(server, user_id: int | None, ref: str | None = None):
    conn = psycopg.connect(server.pg["app_dsn"])
    conn.execute("SELECT set_config('app.user_id', %s, true)",
                 ("" if user_id is None else str(user_id),))
    if ref:
        conn.execute("SELECT set_config('app.story_ref', %s, true)", (ref,))
    return conn


def _count(conn, sql: str, *params) -> int:
    return conn.execute(sql, params).fetchone()[0]


def test_row_level_security_of_community_tables(postgresql_server, make_pg_account):
    server = postgresql_server
    alice, bob, carol = (make_pg_account(n) for n in ("alice", "bob", "carol"))
    mod = _promote(server, make_pg_account("mod"))
    chapter = publish_chapter(alice, visibility="unlisted")["chapter"]["id"]
    alice.post(f"/v1/chapters/{chapter}/versions", json={"changelog": "2",
                                                         "chapter": chapter_doc()})
    template = publish_template(alice, visibility="unlisted", tags=["t"])["id"]
    public_story = publish(alice, ["p"])["story"]["id"]
    assert _report(bob, "story", public_story).status_code == 201
    ids = dict(server.sql("SELECT username, id FROM users WHERE username IN (?, ?, ?, ?)",
                          (alice.username, bob.username, carol.username, mod.username)))
    a, b, c, m = (ids[x.username] for x in (alice, bob, carol, mod))
    checks = {
        "unlisted chapter": ("SELECT count(*) FROM community_chapters WHERE public_id = %s",
                             chapter),
        "its versions": ("SELECT count(*) FROM community_chapter_versions v JOIN "
                         "community_chapters ch ON ch.id = v.chapter_id "
                         "WHERE ch.public_id = %s", chapter),
        "unlisted template": ("SELECT count(*) FROM voice_templates WHERE public_id = %s",
                              template),
        "its tags": ("SELECT count(*) FROM voice_template_tags g JOIN voice_templates t "
                     "ON t.id = g.template_id WHERE t.public_id = %s", template),
        "usage": ("SELECT count(*) FROM user_usage WHERE user_id = %s", a),
    }
    with _as_app_role(server, a) as conn:
        for name, (sql, param) in checks.items():
            assert _count(conn, sql, param) >= 1, name
        assert _count(conn, "SELECT count(*) FROM moderation_flags") == 0  # bob's, not hers
    with _as_app_role(server, c) as conn:  # carol: none of it
        for name, (sql, param) in checks.items():
            assert _count(conn, sql, param) == 0, name
        assert _count(conn, "SELECT count(*) FROM moderation_flags WHERE reporter_id = %s",
                      b) == 0
        cur = conn.execute("UPDATE moderation_flags SET status = 'dismissed'")
        assert cur.rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # WITH CHECK refuses
            conn.execute("INSERT INTO moderation_flags (public_id, reporter_id, item_kind, "
                         "item_public_id, story_id, reason, note, status, resolution_note, "
                         "created_at) SELECT 'fl_forged', %s, 'story', public_id, id, 'spam', "
                         "'', 'open', '', now() FROM stories WHERE public_id = %s",
                         (b, public_story))
    with _as_app_role(server, c, ref=chapter) as conn:  # carol holding the link
        assert _count(conn, *checks["unlisted chapter"]) == 1
        assert _count(conn, *checks["its versions"]) == 2
        assert _count(conn, *checks["unlisted template"]) == 0
        cur = conn.execute("UPDATE community_chapters SET title = 'pwned' WHERE public_id = %s",
                           (chapter,))
        assert cur.rowcount == 0
    with _as_app_role(server, b) as conn:
        assert _count(conn, "SELECT count(*) FROM moderation_flags WHERE reporter_id = %s",
                      b) == 1
    with _as_app_role(server, m) as conn:  # moderators see flags and unlisted items
        assert _count(conn, "SELECT count(*) FROM moderation_flags WHERE reporter_id = %s",
                      b) == 1
        assert _count(conn, *checks["unlisted chapter"]) == 1
        assert _count(conn, *checks["usage"]) == 0  # usage stays the user's own
    with _as_app_role(server, None) as conn:
        for name in ("unlisted chapter", "unlisted template", "usage"):
            assert _count(conn, *checks[name]) == 0, name
        assert _count(conn, "SELECT count(*) FROM moderation_flags") == 0
    with _as_app_role(server, a) as conn:  # templates are permanent even for their owner
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE voice_templates SET name = 'renamed'")
    with _as_app_role(server, a) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM voice_templates")
    with _as_app_role(server, a) as conn:  # chapter versions are append-only
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE community_chapter_versions SET changelog = 'rewritten'")
    with _as_app_role(server, a) as conn:  # only moderators set hidden
        cur = conn.execute("UPDATE voice_templates SET hidden = true WHERE public_id = %s",
                           (template,))
        assert cur.rowcount == 0
    forced = {r[0] for r in server.sql("SELECT relname FROM pg_class WHERE relrowsecurity "
                                       "AND relforcerowsecurity AND relkind = 'r'")}
    assert forced >= {"community_chapters", "community_chapter_tags",
                      "community_chapter_versions", "voice_templates", "voice_template_tags",
                      "moderation_flags", "user_usage"}
