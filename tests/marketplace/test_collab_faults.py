"""Collaboration's bad input and faults, both backends over real HTTP: unknown users, role
changes by non-owners, proposals against a story that moved on (rebased, or refused naming
the conflicting segments), two editors publishing at once, removed members; and on
PostgreSQL the row-level security of the new tables checked directly as the app role."""

from __future__ import annotations

import threading

import psycopg
import pytest

from tests.marketplace.helpers import publish, segments_of, story_body, unique
from tests.marketplace.test_privacy import _as_app_role, _count


def _join(owner, member, story: str, role: str) -> None:
    r = owner.post(f"/v1/stories/{story}/collaborators",
                   json={"username": member.username, "role": role})
    assert r.status_code == 201, r.text
    assert member.post(f"/v1/invitations/{story}/accept").json()["status"] == "accepted"


def _texts(account, story: str, number: int) -> dict[str, str]:
    r = account.get(f"/v1/stories/{story}/versions/{number}/content")
    assert r.status_code == 200, r.text
    return {s["id"]: s["text"] for s in segments_of(r.json()["content"])}


def test_invitations_and_roles_refuse_bad_requests_clearly(make_account):
    owner, editor, guest = make_account("own"), make_account("ed"), make_account("guest")
    story = publish(owner, ["a", "b"], visibility="unlisted")["story"]["id"]
    path = f"/v1/stories/{story}/collaborators"
    r = owner.post(path, json={"username": "nobody_here_x", "role": "viewer"})
    assert (r.status_code, r.json()) == (404, {
        "detail": "No user named 'nobody_here_x' on this server.", "code": "unknown_user"})
    r = owner.post(path, json={"username": owner.username, "role": "editor"})
    assert (r.status_code, r.json()["code"]) == (422, "owner_is_member")
    r = owner.post(path, json={"username": guest.username, "role": "owner"})
    assert r.status_code == 422  # not a role one can give
    _join(owner, editor, story, "editor")
    r = owner.post(path, json={"username": editor.username.upper(), "role": "viewer"})
    assert (r.status_code, r.json()["code"]) == (409, "already_collaborator")
    # a role change by a non-owner (even an editor), and the owner's own row
    r = editor.patch(f"{path}/{guest.username}", json={"role": "editor"})
    assert (r.status_code, r.json()) == (403, {
        "detail": "Only the story's owner can change roles.", "code": "owner_only"})
    for method, body in (("PATCH", {"role": "viewer"}), ("DELETE", None)):
        r = owner.request(method, f"{path}/{owner.username}", json=body)
        assert (r.status_code, r.json()["code"]) == (422, "owner_is_member"), r.text
    r = owner.patch(f"{path}/nobody_here_x", json={"role": "viewer"})
    assert r.json()["code"] == "unknown_user"
    r = owner.patch(f"{path}/{guest.username}", json={"role": "viewer"})
    assert (r.status_code, r.json()["code"]) == (404, "not_collaborator")
    # an invitation: listed for the invitee with the story's summary, declined = gone
    assert owner.post(path, json={"username": guest.username, "role": "contributor"}) \
        .status_code == 201
    (invitation,) = guest.get("/v1/invitations").json()["items"]
    assert invitation["story"]["id"] == story and invitation["role"] == "contributor"
    assert invitation["invited_by"] == owner.username
    assert guest.get("/v1/collaborations").json()["items"] == []
    r = guest.post(f"/v1/invitations/{story}/decline")
    assert r.json() == {"story_id": story, "declined": True}
    assert guest.username not in owner.get(path).text
    assert guest.post(f"/v1/invitations/{story}/accept").json()["code"] == "no_invitation"
    assert guest.get("/v1/invitations").json()["items"] == []
    (membership,) = editor.get("/v1/collaborations").json()["items"]
    assert membership["story"]["id"] == story and membership["role"] == "editor"
    r = editor.post(f"/v1/invitations/{story}/decline")
    assert (r.status_code, r.json()["code"]) == (409, "already_collaborator")


