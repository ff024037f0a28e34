"""The ideas board: curated categories and topics (moderators create and change them, admins
delete them), ideas that stay private until a moderator approves them, rejection reasons only
their author sees; on PostgreSQL the row-level security of pending ideas, checked directly."""

from __future__ import annotations

import psycopg
import pytest

from tests.marketplace.helpers import unique


def _role(server, account, role: str) -> None:
    server.sql("UPDATE users SET role = ? WHERE username = ?", (role, account.username))


@pytest.fixture
def moderator(server, make_account):
    account = make_account("mod")
    _role(server, account, "moderator")
    return account


@pytest.fixture
def category(moderator) -> str:
    slug = unique("cat-")
    r = moderator.post("/v1/ideas/categories", json={"slug": slug, "name": f"Name {slug}"})
    assert r.status_code == 201, r.text
    return slug


def _idea(account, category: str, **fields) -> dict:
    body = {"title": fields.pop("title", unique("Idea ")), "prompt": "A lighthouse keeper "
            "finds a letter from the future.", "category": category, **fields}
    r = account.post("/v1/ideas", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _ids(client, **params) -> list[str]:
    r = client.get("/v1/ideas", params=params)
    assert r.status_code == 200, r.text
    return [i["id"] for i in r.json()["items"]]


def test_categories_and_topics_are_curated_by_staff(server, alice, bob, moderator, anon):
    slug = unique("genre-")
    body = {"slug": slug, "name": "Sea stories", "description": "Salt and storms."}
    assert bob.post("/v1/ideas/categories", json=body).status_code == 403
    assert anon.post("/v1/ideas/categories", json=body).status_code == 401
    r = moderator.post("/v1/ideas/categories", json=body)
    assert r.status_code == 201 and r.json()["name"] == "Sea stories"
    assert moderator.post("/v1/ideas/categories", json=body).status_code == 409
    listed = anon.get("/v1/ideas/categories").json()["items"]
    assert {"slug": slug, "name": "Sea stories", "description": "Salt and storms."}.items() \
        <= next(c for c in listed if c["slug"] == slug).items()
    assert bob.patch(f"/v1/ideas/categories/{slug}", json={"name": "Mine"}).status_code == 403
    r = moderator.patch(f"/v1/ideas/categories/{slug}", json={"name": "Tales of the sea"})
    assert r.status_code == 200 and r.json()["name"] == "Tales of the sea"
    assert moderator.patch("/v1/ideas/categories/nope-nope", json={"name": "x"}) \
        .status_code == 404
    # deleting: admins only, and only what no idea uses
    assert moderator.delete(f"/v1/ideas/categories/{slug}").status_code == 403
    _role(server, alice, "admin")
    _idea(bob, slug)
    r = alice.delete(f"/v1/ideas/categories/{slug}")
    assert r.status_code == 409 and "use" in r.json()["detail"]
    unused = unique("unused-")
    assert alice.post("/v1/ideas/categories", json={"slug": unused, "name": "U"}) \
        .status_code == 201
    assert alice.delete(f"/v1/ideas/categories/{unused}").json() == {"deleted": unused}
    assert unused not in [c["slug"] for c in anon.get("/v1/ideas/categories").json()["items"]]
    # topics work the same way
    topic = unique("topic-")
    assert bob.post("/v1/ideas/topics", json={"slug": topic, "name": "T"}).status_code == 403
    r = moderator.post("/v1/ideas/topics", json={"slug": topic, "name": "Lost cities",
                                                 "description": "This month's theme"})
    assert r.status_code == 201
    assert topic in [t["slug"] for t in anon.get("/v1/ideas/topics").json()["items"]]
    assert moderator.patch(f"/v1/ideas/topics/{topic}", json={"description": "Old theme"}) \
        .json()["description"] == "Old theme"
    assert alice.delete(f"/v1/ideas/topics/{topic}").status_code == 200
    # bad input
    for bad in ({"slug": "Has Caps", "name": "x"}, {"slug": "ok-slug", "name": ""},
                {"slug": "ok-slug", "name": "x", "extra": 1}, {"slug": "x" * 41, "name": "x"}):
        assert moderator.post("/v1/ideas/categories", json=bad).status_code == 422, bad


def test_pending_ideas_are_private_until_approved(server, alice, bob, moderator, category,
                                                  anon):
    topic = unique("topic-")
    assert moderator.post("/v1/ideas/topics", json={"slug": topic, "name": "T"}) \
        .status_code == 201
    tag = unique("tag")
    idea = _idea(alice, category, topic=topic, tags=[tag.upper(), "sea"])
    iid = idea["id"]
    assert idea["status"] == "pending" and idea["author"] == alice.username
    assert idea["tags"] == sorted([tag, "sea"]) and idea["topic"]["slug"] == topic
    assert idea["category"]["slug"] == category and idea["reason"] is None
    # invisible to others, listed for its author and in the moderators' queue
    assert bob.get(f"/v1/ideas/{iid}").status_code == 404
    assert anon.get(f"/v1/ideas/{iid}").status_code == 404
    assert iid not in _ids(anon, category=category)
    assert iid not in _ids(bob, category=category, status="pending")
    assert iid in _ids(alice, mine="true")
    assert iid in _ids(alice, category=category, status="pending")
    assert alice.get(f"/v1/ideas/{iid}").json()["status"] == "pending"
    assert iid in _ids(moderator, status="pending", category=category)
    # only moderators review
    r = bob.post(f"/v1/ideas/{iid}/review", json={"decision": "approve"})
    assert r.status_code == 403
    assert alice.post(f"/v1/ideas/{iid}/review", json={"decision": "approve"}) \
        .status_code == 403
    r = moderator.post(f"/v1/ideas/{iid}/review", json={"decision": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert r.json()["reviewed_by"] == moderator.username
    # now public: by id, in the board, by category, topic and tag
    public = anon.get(f"/v1/ideas/{iid}").json()
    assert public["status"] == "approved" and "reason" not in public
    assert "reviewed_by" not in public
    assert iid in _ids(anon, category=category)
    assert _ids(anon, tags=[tag]) == [iid]
    assert _ids(anon, topic=topic) == [iid]
    assert _ids(anon, category=category, tags=["nothing-like-this"]) == []
    assert iid in _ids(bob, category=category)
    # the author edits it: back to review
    r = alice.patch(f"/v1/ideas/{iid}", json={"prompt": "A better prompt."})
    assert r.status_code == 200 and r.json()["status"] == "pending"
    assert anon.get(f"/v1/ideas/{iid}").status_code == 404
    assert bob.patch(f"/v1/ideas/{iid}", json={"title": "Mine"}).status_code == 404


def test_rejection_reason_is_for_the_author_only(alice, bob, moderator, category, anon):
    iid = _idea(alice, category)["id"]
    r = moderator.post(f"/v1/ideas/{iid}/review", json={"decision": "reject"})
    assert r.status_code == 422 and "reason" in r.json()["detail"]
    r = moderator.post(f"/v1/ideas/{iid}/review",
                       json={"decision": "reject", "reason": "Too close to an existing one."})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    mine = alice.get(f"/v1/ideas/{iid}").json()
    assert mine["status"] == "rejected" and mine["reason"] == "Too close to an existing one."
    assert iid in _ids(alice, mine="true", status="rejected")
    assert bob.get(f"/v1/ideas/{iid}").status_code == 404
    assert anon.get(f"/v1/ideas/{iid}").status_code == 404
    assert iid not in _ids(bob, status="rejected", category=category)
    assert iid not in _ids(anon, category=category)
    # the author reworks it: pending again, the old reason gone
    r = alice.patch(f"/v1/ideas/{iid}", json={"title": "Reworked", "tags": ["fresh"]})
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["reason"], r.json()["tags"]) == (
        "pending", None, ["fresh"])
    # authors and moderators delete; others cannot even see it
    assert bob.delete(f"/v1/ideas/{iid}").status_code == 404
    assert alice.delete(f"/v1/ideas/{iid}").json() == {"deleted": iid}
    assert alice.get(f"/v1/ideas/{iid}").status_code == 404


def test_idea_input_is_validated(alice, category, anon):
    base = {"title": "t", "prompt": "p", "category": category}
    for change in ({"title": "x" * 201}, {"prompt": "x" * 4001}, {"title": ""},
                   {"tags": [f"t{i}" for i in range(11)]}, {"tags": ["not a valid tag!"]},
                   {"category": "Bad Slug"}, {"unknown": 1}, {"prompt": "a\u0000b"}):
        r = alice.post("/v1/ideas", json={**base, **change})
        assert r.status_code == 422, (change, r.text)
    r = alice.post("/v1/ideas", json={**base, "category": "no-such-category"})
    assert r.status_code == 422 and "no-such-category" in r.json()["detail"]
    r = alice.post("/v1/ideas", json={**base, "topic": "no-such-topic"})
    assert r.status_code == 422 and "topic" in r.json()["detail"]
    assert alice.post("/v1/ideas", json={**base, "title": "x" * 200,
                                         "prompt": "y" * 4000,
                                         "tags": [f"t{i}" for i in range(10)]}).status_code == 201
    assert anon.post("/v1/ideas", json=base).status_code == 401
    assert anon.get("/v1/ideas", params={"mine": "true"}).status_code == 401
    assert anon.get("/v1/ideas", params={"status": "deleted"}).status_code == 422
    assert anon.get("/v1/ideas/idea_nope").status_code == 404
    assert anon.get("/v1/ideas/not-an-idea").status_code == 422
    assert anon.get("/v1/ideas", params={"cursor": "garbage!"}).status_code == 422


def test_idea_submission_is_idempotent_and_the_board_pages(server, alice, moderator, category,
                                                         anon):
    key = {"Idempotency-Key": unique("idea")}
    body = {"title": unique("Once "), "prompt": "p", "category": category}
    a = alice.post("/v1/ideas", json=body, headers=key)
    b = alice.post("/v1/ideas", json=body, headers=key)
    assert a.status_code == b.status_code == 201 and a.json() == b.json()
    assert b.headers.get("idempotent-replayed") == "true"
    assert server.sql("SELECT count(*) FROM ideas WHERE title = ?", (body["title"],))[0][0] == 1
    made = [a.json()["id"]] + [_idea(alice, category)["id"] for _ in range(4)]
    for iid in made:
        assert moderator.post(f"/v1/ideas/{iid}/review", json={"decision": "approve"},
                              headers={"Idempotency-Key": unique("rv")}).status_code == 200
    seen, cursor = [], None
    while True:
        params = {"category": category, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = anon.get("/v1/ideas", params=params).json()
        seen += [i["id"] for i in page["items"]]
        if cursor is None:
            _idea(alice, category)  # a new (pending) idea between pages changes nothing
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made))  # newest first, each once


def test_pending_ideas_are_private_in_postgresql_itself(postgresql_server, make_pg_account):
    server = postgresql_server
    alice, bob, mod = (make_pg_account(n) for n in ("alice", "bob", "mod"))
    _role(server, mod, "moderator")
    slug = unique("cat-")
    assert mod.post("/v1/ideas/categories", json={"slug": slug, "name": "C"}).status_code == 201
    iid = _idea(alice, slug, tags=["secret"])["id"]
    ids = dict(server.sql("SELECT username, id FROM users WHERE username IN (?, ?, ?)",
                          (alice.username, bob.username, mod.username)))
    (idea_pk,) = server.sql("SELECT id FROM ideas WHERE public_id = ?", (iid,))[0]

    def as_user(user_id):
        conn = psycopg.connect(server.pg["app_dsn"])
        conn.execute("SELECT set_config('app.user_id', %s, true)",
                     ("" if user_id is None else str(user_id),))
        return conn

    def visible(conn) -> tuple[int, int]:
        return (conn.execute("SELECT count(*) FROM ideas WHERE id = %s", (idea_pk,))
                .fetchone()[0],
                conn.execute("SELECT count(*) FROM idea_tags WHERE idea_id = %s", (idea_pk,))
                .fetchone()[0])

    for user, expected in ((ids[alice.username], (1, 1)), (ids[mod.username], (1, 1)),
                           (ids[bob.username], (0, 0)), (None, (0, 0))):
        with as_user(user) as conn:
            assert visible(conn) == expected, user
    with as_user(ids[bob.username]) as conn:
        assert conn.execute("UPDATE ideas SET status = 'approved' WHERE id = %s",
                            (idea_pk,)).rowcount == 0
        assert conn.execute("DELETE FROM ideas WHERE id = %s", (idea_pk,)).rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # not as someone else
            conn.execute("INSERT INTO ideas (public_id, author_id, category_id, title, prompt, "
                         "status, created_at, updated_at) SELECT 'idea_forged', %s, id, "
                         "'t', 'p', 'pending', now(), now() FROM idea_categories "
                         "WHERE slug = %s", (ids[alice.username], slug))
    with as_user(ids[alice.username]) as conn:  # an author cannot approve their own idea
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE ideas SET status = 'approved' WHERE id = %s", (idea_pk,))
    forced = {r[0] for r in server.sql("SELECT relname FROM pg_class WHERE relrowsecurity "
                                       "AND relforcerowsecurity AND relkind = 'r'")}
    assert {"ideas", "idea_tags"} <= forced
    # story_search lost its policies in 0005: it holds listed stories' words only
    # (test_browse_speed.py checks that nothing else is in it)
    assert "story_search" not in forced
