"""Every role × every action on a story with collaborators, through real HTTP on both
backends (PostgreSQL as the non-owner app role, so row-level security is in force).

One PRIVATE story per backend (visibility "private": only its owner and accepted
collaborators read it), with an owner, an editor, a contributor, a viewer, a user invited but
not accepted (as a viewer), a stranger and an anonymous client.  Each cell of ``MATRIX`` is one
request; the table is the expected HTTP status.  Columns run in the table's order (``leave``
last: it ends the memberships); where a cell succeeds and changes something, it has a row of
its own to act on (a proposal per deciding cell, a second story for DELETE), so that every
other cell meets the same state.

A private story does not exist for anyone outside it: the stranger and the anonymous client
get 404 for every read (anonymous writes: 401, authentication first), the invitee too, except
on the collaborator routes, where they may leave (decline) and are told that only the owner
invites.  The viewer role is what lets someone read the story.  (An unlisted story stays
readable by anyone holding its link: ``test_private_stories.py``, ``test_privacy.py``.)
"""

from __future__ import annotations

import pytest

from tests.marketplace.conftest import _account_factory
from tests.marketplace.helpers import publish, story_body, unique

ROLES = ("owner", "editor", "contributor", "viewer", "invited", "stranger", "anonymous")
MATRIX = """
action              owner editor contributor viewer invited stranger anonymous
read_story            200    200         200    200     404      404       404
read_content          200    200         200    200     404      404       404
list_versions         200    200         200    200     404      404       404
list_collaborators    200    200         200    200     404      404       401
invite                201    403         403    403     403      404       401
change_role           200    403         403    403     403      404       401
remove_other          200    403         403    403     403      404       401
publish               201    201         403    403     404      404       401
patch_metadata        200    403         403    403     404      404       401
propose               201    201         201    403     404      404       401
list_proposals        200    200         200    403     404      404       401
read_proposal         200    200         200    404     404      404       401
accept_proposal       201    201         403    404     404      404       401
decline_proposal      200    200         403    404     404      404       401
withdraw_proposal     403    403         200    404     404      404       401
delete_story          200    403         403    403     404      404       401
leave                 422    200         200    200     200      404       401
"""
# The error code of every 403 of a column (the contract's codes).
CODES_403 = {
    "invite": "owner_only", "change_role": "owner_only", "remove_other": "owner_only",
    "publish": "editor_only", "patch_metadata": "forbidden", "propose": "contributor_only",
    "list_proposals": "contributor_only", "accept_proposal": "editor_only",
    "decline_proposal": "editor_only", "withdraw_proposal": "author_only",
    "delete_story": "forbidden",
}
TEXTS = [f"Segment {i} as first published." for i in range(8)]


def parse(table: str) -> dict[str, dict[str, int]]:
    lines = [line.split() for line in table.strip().splitlines()]
    header = lines[0][1:]
    assert tuple(header) == ROLES
    return {row[0]: dict(zip(header, map(int, row[1:]))) for row in lines[1:]}


EXPECTED = parse(MATRIX)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def team(request):
    """The story, its people (accounts; anonymous is a client without a token) and the rows
    the deciding cells act on."""
    server = request.getfixturevalue(f"{request.param}_server")
    make, made = _account_factory(server)
    people = {role: make(role[:5]) for role in ROLES[:-1]}
    extra = {name: make(name) for name in ("target", "victim", "spare")}
    owner = people["owner"]
    story = publish(owner, TEXTS, visibility="private")["story"]
    assert story["visibility"] == "private"
    story = story["id"]
    doomed = publish(owner, ["to be deleted"], visibility="private")["story"]["id"]
    members = [("editor", "editor"), ("contributor", "contributor"), ("viewer", "viewer"),
               ("invited", "viewer")]
    for sid in (story, doomed):
        for name, role in members:
            r = owner.post(f"/v1/stories/{sid}/collaborators",
                           json={"username": people[name].username, "role": role})
            assert r.status_code == 201, r.text
            if name != "invited":
                assert people[name].post(f"/v1/invitations/{sid}/accept").status_code == 200
    for name in ("target", "victim"):
        owner.post(f"/v1/stories/{story}/collaborators",
                   json={"username": extra[name].username, "role": "contributor"})
        assert extra[name].post(f"/v1/invitations/{story}/accept").status_code == 200
    # proposals by the contributor, one segment each (so accepting one never conflicts with
    # another): two to accept, two to decline, one to withdraw, one the refusals aim at
    proposals = {}
    for i, name in enumerate(("accept_owner", "accept_editor", "decline_owner",
                              "decline_editor", "withdraw", "refused")):
        r = people["contributor"].post(f"/v1/stories/{story}/proposals", json={
            "title": name, "base_version": 1, "segments": {f"seg_{i}": f"{name} text"}})
        assert r.status_code == 201, r.text
        proposals[name] = r.json()["id"]
    with server.client() as anon:
        yield {"server": server, "people": {**people, "anonymous": anon}, "extra": extra,
               "story": story, "doomed": doomed, "proposals": proposals}
    for account in made:
        account.close()


