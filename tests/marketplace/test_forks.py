"""Forks: reference → delta → full, merged reads, source sync with three-way merge, remixes."""

from __future__ import annotations

import hashlib
import json
import zlib

import pytest

from tests.marketplace.helpers import publish, segments_of, story_body


def _own_texts(server, fork_id: str) -> dict[str, str]:
    """The fork's stored override map (forks.overrides: zlib-compressed JSON)."""
    (packed,) = server.sql("SELECT overrides FROM forks WHERE public_id = ?", (fork_id,))[0]
    return json.loads(zlib.decompress(bytes(packed))) if packed is not None else {}


def _fork_rows(server, fork_id: str) -> tuple[int, bool, str]:
    overrides = len(_own_texts(server, fork_id))
    has_manifest, strategy = server.sql(
        "SELECT manifest IS NOT NULL, strategy FROM forks WHERE public_id = ?", (fork_id,))[0]
    return overrides, bool(has_manifest), strategy


def _texts(account, fork_id: str) -> dict[str, str]:
    r = account.get(f"/v1/forks/{fork_id}/content")
    assert r.status_code == 200, r.text
    return {s["id"]: s["text"] for s in segments_of(r.json()["content"])}


def _order(account, fork_id: str) -> list[str]:
    return [s["id"] for s in segments_of(account.get(f"/v1/forks/{fork_id}/content")
                                         .json()["content"])]


def test_fork_is_a_reference_then_delta_then_full(server, alice, bob):
    texts = [f"Source line {i}." for i in range(10)]
    sid = publish(alice, texts)["story"]["id"]
    r = bob.post(f"/v1/stories/{sid}/forks", json={})
    assert r.status_code == 201, r.text
    fork = r.json()
    fid = fork["id"]
    assert fork["strategy"] == "reference" and fork["source"]["synced_version"] == 1
    assert _fork_rows(server, fid) == (0, False, "reference")
    assert list(_texts(bob, fid).values()) == texts

    r = bob.patch(f"/v1/forks/{fid}/segments",
                  json={"segments": {"seg_1": "Mine 1.", "seg_2": "Mine 2.", "seg_3": "Mine 3."}})
    assert r.status_code == 200, r.text
    assert r.json()["strategy"] == "delta" and r.json()["modified"] == 3
    assert _fork_rows(server, fid) == (3, False, "delta")  # only the overrides are stored
    merged = _texts(bob, fid)
    assert merged["seg_1"] == "Mine 1." and merged["seg_0"] == "Source line 0."

    r = bob.patch(f"/v1/forks/{fid}/segments", json={"segments": {"seg_3": "Source line 3."}})
    assert r.json()["modified"] == 2 and _fork_rows(server, fid)[0] == 2

    edits = {f"seg_{i}": f"Mine {i}." for i in range(4, 9)}  # 2 + 5 = 7 of 10 > 60 %
    r = bob.patch(f"/v1/forks/{fid}/segments", json={"segments": edits})
    assert r.json()["strategy"] == "full"
    assert _fork_rows(server, fid) == (0, True, "full")  # materialised: its own manifest
    merged = _texts(bob, fid)
    assert [merged[f"seg_{i}"] for i in range(10)] == (
        ["Source line 0.", "Mine 1.", "Mine 2.", "Source line 3."]
        + [f"Mine {i}." for i in range(4, 9)] + ["Source line 9."])
    r = bob.patch(f"/v1/forks/{fid}/segments", json={"segments": {"seg_99": "new"}})
    assert r.status_code == 422 and "seg_99" in r.json()["detail"]
    assert [f["id"] for f in bob.get("/v1/forks").json()["items"]] == [fid]
    assert alice.get(f"/v1/stories/{sid}").json()["stats"]["forks"] == 1


SOURCE = {
    0: "Line zero stays.",
    1: "The morning was grey.",
    2: "Bob will change this.",
    3: "The dragon slept in the cave.",
    4: "The knight rode north at dawn. The castle waited in the hills.",
    5: "Both fix this tpyo.",
    6: "Only the source removes this.",
    7: "The source removes this, but the fork edits it.",
    8: "Line eight stays unchanged.",
    9: "Line nine stays unchanged.",
}


def _v2_texts() -> list[tuple[str, str]]:
    t = dict(SOURCE)
    t[1] = "The morning was golden."
    t[3] = "The dragon woke in the cave."
    t[4] = "The knight rode north at dawn. The castle burned in the hills."
    t[5] = "Both fix this typo."
    del t[6], t[7]
    t[10] = "A new ending from the source."
    return [(f"seg_{k}", v) for k, v in t.items()]