def test_a_proposal_accepted_after_the_story_moved_on(make_account):
    owner, editor, writer = make_account("own"), make_account("ed"), make_account("wr")
    story = publish(owner, ["zero", "one", "two", "three"], visibility="unlisted",
                    scene_bible={"characters": ["Ann"]})["story"]["id"]
    _join(owner, editor, story, "editor")
    _join(owner, writer, story, "contributor")
    props = f"/v1/stories/{story}/proposals"
    # bad proposals first
    for body, status, code in (
            ({"base_version": 9, "segments": {"seg_1": "x"}}, 404, "not_found"),
            ({"base_version": 1, "segments": {"seg_99": "x"}}, 422, "unknown_segments"),
            ({"base_version": 1, "segments": {"seg_1": "one"}}, 422, "nothing_changed"),
            ({"base_version": 1, "segments": {}}, 422, "invalid_request")):
        r = writer.post(props, json={"title": "bad", **body})
        assert (r.status_code, r.json()["code"]) == (status, code), r.text
    r = writer.post(props, json={"title": "Sharper", "description": "tighter prose",
                                 "base_version": 1,
                                 "segments": {"seg_1": "ONE!", "seg_2": "TWO!", "seg_3": "three"}})
    assert r.status_code == 201, r.text
    proposal = r.json()
    assert proposal["segment_count"] == 2  # seg_3 was unchanged: not part of it
    assert (proposal["author"], proposal["status"]) == (writer.username, "open")
    # meanwhile the editor publishes version 2, changing seg_1 and seg_3
    v2 = {"seg_0": "zero", "seg_1": "one (edited)", "seg_2": "two", "seg_3": "three (ed)"}
    r = editor.post(f"/v1/stories/{story}/versions", json={
        "changelog": "edits", "base_version": 1,
        "content": story_body(list(v2.values()), scene_bible={"characters": ["Ann", "Bo"]})
        ["content"]})
    assert r.status_code == 201, r.text
    detail = owner.get(f"/v1/proposals/{proposal['id']}").json()
    changes = {c["segment_id"]: c for c in detail["changes"]}
    assert changes["seg_1"] == {"segment_id": "seg_1", "chapter_title": "One",
                                "scene_title": "Scene 0", "base": "one", "proposed": "ONE!",
                                "current": "one (edited)", "moved_on": True}
    assert changes["seg_2"]["moved_on"] is False and changes["seg_2"]["current"] == "two"
    pid = proposal["id"]
    r = owner.post(f"/v1/proposals/{pid}/accept", json={"segments": None})
    assert r.status_code == 409
    body = r.json()
    assert (body["code"], body["conflicts"], body["latest_version"]) == (
        "proposal_conflict", ["seg_1"], 2)
    assert "version 1" in body["detail"] and writer.username in body["detail"]
    assert owner.post(f"/v1/proposals/{pid}/accept", json={"segments": []}).status_code == 422
    r = owner.post(f"/v1/proposals/{pid}/accept", json={"segments": ["seg_0"]})
    assert r.json()["code"] == "unknown_segments"
    r = owner.post(f"/v1/proposals/{pid}/accept", json={"segments": ["seg_2"],
                                                         "changelog": "took seg 2"})
    assert r.status_code == 201, r.text
    done = r.json()
    assert done["version"]["number"] == 3 and done["version"]["changelog"] == "took seg 2"
    assert (done["version"]["author"], done["version"]["credits"]) == (
        owner.username, [writer.username])
    assert done["proposal"]["status"] == "partially_accepted"
    assert (done["proposal"]["accepted_segments"], done["proposal"]["result_version"]) == (
        ["seg_2"], 3)
    assert done["proposal"]["decided_by"] == owner.username
    # rebased: the editor's version 2 stays, the accepted text goes on top of it
    assert _texts(owner, story, 3) == {**v2, "seg_2": "TWO!"}
    r = owner.get(f"/v1/stories/{story}/versions/3").json()
    assert r["scene_bible"] == {"characters": ["Ann", "Bo"]}
    r = editor.post(f"/v1/proposals/{pid}/accept", json={"segments": ["seg_1"]})
    assert (r.status_code, r.json()["code"]) == (409, "proposal_closed")
    assert writer.post(f"/v1/proposals/{pid}/withdraw").json()["code"] == "proposal_closed"
    # a proposal with a scene bible, accepted whole by the editor
    r = writer.post(props, json={"title": "Cast", "base_version": 3,
                                 "segments": {"seg_0": "ZERO"},
                                 "scene_bible": {"characters": ["Ann", "Bo", "Cy"]}})
    assert r.status_code == 201, r.text
    r = editor.post(f"/v1/proposals/{r.json()['id']}/accept",
                    json={"segments": None, "scene_bible": True})
    assert r.status_code == 201, r.text
    assert r.json()["proposal"]["status"] == "accepted"
    assert owner.get(f"/v1/stories/{story}/versions/4").json()["scene_bible"] == {
        "characters": ["Ann", "Bo", "Cy"]}
    assert _texts(owner, story, 4)["seg_0"] == "ZERO"
    mine = writer.get(props, params={"status": "accepted"}).json()["items"]
    assert {p["status"] for p in mine} == {"accepted", "partially_accepted"}