def _cell(team: dict, action: str, role: str):
    """One request: ``action`` done by ``role``; returns the response."""
    client = team["people"][role]
    me = getattr(client, "username", "anonymous")
    sid, props = team["story"], team["proposals"]
    content = story_body(TEXTS)["content"]  # the same texts: no proposal conflicts

    def decided(kind: str) -> str:  # the deciding cells that succeed act on their own row
        return props.get(f"{kind}_{role}", props["refused"])

    requests = {
        "read_story": ("GET", f"/v1/stories/{sid}", None),
        "read_content": ("GET", f"/v1/stories/{sid}/versions/1/content", None),
        "list_versions": ("GET", f"/v1/stories/{sid}/versions", None),
        "list_collaborators": ("GET", f"/v1/stories/{sid}/collaborators", None),
        "invite": ("POST", f"/v1/stories/{sid}/collaborators",
                   {"username": team["extra"]["spare"].username, "role": "viewer"}),
        "change_role": ("PATCH", f"/v1/stories/{sid}/collaborators/"
                        f"{team['extra']['target'].username}", {"role": "viewer"}),
        "remove_other": ("DELETE", f"/v1/stories/{sid}/collaborators/"
                         f"{team['extra']['victim'].username}", None),
        "publish": ("POST", f"/v1/stories/{sid}/versions",
                    {"changelog": f"by {role}", "content": content}),
        "patch_metadata": ("PATCH", f"/v1/stories/{sid}", {"description": f"by {role}"}),
        "propose": ("POST", f"/v1/stories/{sid}/proposals",
                    {"title": f"by {role}", "base_version": 1,
                     "segments": {"seg_7": f"{role} proposes"}}),
        "list_proposals": ("GET", f"/v1/stories/{sid}/proposals", None),
        "read_proposal": ("GET", f"/v1/proposals/{props['refused']}", None),
        "accept_proposal": ("POST", f"/v1/proposals/{decided('accept')}/accept",
                            {"segments": None}),
        "decline_proposal": ("POST", f"/v1/proposals/{decided('decline')}/decline", None),
        "withdraw_proposal": ("POST", f"/v1/proposals/"
                              f"{props['withdraw'] if role == 'contributor' else props['refused']}"
                              "/withdraw", None),
        "delete_story": ("DELETE", f"/v1/stories/{team['doomed']}", None),
        "leave": ("DELETE", f"/v1/stories/{sid}/collaborators/{me}", None),
    }
    method, path, body = requests[action]
    headers = {"Idempotency-Key": unique("k")} if method != "GET" else {}
    return client.request(method, path, json=body, headers=headers)


def test_every_role_times_every_action(team):
    seen: dict[str, dict[str, int]] = {}
    problems = []
    for action, expected in EXPECTED.items():
        # the owner deletes the second story last, once the others were refused
        roles = ROLES[1:] + ROLES[:1] if action == "delete_story" else ROLES
        for role in roles:
            r = _cell(team, action, role)
            seen.setdefault(action, {})[role] = r.status_code
            if r.status_code != expected[role]:
                problems.append(f"{role} {action}: {r.status_code}, expected "
                                f"{expected[role]}: {r.text[:200]}")
            elif r.status_code == 403 and r.json()["code"] != CODES_403[action]:
                problems.append(f"{role} {action}: code {r.json()['code']}, expected "
                                f"{CODES_403[action]}")
            elif r.status_code >= 400:
                assert r.json()["detail"], (role, action)  # a sentence, always
    backend = team["server"].backend
    print(f"\n{backend}: observed\n{'action':20}" + "".join(f"{r:>12}" for r in ROLES))
    for action, row in seen.items():
        print(f"{action:20}" + "".join(f"{row[r]:>12}" for r in ROLES))
    assert not problems, "\n".join(problems)
    check_effects(team)


def check_effects(team: dict) -> None:
    """After the matrix: the owner's view of what the successful cells changed."""
    owner, sid = team["people"]["owner"], team["story"]
    people = team["people"]
    collaborators = {c["username"]: c for c in
                     owner.get(f"/v1/stories/{sid}/collaborators").json()["items"]}
    assert team["extra"]["victim"].username not in collaborators  # removed
    assert collaborators[team["extra"]["target"].username]["role"] == "viewer"  # changed
    assert collaborators[team["extra"]["spare"].username]["status"] == "invited"
    for left in ("editor", "contributor", "viewer", "invited"):  # they all left
        assert people[left].username not in collaborators
        # ... and the private story is gone for them with the next request
        assert people[left].get(f"/v1/stories/{sid}").status_code == 404
    versions = owner.get(f"/v1/stories/{sid}/versions").json()["items"]
    by = {(v["author"], tuple(v["credits"])) for v in versions}
    contributor = people["contributor"].username
    assert (people["editor"].username, ()) in by  # the editor published
    assert (people["editor"].username, (contributor,)) in by  # and accepted a proposal
    assert (people["owner"].username, (contributor,)) in by
    everything = owner.get(f"/v1/stories/{sid}/proposals", params={"status": "all"}).json()
    status = {p["title"]: p["status"] for p in everything["items"]}
    assert status["accept_owner"] == status["accept_editor"] == "accepted"
    assert status["decline_owner"] == status["decline_editor"] == "declined"
    assert status["withdraw"] == "withdrawn" and status["refused"] == "open"
    assert {"by owner", "by editor", "by contributor"} <= set(status)
    r = owner.get(f"/v1/stories/{team['doomed']}")
    assert r.status_code == 410
    latest = owner.get(f"/v1/stories/{sid}").json()["latest_version"]
    texts = [s["text"] for ch in owner.get(f"/v1/stories/{sid}/versions/{latest}/content")
             .json()["content"]["manuscript"]["chapters"] for sc in ch["scenes"]
             for s in sc["segments"]]
    assert texts[0] == "accept_owner text" and texts[1] == "accept_editor text"
    assert texts[2:] == TEXTS[2:]
