"""Visibility "private" (issue 11): a story only its owner and accepted collaborators read,
next to "unlisted", whose link stays the capability (``test_privacy.py``).  Through real HTTP
on both backends, and on PostgreSQL the row-level security policies checked directly as the
app's role: the database itself refuses a private story to anyone outside it.
"""

from __future__ import annotations

from tests.marketplace.helpers import publish, unique
from tests.marketplace.test_privacy import _as_app_role, _count


def _key() -> dict:
    return {"Idempotency-Key": unique("k")}


def _member(owner, sid: str, account, role: str, accept: bool = True) -> None:
    r = owner.post(f"/v1/stories/{sid}/collaborators", headers=_key(),
                   json={"username": account.username, "role": role})
    assert r.status_code == 201, r.text
    if accept:
        r = account.post(f"/v1/invitations/{sid}/accept", headers=_key())
        assert r.status_code == 200, r.text


def _reads(account, sid: str) -> list[int]:
    return [account.get(f"/v1/stories/{sid}{tail}").status_code
            for tail in ("", "/versions", "/versions/1", "/versions/1/content", "/lineage")]


def test_unlisted_is_read_by_link_private_only_by_its_people(make_account, anon):
    alice, bob, carol, dave = (make_account(n) for n in ("alice", "bob", "carol", "dave"))
    title = unique("Secret ")
    unlisted = publish(alice, ["u0"], visibility="unlisted")["story"]["id"]
    private = publish(alice, ["p0", "p1"], title=title, visibility="private")["story"]
    assert private["visibility"] == "private"
    sid = private["id"]
    _member(alice, sid, bob, "viewer")
    _member(alice, sid, carol, "viewer", accept=False)

    # the link is the capability of an unlisted story; a private one is not there for outsiders
    assert _reads(dave, unlisted) == _reads(anon, unlisted) == [200] * 5
    assert _reads(dave, sid) == _reads(anon, sid) == [404] * 5
    assert alice.get(f"/v1/stories/{sid}").json()["visibility"] == "private"
    assert _reads(bob, sid) == [200] * 5  # the viewer role is what lets one read it
    assert _reads(carol, sid) == [404] * 5  # invited, not accepted: the invitation only
    invitation = carol.get("/v1/invitations").json()["items"]
    assert [i["story"]["id"] for i in invitation] == [sid]
    assert invitation[0]["story"]["visibility"] == "private"
    r = dave.post(f"/v1/stories/{sid}/forks", json={}, headers=_key())
    assert r.status_code == 404 and title not in r.text
    # never listed, not even for its owner; the owner's own list shows it
    for who in (alice, bob, dave):
        assert who.get("/v1/stories", params={"q": title}).json()["total"] == 0
    mine = {s["id"]: s["visibility"] for s in alice.get("/v1/accounts/me/stories").json()["items"]}
    assert mine[sid] == "private" and mine[unlisted] == "unlisted"

    # a member forks; only the owner may publish a remix of a private story
    fork = bob.post(f"/v1/stories/{sid}/forks", json={}, headers=_key()).json()["id"]
    r = bob.post(f"/v1/forks/{fork}/publish", headers=_key(),
                 json={"title": "Bob's remix", "licence": "CC-BY"})
    assert r.status_code == 403 and r.json()["code"] == "source_private", r.text
    assert "private" in r.json()["detail"]
    own = alice.post(f"/v1/stories/{sid}/forks", json={}, headers=_key()).json()["id"]
    r = alice.post(f"/v1/forks/{own}/publish", headers=_key(),
                   json={"title": "Alice's remix", "licence": "CC-BY", "visibility": "private"})
    assert r.status_code == 201 and r.json()["story"]["visibility"] == "private", r.text

    # removed: the story, and its text through the fork, stop with the next request
    assert bob.get(f"/v1/forks/{fork}/content").status_code == 200
    r = alice.delete(f"/v1/stories/{sid}/collaborators/{bob.username}", headers=_key())
    assert r.status_code == 200
    assert _reads(bob, sid) == [404] * 5
    for method, path in (("GET", f"/v1/forks/{fork}/content"), ("GET", f"/v1/forks/{fork}/sync"),
                         ("POST", f"/v1/forks/{fork}/publish")):
        r = bob.request(method, path, headers=_key(),
                        json={"title": "x", "licence": "CC-BY"} if method == "POST" else None)
        assert r.status_code == 403 and r.json()["code"] == "source_private", (path, r.text)
        assert "p0" not in r.text and title not in r.text
    mine = bob.get(f"/v1/forks/{fork}").json()  # the fork row is still Bob's, the source not
    assert mine["source"]["readable"] is False and mine["source"]["story_id"] is None
    assert mine["source"]["title"] is None and mine["source"]["deleted"] is False
    assert bob.delete(f"/v1/forks/{fork}", headers=_key()).status_code == 200

    # the owner moves it between private and unlisted; bad values are refused
    assert alice.patch(f"/v1/stories/{sid}", json={"visibility": "unlisted"},
                       headers=_key()).json()["visibility"] == "unlisted"
    assert dave.get(f"/v1/stories/{sid}").status_code == 200
    assert alice.patch(f"/v1/stories/{sid}", json={"visibility": "private"},
                       headers=_key()).status_code == 200
    assert dave.get(f"/v1/stories/{sid}").status_code == 404
    r = alice.patch(f"/v1/stories/{sid}", json={"visibility": "secret"}, headers=_key())
    assert r.status_code == 422 and r.json()["detail"]
    # the invitee accepts: now a viewer, and reads it
    assert carol.post(f"/v1/invitations/{sid}/accept", headers=_key()).status_code == 200
    assert _reads(carol, sid) == [200] * 5