def test_two_editors_publishing_at_once_one_wins(make_account):
    owner = make_account("own")
    editors = [make_account("eda"), make_account("edb")]
    story = publish(owner, ["base"], visibility="unlisted")["story"]["id"]
    for editor in editors:
        _join(owner, editor, story, "editor")
    for base in (1, 2, 3):  # a few rounds: the winner differs, the rule does not
        start = threading.Barrier(len(editors))
        results: dict[str, object] = {}

        def go(editor) -> None:
            body = {"changelog": editor.username, "base_version": base,
                    "content": story_body([f"by {editor.username} on {base}"])["content"]}
            start.wait()
            results[editor.username] = editor.post(
                f"/v1/stories/{story}/versions", json=body,
                headers={"Idempotency-Key": unique("k")})

        threads = [threading.Thread(target=go, args=(e,)) for e in editors]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = sorted(r.status_code for r in results.values())
        assert statuses == [201, 409], {u: r.text for u, r in results.items()}
        winner = next(u for u, r in results.items() if r.status_code == 201)
        lost = next(r for r in results.values() if r.status_code == 409).json()
        assert lost["code"] == "version_moved" and lost["latest_version"] == base + 1
        assert lost["detail"] == (f"Version {base + 1} was published by {winner} since your "
                                  f"version {base}; pull it, merge, and publish again.")
        assert results[winner].json()["version"]["author"] == winner
    r = owner.get(f"/v1/stories/{story}/versions").json()["items"]
    assert [v["number"] for v in r] == [1, 2, 3, 4]
    r = owner.post(f"/v1/stories/{story}/versions", json={
        "changelog": "x", "base_version": 9, "content": story_body(["x"])["content"]})
    assert (r.status_code, r.json()["code"]) == (422, "unknown_base_version")


def test_a_removed_or_demoted_member_loses_access_at_once(make_account):
    owner, editor = make_account("own"), make_account("ed")
    story = publish(owner, ["a"], visibility="unlisted")["story"]["id"]
    _join(owner, editor, story, "editor")
    content = story_body(["a, edited"])["content"]
    versions = f"/v1/stories/{story}/versions"
    assert editor.post(versions, json={"changelog": "1", "content": content}).status_code == 201
    r = owner.patch(f"/v1/stories/{story}/collaborators/{editor.username}",
                    json={"role": "contributor"})
    assert r.json()["role"] == "contributor"
    r = editor.post(versions, json={"changelog": "2", "content": content})
    assert (r.status_code, r.json()["code"]) == (403, "editor_only")
    r = editor.post(f"/v1/stories/{story}/proposals", json={
        "title": "t", "base_version": 2, "segments": {"seg_0": "proposed"}})
    assert r.status_code == 201
    pid = r.json()["id"]
    assert editor.get(f"/v1/proposals/{pid}").status_code == 200
    r = owner.delete(f"/v1/stories/{story}/collaborators/{editor.username}")
    assert r.json() == {"removed": editor.username}
    assert editor.get(f"/v1/stories/{story}/collaborators").status_code == 404
    assert editor.get(f"/v1/stories/{story}/proposals").status_code == 404
    assert editor.get(f"/v1/proposals/{pid}").status_code == 404  # unlisted: out of reach
    assert editor.post(versions, json={"changelog": "3", "content": content}) \
        .json()["code"] == "editor_only"
    assert editor.get("/v1/collaborations").json()["items"] == []
    # their proposal stays for the owner to decide
    assert owner.post(f"/v1/proposals/{pid}/decline").json()["status"] == "declined"