def _content(pairs: list[tuple[str, str]]) -> dict:
    content = story_body([])["content"]
    content["manuscript"] = {"chapters": [{"id": "chap_1", "title": "One", "scenes": [
        {"id": "scene_0", "title": "All", "segments": [{"id": i, "text": t} for i, t in pairs]}
    ]}]}
    return content


@pytest.fixture
def diverged(alice, bob):
    """alice's story v1, bob's fork with edits, then alice's v2 changing some segments."""
    sid = publish(alice, [])["story"]["id"]
    v1 = [(f"seg_{k}", v) for k, v in SOURCE.items()]
    r = alice.post(f"/v1/stories/{sid}/versions",
                   json={"changelog": "the text", "content": _content(v1)})
    assert r.status_code == 201
    fid = bob.post(f"/v1/stories/{sid}/forks", json={"version": 2}).json()["id"]
    r = bob.patch(f"/v1/forks/{fid}/segments", json={"segments": {
        "seg_2": "Bob changed this.",
        "seg_3": "The dragon died in the cave.",
        "seg_4": "The knight rode south at dawn. The castle waited in the hills.",
        "seg_5": "Both fix this typo.",
        "seg_7": "The fork edits this, and the source removes it.",
    }})
    assert r.status_code == 200 and r.json()["strategy"] == "delta"
    r = alice.post(f"/v1/stories/{sid}/versions",
                   json={"changelog": "Golden morning", "content": _content(_v2_texts())})
    assert r.status_code == 201
    return sid, fid


def test_sync_shows_only_changed_segments_and_the_merge(bob, diverged):
    _, fid = diverged
    assert bob.get(f"/v1/forks/{fid}").json()["source"]["behind"] is True
    r = bob.get(f"/v1/forks/{fid}/sync")
    assert r.status_code == 200, r.text
    sync = r.json()
    assert (sync["from_version"], sync["to_version"], sync["up_to_date"]) == (2, 3, False)
    changes = sync["changes"]
    assert {c["id"] for c in changes["modified"]} == {"seg_1", "seg_3", "seg_4", "seg_5"}
    assert changes["added"] == [{"id": "seg_10", "text": "A new ending from the source."}]
    assert set(changes["removed"]) == {"seg_6", "seg_7"}
    assert "Line eight stays" not in r.text and "Line zero" not in r.text  # unchanged: absent
    merge = sync["merge"]
    assert {c["id"] for c in merge["conflicts"]} == {"seg_3", "seg_7"}
    conflict = next(c for c in merge["conflicts"] if c["id"] == "seg_3")
    assert conflict == {"id": "seg_3", "kind": "segment",
                        "base": "The dragon slept in the cave.",
                        "theirs": "The dragon woke in the cave.",
                        "mine": "The dragon died in the cave."}
    assert merge["auto_merged"] == [{"id": "seg_4", "text": (
        "The knight rode south at dawn. The castle burned in the hills.")}]
    assert {"seg_1", "seg_6", "seg_10"} <= set(merge["taken_theirs"])
    assert "seg_2" in merge["kept_mine"]
    assert bob.get(f"/v1/forks/{fid}").json()["source"]["synced_version"] == 2  # GET: no change


def test_sync_needs_every_conflict_resolved_and_keep_both_loses_nothing(server, bob, diverged):
    _, fid = diverged
    r = bob.post(f"/v1/forks/{fid}/sync", json={"resolutions": {"seg_3": "both"}})
    assert r.status_code == 409 and "seg_7" in r.json()["detail"]
    r = bob.post(f"/v1/forks/{fid}/sync",
                 json={"resolutions": {"seg_3": "both", "seg_7": "mine", "seg_8": "mine"}})
    assert r.status_code == 422 and "seg_8" in r.json()["detail"]
    assert bob.get(f"/v1/forks/{fid}").json()["source"]["synced_version"] == 2
    r = bob.post(f"/v1/forks/{fid}/sync",
                 json={"to_version": 3, "resolutions": {"seg_3": "both", "seg_7": "both"}})
    assert r.status_code == 200, r.text
    assert r.json()["fork"]["source"]["synced_version"] == 3
    assert r.json()["fork"]["strategy"] == "full"  # keep-both added a segment
    texts = _texts(bob, fid)
    order = _order(bob, fid)
    values = list(texts.values())
    assert "The dragon woke in the cave." in values and "The dragon died in the cave." in values
    extra = order[order.index("seg_3") + 1]
    assert texts["seg_3"] == "The dragon woke in the cave."
    assert texts[extra] == "The dragon died in the cave."
    assert texts["seg_7"] == "The fork edits this, and the source removes it."
    assert texts["seg_1"] == "The morning was golden." and texts["seg_2"] == "Bob changed this."
    assert texts["seg_4"] == "The knight rode south at dawn. The castle burned in the hills."
    assert "seg_6" not in texts and texts["seg_10"] == "A new ending from the source."
    assert order[:3] == ["seg_0", "seg_1", "seg_2"] and order[-3:] == [
        "seg_8", "seg_9", "seg_10"]
    after = bob.get(f"/v1/forks/{fid}/sync").json()
    assert after["up_to_date"] is True and after["merge"]["conflicts"] == []