def test_row_level_security_keeps_a_private_story_on_postgresql(postgresql_server,
                                                                make_pg_account):
    """As the app's role, whatever a request could set: a stranger (even holding the id), a
    removed member holding a fork of it and an invitee reach neither the story's versions nor
    (but the invitee) its row; the owner and a member do."""
    server = postgresql_server
    alice, bob, carol, dave, eve = (make_pg_account(n) for n in
                                    ("alice", "bob", "carol", "dave", "eve"))
    sid = publish(alice, ["p0"], visibility="private")["story"]["id"]
    _member(alice, sid, bob, "viewer")
    _member(alice, sid, carol, "contributor", accept=False)
    _member(alice, sid, eve, "editor")
    assert eve.post(f"/v1/stories/{sid}/forks", json={}, headers=_key()).status_code == 201
    assert alice.delete(f"/v1/stories/{sid}/collaborators/{eve.username}",
                        headers=_key()).status_code == 200
    ids = dict(server.sql("SELECT username, id FROM users WHERE username IN (?, ?, ?, ?, ?)",
                          tuple(a.username for a in (alice, bob, carol, dave, eve))))
    (story_pk,) = server.sql("SELECT id FROM stories WHERE public_id = ?", (sid,))[0]
    story = ("SELECT count(*) FROM stories WHERE public_id = %s", sid)
    versions = ("SELECT count(*) FROM story_versions WHERE story_id = %s", story_pk)
    forks = ("SELECT count(*) FROM forks WHERE source_story_id = %s", story_pk)
    expected = {  # user: (story rows, version rows)
        alice.username: (1, 1), bob.username: (1, 1), carol.username: (1, 0),
        dave.username: (0, 0), eve.username: (0, 0)}
    for name, (n_story, n_versions) in expected.items():
        with _as_app_role(server, ids[name], story_ref=sid) as conn:  # holding the link too
            assert (_count(conn, *story), _count(conn, *versions)) == (n_story, n_versions), name
    with _as_app_role(server, ids[eve.username]) as conn:  # her fork row stays hers
        assert _count(conn, *forks) == 1
    with _as_app_role(server, None, story_ref=sid) as conn:  # anonymous with the link
        assert (_count(conn, *story), _count(conn, *versions)) == (0, 0)
    policies = {r[0]: r[1] for r in server.sql(
        "SELECT policyname, permissive FROM pg_policies WHERE policyname LIKE ?",
        ("%private_read",))}
    assert policies == {"stories_private_read": "RESTRICTIVE",
                        "story_versions_private_read": "RESTRICTIVE"}
