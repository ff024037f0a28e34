"""Private rows stay private: user B against every endpoint touching user A's rows, and on
PostgreSQL the row-level security policies checked directly as the app's role.

Decision: an unlisted story is readable by anyone holding its id (the link) but never listed;
forks, overrides, likes, tokens and idempotency keys of A are never readable or writable by B.
"""

from __future__ import annotations

import secrets

import psycopg
import pytest

from tests.marketplace.helpers import publish, story_body, unique


@pytest.fixture
def a_private(alice):
    """A's public and unlisted stories, A's fork (with overrides) of the public one, A's like,
    and a request A made with an idempotency key."""
    public = publish(alice, ["p0", "p1", "p2"], title=unique("Pub "))["story"]["id"]
    unlisted_title = unique("Hidden ")
    unlisted = publish(alice, ["u0"], title=unlisted_title, visibility="unlisted")["story"]["id"]
    fid = alice.post(f"/v1/stories/{public}/forks", json={"title": "A's own"}).json()["id"]
    r = alice.patch(f"/v1/forks/{fid}/segments", json={"segments": {"seg_1": "A's secret"}},
                    headers={"Idempotency-Key": "shared-key"})
    assert r.status_code == 200
    assert alice.put(f"/v1/stories/{public}/like").status_code == 200
    return {"public": public, "unlisted": unlisted, "unlisted_title": unlisted_title,
            "fork": fid}


def test_user_b_cannot_reach_a_private_rows(alice, bob, anon, a_private):
    fid, unlisted = a_private["fork"], a_private["unlisted"]
    before = alice.get(f"/v1/forks/{fid}/content").json()
    attempts = [
        ("GET", f"/v1/forks/{fid}", None),
        ("GET", f"/v1/forks/{fid}/content", None),
        ("PATCH", f"/v1/forks/{fid}/segments", {"segments": {"seg_1": "B was here"}}),
        ("PATCH", f"/v1/forks/{fid}/parts", {"modules": {"x": 1}}),
        ("GET", f"/v1/forks/{fid}/sync", None),
        ("POST", f"/v1/forks/{fid}/sync", {"resolutions": {}}),
        ("POST", f"/v1/forks/{fid}/publish", {"title": "Stolen", "licence": "CC-BY"}),
        ("DELETE", f"/v1/forks/{fid}", None),
    ]
    for method, path, body in attempts:
        r = bob.request(method, path, json=body)
        assert r.status_code == 404, (method, path, r.status_code, r.text)
        assert "A's" not in r.text and "secret" not in r.text
        assert anon.request(method, path, json=body).status_code == 401
    assert fid not in bob.get("/v1/forks").text
    # A's idempotency key means nothing for B: B's request runs as B's own (and fails as such)
    r = bob.patch(f"/v1/forks/{fid}/segments", json={"segments": {"seg_1": "A's secret"}},
                  headers={"Idempotency-Key": "shared-key"})
    assert r.status_code == 404
    # the unlisted story: readable by link, never listed, not writable
    assert bob.get(f"/v1/stories/{unlisted}").status_code == 200
    assert bob.get(f"/v1/stories/{unlisted}/versions/1/content").status_code == 200
    listed = bob.get("/v1/stories", params={"q": a_private["unlisted_title"]}).json()
    assert listed["total"] == 0
    assert bob.patch(f"/v1/stories/{unlisted}", json={"title": "x"}).status_code == 403
    r = bob.post(f"/v1/stories/{unlisted}/versions",
                 json={"changelog": "x", "content": story_body(["b"])["content"]})
    assert r.status_code == 403
    # likes are per user; B's view of the story does not show A's like as B's
    public = bob.get(f"/v1/stories/{a_private['public']}").json()
    assert public["liked_by_me"] is False and public["stats"]["likes"] == 1
    assert alice.get(f"/v1/forks/{fid}/content").json() == before  # nothing changed


def test_unknown_ids_look_like_hidden_ones(bob):
    assert bob.get("/v1/forks/fk_doesnotexist").status_code == 404
    assert bob.get("/v1/stories/st_doesnotexist").status_code == 404
    assert bob.get("/v1/forks/not-an-id").status_code == 422


def _as_app_role(server, user_id: int | None, story_ref: str | None = None):
    conn = psycopg.connect(server.pg["app_dsn"])
    conn.execute("SELECT set_config('app.user_id', %s, true)",
                 ("" if user_id is None else str(user_id),))
    if story_ref:
        conn.execute("SELECT set_config('app.story_ref', %s, true)", (story_ref,))
    return conn


def _count(conn, sql: str, *params) -> int:
    return conn.execute(sql, params).fetchone()[0]