@pytest.mark.parametrize("choice", ["theirs", "mine", "custom"])
def test_sync_resolutions_theirs_mine_custom(server, bob, diverged, choice):
    _, fid = diverged
    seg3 = {"theirs": "theirs", "mine": "mine", "custom": {"text": "The dragon dreamed."}}[choice]
    r = bob.post(f"/v1/forks/{fid}/sync",
                 json={"resolutions": {"seg_3": seg3, "seg_7": "theirs"}})
    assert r.status_code == 200, r.text
    texts = _texts(bob, fid)
    assert texts["seg_3"] == {"theirs": "The dragon woke in the cave.",
                              "mine": "The dragon died in the cave.",
                              "custom": "The dragon dreamed."}[choice]
    assert "seg_7" not in texts  # the source's removal taken
    assert texts["seg_2"] == "Bob changed this."
    # Same structure as the source: still a delta, overrides only for the fork's own texts.
    overrides, has_manifest, strategy = _fork_rows(server, fid)
    assert strategy == "delta" and not has_manifest
    assert overrides == {"theirs": 2, "mine": 3, "custom": 3}[choice]  # seg_2, seg_4 (+seg_3)


def test_sync_of_overridden_parts(alice, bob):
    body = story_body(["a"], modules={"idea": "A dragon.", "world": "Hills"})
    sid = publish(alice, ["a"], modules=body["content"]["modules"])["story"]["id"]
    fid = bob.post(f"/v1/stories/{sid}/forks", json={}).json()["id"]
    r = bob.patch(f"/v1/forks/{fid}/parts",
                  json={"modules": {"idea": "A wyrm.", "world": "Hills"}})
    assert r.status_code == 200 and r.json()["parts_overridden"] == ["modules"]
    content = body["content"]
    content["modules"] = {"idea": "A red dragon.", "world": "Hills", "tone": "dark"}
    assert alice.post(f"/v1/stories/{sid}/versions",
                      json={"changelog": "modules", "content": content}).status_code == 201
    sync = bob.get(f"/v1/forks/{fid}/sync").json()
    assert sync["changes"]["parts"]["modules"]["changed"] == {"idea": "A red dragon.",
                                                               "tone": "dark"}
    assert [c["id"] for c in sync["merge"]["conflicts"]] == ["modules/idea"]
    r = bob.post(f"/v1/forks/{fid}/sync", json={"resolutions": {"modules/idea": "both"}})
    assert r.status_code == 200, r.text
    modules = bob.get(f"/v1/forks/{fid}/content").json()["content"]["modules"]
    assert modules == {"idea": "A red dragon.", "idea (fork)": "A wyrm.", "world": "Hills",
                       "tone": "dark"}


def test_remix_keeps_attribution_and_lineage(alice, bob, anon):
    sid = publish(alice, ["Once.", "Twice."], licence="CC-BY")["story"]["id"]
    fid = bob.post(f"/v1/stories/{sid}/forks", json={}).json()["id"]
    bob.patch(f"/v1/forks/{fid}/segments", json={"segments": {"seg_1": "Thrice."}})
    r = bob.post(f"/v1/forks/{fid}/publish",
                 json={"title": "The Remix", "licence": "CC-BY", "changelog": "remixed"})
    assert r.status_code == 201, r.text
    remix = r.json()["story"]
    assert remix["owner"] == bob.username
    assert remix["forked_from"] == {"story_id": sid, "version": 1, "owner": alice.username}
    content = anon.get(f"/v1/stories/{remix['id']}/versions/1/content").json()["content"]
    assert [s["text"] for s in segments_of(content)] == ["Once.", "Thrice."]
    lineage = anon.get(f"/v1/stories/{sid}/lineage").json()
    assert [s["id"] for s in lineage["forked_by"]] == [remix["id"]]
    assert lineage["forks"] == 1 and lineage["forked_from"] is None
    assert anon.get(f"/v1/stories/{remix['id']}/lineage").json()["forked_from"]["story_id"] \
        == sid
    assert bob.get(f"/v1/forks/{fid}").json()["remix_story_id"] == remix["id"]
    again = bob.post(f"/v1/forks/{fid}/publish",
                     json={"title": "The Remix", "licence": "CC-BY", "changelog": "more"})
    assert again.status_code == 201 and again.json()["version"] == 2
    assert again.json()["story"]["id"] == remix["id"]