def test_row_level_security_of_collaborators_and_proposals(postgresql_server,
                                                          make_pg_account):
    server = postgresql_server
    owner, editor, writer, stranger, invitee = (make_pg_account(n) for n in (
        "own", "ed", "wr", "str", "inv"))
    story = publish(owner, ["a", "b"], visibility="unlisted")["story"]["id"]
    _join(owner, editor, story, "editor")
    _join(owner, writer, story, "contributor")
    owner.post(f"/v1/stories/{story}/collaborators",
               json={"username": invitee.username, "role": "viewer"})
    r = writer.post(f"/v1/stories/{story}/proposals", json={
        "title": "t", "base_version": 1, "segments": {"seg_0": "A"}})
    assert r.status_code == 201
    names = (owner, editor, writer, stranger, invitee)
    ids = dict(server.sql("SELECT username, id FROM users WHERE username IN (?, ?, ?, ?, ?)",
                          tuple(a.username for a in names)))
    o, e, w, s, i = (ids[a.username] for a in names)
    (sid,) = server.sql("SELECT id FROM stories WHERE public_id = ?", (story,))[0]
    rows = "SELECT count(*) FROM story_collaborators WHERE story_id = %s"
    props = "SELECT count(*) FROM proposals WHERE story_id = %s"
    stories = "SELECT count(*) FROM stories WHERE id = %s"
    with _as_app_role(server, s) as conn:  # a stranger sees nothing, inserts nothing
        assert (_count(conn, rows, sid), _count(conn, props, sid),
                _count(conn, stories, sid)) == (0, 0, 0)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO story_collaborators (story_id, user_id, role, status, "
                         "invited_by, created_at) VALUES (%s, %s, 'editor', 'invited', %s, "
                         "now())", (sid, s, s))
    with _as_app_role(server, o) as conn:  # the owner: every row
        assert (_count(conn, rows, sid), _count(conn, props, sid)) == (3, 1)
    with _as_app_role(server, w) as conn:  # a contributor: the list, their own proposal
        assert (_count(conn, rows, sid), _count(conn, props, sid),
                _count(conn, stories, sid)) == (3, 1, 1)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # publishing is not theirs
            conn.execute("INSERT INTO story_versions (story_id, number, changelog, author_id, "
                         "segment_count, manifest, modules, scene_bible, chapter_graph, "
                         "created_at) VALUES (%s, 9, '', %s, 0, '{}', '{}', '{}', '{}', now())",
                         (sid, w))
    with _as_app_role(server, i) as conn:  # an invitee: their own row only; no escalation
        assert (_count(conn, rows, sid), _count(conn, props, sid)) == (1, 0)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE story_collaborators SET role = 'editor', status = 'accepted' "
                         "WHERE story_id = %s AND user_id = %s", (sid, i))
    with _as_app_role(server, i) as conn:  # accepting keeps the role: allowed
        cur = conn.execute("UPDATE story_collaborators SET status = 'accepted' "
                           "WHERE story_id = %s AND user_id = %s", (sid, i))
        assert cur.rowcount == 1
        conn.rollback()
    with _as_app_role(server, e) as conn:  # an editor: all proposals; never the ownership
        assert _count(conn, props, sid) == 1
        cur = conn.execute("UPDATE stories SET latest_version = latest_version WHERE id = %s",
                           (sid,))
        assert cur.rowcount == 1
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE stories SET owner_id = %s WHERE id = %s", (e, sid))
    with _as_app_role(server, e) as conn:  # nor inviting
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO story_collaborators (story_id, user_id, role, status, "
                         "invited_by, created_at) VALUES (%s, %s, 'editor', 'invited', %s, "
                         "now())", (sid, s, e))
    # the role functions run for the app role only, never for PUBLIC
    granted = server.sql("SELECT count(*) FROM information_schema.routine_privileges "
                         "WHERE grantee = 'PUBLIC' AND routine_name IN "
                         "('app_story_role', 'app_story_owner', 'app_collab_role')")
    assert granted == [(0,)]