def test_row_level_security_really_applies_on_postgresql(postgresql_server, make_pg_account):
    server = postgresql_server
    alice, bob = make_pg_account("alice"), make_pg_account("bob")
    public = publish(alice, ["p0", "p1"])["story"]["id"]
    unlisted = publish(alice, ["u0"], visibility="unlisted")["story"]["id"]
    fid = alice.post(f"/v1/stories/{public}/forks", json={}).json()["id"]
    alice.patch(f"/v1/forks/{fid}/segments", json={"segments": {"seg_0": "override"}},
                headers={"Idempotency-Key": unique("k")})
    alice.put(f"/v1/stories/{public}/like")
    ids = dict(server.sql("SELECT username, id FROM users WHERE username IN (?, ?)",
                          (alice.username, bob.username)))
    a, b = ids[alice.username], ids[bob.username]
    (fork_pk,) = server.sql("SELECT id FROM forks WHERE public_id = ?", (fid,))[0]

    checks = {
        "forks": ("SELECT count(*) FROM forks WHERE owner_id = %s", a),
        "fork texts": ("SELECT count(*) FROM forks WHERE id = %s AND overrides IS NOT NULL",
                       fork_pk),
        "auth_tokens": ("SELECT count(*) FROM auth_tokens WHERE user_id = %s", a),
        "likes": ("SELECT count(*) FROM likes WHERE user_id = %s", a),
        "idempotency_keys": ("SELECT count(*) FROM idempotency_keys WHERE user_id = %s", a),
        "unlisted story": ("SELECT count(*) FROM stories WHERE public_id = %s", unlisted),
        "its versions": ("SELECT count(*) FROM story_versions v JOIN stories s ON "
                         "s.id = v.story_id WHERE s.public_id = %s", unlisted),
    }
    with _as_app_role(server, a) as conn:  # A sees A's rows: the queries can find them
        role = conn.execute("SELECT rolsuper, rolbypassrls FROM pg_roles "
                            "WHERE rolname = current_user").fetchone()
        assert role == (False, False)
        for name, (sql, param) in checks.items():
            assert _count(conn, sql, param) >= 1, name
    with _as_app_role(server, b) as conn:  # B sees none of them
        for name, (sql, param) in checks.items():
            assert _count(conn, sql, param) == 0, name
        assert _count(conn, "SELECT count(*) FROM stories WHERE public_id = %s", public) == 1
        cur = conn.execute("UPDATE forks SET title = 'pwned' WHERE id = %s", (fork_pk,))
        assert cur.rowcount == 0
        cur = conn.execute("UPDATE forks SET overrides = NULL WHERE id = %s", (fork_pk,))
        assert cur.rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # WITH CHECK refuses
            conn.execute("INSERT INTO likes (user_id, story_id, created_at) "
                         "SELECT %s, id, now() FROM stories WHERE public_id = %s", (a, public))
    with _as_app_role(server, b, story_ref=unlisted) as conn:  # B holding the link
        assert _count(conn, *checks["unlisted story"]) == 1
        assert _count(conn, *checks["forks"]) == 0
    with _as_app_role(server, None) as conn:  # no user set: nothing private at all
        for name in ("forks", "fork texts", "auth_tokens", "likes", "idempotency_keys"):
            assert _count(conn, *checks[name]) == 0, name
    with _as_app_role(server, a) as conn:  # versions are append-only even for their owner
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE story_versions SET changelog = 'rewritten'")
    forced = server.sql("SELECT relname FROM pg_class WHERE relrowsecurity AND "
                        "relforcerowsecurity AND relkind = 'r'")
    assert {r[0] for r in forced} >= {"forks", "auth_tokens", "likes",
                                      "idempotency_keys", "stories", "story_versions"}


def test_only_the_app_role_is_granted_anything_on_postgresql(postgresql_server):
    """Privileges go to the app role by name (``migrate --grant-to``), never to PUBLIC: another
    role that can log in to the same database reads no table at all."""
    from studio.marketplace.security_community import APP_PRIVILEGES_0002
    from studio.marketplace.security_ops import APP_PRIVILEGES_0003

    server = postgresql_server
    tables = sorted({*APP_PRIVILEGES_0002, *APP_PRIVILEGES_0003, "stories", "forks"})
    public = server.sql("SELECT table_name FROM information_schema.role_table_grants "
                        "WHERE grantee = 'PUBLIC' AND table_schema = 'public'")
    assert public == []
    with psycopg.connect(server.pg["app_dsn"]) as conn:  # the app role reaches every table
        for table in tables:
            conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    stranger = "studio_stranger_" + secrets.token_hex(3)
    server.sql(f'CREATE ROLE "{stranger}" LOGIN NOSUPERUSER NOBYPASSRLS')
    try:
        dsn = server.pg["app_dsn"].replace(server.pg["role"], stranger)
        with psycopg.connect(dsn, autocommit=True) as conn:
            for table in tables:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(f"SELECT 1 FROM {table} LIMIT 1")
    finally:
        server.sql(f'DROP ROLE IF EXISTS "{stranger}"')