def test_remix_respects_the_source_licence(alice, bob):
    closed = publish(alice, ["x"], licence="all-rights-reserved")["story"]["id"]
    fid = bob.post(f"/v1/stories/{closed}/forks", json={}).json()["id"]
    r = bob.post(f"/v1/forks/{fid}/publish", json={"title": "R", "licence": "CC-BY"})
    assert r.status_code == 403 and "all-rights-reserved" in r.json()["detail"]
    nc = publish(alice, ["x"], licence="CC-BY-NC")["story"]["id"]
    fid = bob.post(f"/v1/stories/{nc}/forks", json={}).json()["id"]
    r = bob.post(f"/v1/forks/{fid}/publish", json={"title": "R", "licence": "CC-BY"})
    assert r.status_code == 422 and "CC-BY-NC" in r.json()["detail"]
    r = bob.post(f"/v1/forks/{fid}/publish", json={"title": "R", "licence": "CC-BY-NC"})
    assert r.status_code == 201


def test_delete_fork_removes_its_rows(server, alice, bob):
    sid = publish(alice, ["a", "b", "c"])["story"]["id"]
    fid = bob.post(f"/v1/stories/{sid}/forks", json={}).json()["id"]
    bob.patch(f"/v1/forks/{fid}/segments", json={"segments": {"seg_0": "changed"}})
    assert _fork_rows(server, fid)[0] == 1
    r = bob.delete(f"/v1/forks/{fid}")
    assert r.status_code == 200 and r.json() == {"deleted": fid}
    assert bob.get(f"/v1/forks/{fid}").status_code == 404
    assert server.sql("SELECT count(*) FROM forks WHERE public_id = ?", (fid,))[0][0] == 0
    assert alice.get(f"/v1/stories/{sid}").json()["stats"]["forks"] == 0


def test_remix_of_an_unlisted_story_credits_without_leaking_the_link(alice, bob, anon):
    sid = publish(alice, ["secret draft"], visibility="unlisted")["story"]["id"]
    fid = bob.post(f"/v1/stories/{sid}/forks", json={}).json()["id"]  # bob has the link
    assert "secret draft" in bob.get(f"/v1/forks/{fid}/content").text
    remix = bob.post(f"/v1/forks/{fid}/publish",
                     json={"title": "Open remix", "licence": "CC-BY"}).json()["story"]
    seen = anon.get(f"/v1/stories/{remix['id']}").json()
    assert seen["forked_from"] == {"story_id": None, "version": 1, "owner": alice.username}
    # whoever already holds the link (bob: he forked it) sees it; the remix is public
    assert bob.get(f"/v1/stories/{remix['id']}").json()["forked_from"]["story_id"] == sid
    lineage = anon.get(f"/v1/stories/{sid}/lineage").json()
    assert [s["id"] for s in lineage["forked_by"]] == [remix["id"]]


def test_a_delta_forks_texts_live_in_its_own_row_until_it_is_materialised(server, alice, bob):
    """Edits of a delta fork are one compressed map in the fork's row, not shared texts; a
    remix (a published version) and a full copy store them as content-addressed texts."""
    sid = publish(alice, [f"Line {i}." for i in range(10)])["story"]["id"]
    fid = bob.post(f"/v1/stories/{sid}/forks", json={}).json()["id"]
    mine = "Bob's own line, written once. " + "x" * 50
    digest = hashlib.sha256(mine.encode()).hexdigest()
    bob.patch(f"/v1/forks/{fid}/segments", json={"segments": {"seg_2": mine}})
    assert _own_texts(server, fid) == {"seg_2": mine}
    assert server.sql("SELECT count(*) FROM segment_texts WHERE hash = ?", (digest,))[0][0] == 0
    assert _texts(bob, fid)["seg_2"] == mine

    remix = bob.post(f"/v1/forks/{fid}/publish", json={"title": "R", "licence": "CC-BY"})
    assert remix.status_code == 201, remix.text
    rid = remix.json()["story"]["id"]
    published = segments_of(bob.get(f"/v1/stories/{rid}/versions/1/content").json()["content"])
    assert {s["id"]: s["text"] for s in published}["seg_2"] == mine
    assert server.sql("SELECT count(*) FROM segment_texts WHERE hash = ?", (digest,))[0][0] == 1

    edits = {f"seg_{i}": f"Rewritten {i}." for i in range(8)}  # > 60 %: a full copy
    bob.patch(f"/v1/forks/{fid}/segments", json={"segments": edits})
    assert _fork_rows(server, fid) == (0, True, "full")
    texts = _texts(bob, fid)
    assert texts["seg_7"] == "Rewritten 7." and texts["seg_9"] == "Line 9."
    later = hashlib.sha256(b"Rewritten 7.").hexdigest()
    assert server.sql("SELECT count(*) FROM segment_texts WHERE hash = ?", (later,))[0][0] == 1
