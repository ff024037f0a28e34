"""Community chapters (versions, browse, download, fork with attribution) and voice templates
(permanent: superseded, never deleted); views; unlisted items readable by id only."""

from __future__ import annotations

import pytest

from tests.marketplace.helpers import unique


def chapter_doc(title: str = "The Gate", **extra) -> dict:
    """A chapter-graph chapter (chapter_graph.schema.json, definitions/chapter)."""
    return {"id": "gch_1", "number": 1, "title": title, "summary": "They reach the gate.",
            "beats": [{"text": "The gate opens.", "priority": 1}],
            "triggers": [{"kind": "location", "value": "gate"}], **extra}


def publish_chapter(account, **meta) -> dict:
    body = {"title": meta.pop("title", unique("Chapter ")), "licence": meta.pop("licence", "CC-BY"),
            "chapter": meta.pop("chapter", chapter_doc()), **meta}
    r = account.post("/v1/chapters", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def template_body(**meta) -> dict:
    return {"name": meta.pop("name", unique("Voice ")), "emotion": meta.pop("emotion", "fear"),
            "parameters": meta.pop("parameters", {"pitch": 1.15, "rate": 0.9, "energy": 3}),
            "licence": meta.pop("licence", "CC-BY"), **meta}


def publish_template(account, **meta) -> dict:
    r = account.post("/v1/voice-templates", json=template_body(**meta))
    assert r.status_code == 201, r.text
    return r.json()


def test_chapter_publish_versions_detail_and_download(alice, bob, anon):
    created = publish_chapter(alice, tags=["Heist", "night"], description="A door",
                              changelog="First cut")
    chapter, cid = created["chapter"], created["chapter"]["id"]
    assert cid.startswith("ch_") and created["version"]["number"] == 1
    assert chapter["owner"] == alice.username and chapter["tags"] == ["heist", "night"]
    assert chapter["forked_from"] is None and chapter["hidden"] is False

    r = alice.post(f"/v1/chapters/{cid}/versions",
                   json={"changelog": "Longer beats",
                         "chapter": chapter_doc(beats=[{"text": "The gate creaks."}])})
    assert r.status_code == 201, r.text
    assert r.json()["version"]["number"] == 2 and r.json()["chapter"]["latest_version"] == 2
    r = bob.post(f"/v1/chapters/{cid}/versions",
                 json={"changelog": "mine", "chapter": chapter_doc()})
    assert r.status_code == 403 and "owner" in r.json()["detail"]
    assert bob.patch(f"/v1/chapters/{cid}", json={"title": "Hijacked"}).status_code == 403
    r = alice.patch(f"/v1/chapters/{cid}", json={"title": "Renamed", "tags": ["Noir"]})
    assert r.status_code == 200 and r.json()["title"] == "Renamed"
    assert r.json()["tags"] == ["noir"]

    versions = anon.get(f"/v1/chapters/{cid}/versions").json()["items"]
    assert [(v["number"], v["changelog"]) for v in versions] == [
        (1, "First cut"), (2, "Longer beats")]
    v1 = anon.get(f"/v1/chapters/{cid}/versions/1/content")
    assert v1.status_code == 200
    assert v1.json()["chapter"] == chapter_doc()  # version 1 is immutable
    assert anon.get(f"/v1/chapters/{cid}/versions/2/content").json()["chapter"]["beats"] == [
        {"text": "The gate creaks."}]
    assert anon.get(f"/v1/chapters/{cid}/versions/3").status_code == 404
    detail = anon.get(f"/v1/chapters/{cid}").json()
    assert detail["stats"]["downloads"] == 2 and detail["stats"]["views"] >= 1
    again = anon.get(f"/v1/chapters/{cid}").json()
    assert again["stats"]["views"] == detail["stats"]["views"] + 1  # a view per detail GET


def test_chapter_validation_is_422_naming_the_problem(alice):
    for bad, words in [
        (chapter_doc(id="chapter-1"), "id"),
        (chapter_doc(colour="red"), "unknown field"),
        ({"id": "gch_1", "number": 1}, "title"),
        (chapter_doc(beats=[{"text": "x", "priority": 9}]), "priority"),
        (chapter_doc(title="a\u0000b"), "NUL"),
    ]:
        r = alice.post("/v1/chapters", json={"title": "T", "licence": "CC-BY",
                                             "chapter": bad})
        assert r.status_code == 422, (bad, r.text)
        assert "chapter" in r.json()["detail"] and words in r.json()["detail"], r.text
    r = alice.post("/v1/chapters", json={"title": "T", "licence": "GPL",
                                         "chapter": chapter_doc()})
    assert r.status_code == 422 and "licence" in r.json()["detail"]
    r = alice.post("/v1/chapters", json={"title": "T", "licence": "CC-BY", "tags": ["!"],
                                         "chapter": chapter_doc()})
    assert r.status_code == 422 and "tags" in r.json()["detail"]


def test_chapter_browse_filters_sort_and_pagination(alice, bob, anon):
    tag, word = unique("tg"), unique("word")
    c1 = publish_chapter(alice, tags=[tag], title=f"The {word} gate")["chapter"]
    c2 = publish_chapter(bob, tags=[tag], description=f"about {word}s")["chapter"]
    c3 = publish_chapter(bob, tags=[tag])["chapter"]
    c4 = publish_chapter(bob, tags=[tag], visibility="unlisted")["chapter"]

    def ids(**params):
        r = anon.get("/v1/chapters", params=params)
        assert r.status_code == 200, r.text
        return [c["id"] for c in r.json()["items"]]

    assert ids(tags=[tag]) == [c3["id"], c2["id"], c1["id"]]  # recent first; c4 unlisted
    assert set(ids(q=word.upper())) == {c1["id"], c2["id"]}
    assert ids(tags=[tag], owner=alice.username) == [c1["id"]]
    assert ids(q="%", tags=[tag]) == []
    for _ in range(2):
        anon.get(f"/v1/chapters/{c1['id']}/versions/1/content")
    anon.get(f"/v1/chapters/{c2['id']}/versions/1/content")
    assert ids(tags=[tag], sort="popular") == [c1["id"], c2["id"], c3["id"]]
    page1 = anon.get("/v1/chapters", params={"tags": [tag], "limit": 2}).json()
    assert page1["total"] == 3 and len(page1["items"]) == 2 and page1["next_offset"] == 2
    page2 = anon.get("/v1/chapters", params={"tags": [tag], "limit": 2, "offset": 2}).json()
    assert page2["next_offset"] is None
    assert [c["id"] for c in page1["items"] + page2["items"]] == ids(tags=[tag])
    def walk(sort: str, between=None) -> list[str]:  # keyset cursors, as for stories
        seen, cursor = [], None
        while True:
            params = {"tags": [tag], "limit": 2, "sort": sort, **({"cursor": cursor}
                                                                  if cursor else {})}
            page = anon.get("/v1/chapters", params=params).json()
            seen += [c["id"] for c in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return seen
            if between:
                between()
                between = None

    before = ids(tags=[tag])
    assert walk("popular") == ids(tags=[tag], sort="popular")
    late = []
    walked = walk("recent", lambda: late.append(publish_chapter(bob, tags=[tag])["chapter"]))
    assert walked == before and late[0]["id"] not in walked  # nothing repeated or skipped
    first = anon.get("/v1/chapters", params={"tags": [tag], "limit": 1}).json()
    r = anon.get("/v1/chapters", params={"sort": "popular", "cursor": first["next_cursor"]})
    assert r.status_code == 422 and "cursor" in r.json()["detail"]
    r = anon.get("/v1/chapters", params={"cursor": first["next_cursor"], "offset": 2})
    assert r.status_code == 422
    assert anon.get("/v1/chapters", params={"limit": 101}).status_code == 422
    assert anon.get("/v1/chapters", params={"sort": "trending"}).status_code == 422
    r = anon.get("/v1/chapters", params=[("owner", alice.username), ("owner", bob.username)])
    assert r.status_code == 422 and "owner" in r.json()["detail"]
    assert c4["id"] not in ids(owner=bob.username)


def test_fork_makes_my_own_copy_crediting_the_source(alice, bob, anon):
    source = publish_chapter(alice, title="Original", tags=["x"])["chapter"]
    sid = source["id"]
    alice.post(f"/v1/chapters/{sid}/versions", json={"changelog": "v2",
                                                     "chapter": chapter_doc("Gate II")})
    r = bob.post(f"/v1/chapters/{sid}/forks", json={"version": 1})
    assert r.status_code == 201, r.text
    fork = r.json()["chapter"]
    assert fork["owner"] == bob.username and fork["id"] != sid
    assert fork["title"] == "Original" and fork["tags"] == ["x"] and fork["licence"] == "CC-BY"
    lineage = fork["forked_from"]
    assert lineage["chapter_id"] == sid and lineage["version"] == 1
    assert lineage["owner"] == alice.username
    assert lineage["attribution"] == f"Based on “Original” (v1) by {alice.username}, CC-BY."
    content = anon.get(f"/v1/chapters/{fork['id']}/versions/1/content").json()
    assert content["chapter"] == chapter_doc() and content["forked_from"] == lineage
    assert r.json()["version"]["changelog"] == f"Forked from {sid} v1 by {alice.username}"
    # the fork is bob's: he versions it, alice cannot
    assert bob.post(f"/v1/chapters/{fork['id']}/versions",
                    json={"changelog": "mine", "chapter": chapter_doc("Mine")}).status_code == 201
    assert alice.patch(f"/v1/chapters/{fork['id']}", json={"title": "no"}).status_code == 403
    # the source counts it and lists it
    source_lineage = anon.get(f"/v1/chapters/{sid}/lineage").json()
    assert source_lineage["forks"] == 1
    assert [c["id"] for c in source_lineage["forked_by"]] == [fork["id"]]
    assert anon.get(f"/v1/chapters/{fork['id']}/lineage").json()["forked_from"] == lineage
    # licences: all-rights-reserved cannot be copied by others; NC stays NC
    closed = publish_chapter(alice, licence="all-rights-reserved")["chapter"]["id"]
    r = bob.post(f"/v1/chapters/{closed}/forks", json={})
    assert r.status_code == 403 and "all-rights-reserved" in r.json()["detail"]
    assert alice.post(f"/v1/chapters/{closed}/forks", json={}).status_code == 201  # own
    nc = publish_chapter(alice, licence="CC-BY-NC")["chapter"]["id"]
    r = bob.post(f"/v1/chapters/{nc}/forks", json={"licence": "CC-BY"})
    assert r.status_code == 422 and "CC-BY-NC" in r.json()["detail"]
    assert bob.post(f"/v1/chapters/{nc}/forks", json={}).json()["chapter"]["licence"] \
        == "CC-BY-NC"
    assert bob.post(f"/v1/chapters/{sid}/forks", json={"version": 9}).status_code == 404
    assert anon.post(f"/v1/chapters/{sid}/forks", json={}).status_code == 401


def test_voice_templates_are_permanent_and_superseded(server, alice, bob, anon):
    emotion = unique("dread")
    old = publish_template(alice, emotion=emotion.upper(), tags=["Horror"])
    tid = old["id"]
    assert old["emotion"] == emotion and old["tags"] == ["horror"]
    assert old["parameter_names"] == ["energy", "pitch", "rate"]
    assert old["supersedes"] is None and old["superseded_by"] is None
    content = anon.get(f"/v1/voice-templates/{tid}/content").json()
    assert content["parameters"] == {"pitch": 1.15, "rate": 0.9, "energy": 3}
    assert content["stats"]["downloads"] == 1 and alice.username in content["attribution"]
    assert anon.get(f"/v1/voice-templates/{tid}").json()["stats"]["views"] == 1

    for client in (alice, bob, anon):
        r = client.delete(f"/v1/voice-templates/{tid}")
        assert r.status_code == 405, r.text
        assert "never deleted" in r.json()["detail"] and "supersedes" in r.json()["detail"]
    assert server.sql("SELECT count(*) FROM voice_templates WHERE public_id = ?",
                      (tid,))[0][0] == 1

    r = bob.post("/v1/voice-templates", json=template_body(supersedes=tid))
    assert r.status_code == 403 and "owner" in r.json()["detail"]
    new = publish_template(alice, emotion=emotion, supersedes=tid,
                           parameters={"pitch": 1.2, "rate": 0.8})
    assert new["supersedes"] == tid and new["superseded_by"] is None
    assert anon.get(f"/v1/voice-templates/{tid}").json()["superseded_by"] == new["id"]
    r = alice.post("/v1/voice-templates", json=template_body(supersedes=tid))
    assert r.status_code == 409 and new["id"] in r.json()["detail"]
    # browse lists current templates unless asked for superseded ones too
    current = anon.get("/v1/voice-templates", params={"emotion": emotion}).json()
    assert [t["id"] for t in current["items"]] == [new["id"]]
    every = anon.get("/v1/voice-templates",
                     params={"emotion": emotion, "include_superseded": True}).json()
    assert [t["id"] for t in every["items"]] == [new["id"], tid]
    one = anon.get("/v1/voice-templates", params={"emotion": emotion, "limit": 1,
                                                  "include_superseded": True}).json()
    two = anon.get("/v1/voice-templates", params={"emotion": emotion, "limit": 1,
                                                  "include_superseded": True,
                                                  "cursor": one["next_cursor"]}).json()
    assert [t["id"] for t in one["items"] + two["items"]] == [new["id"], tid]
    assert two["next_cursor"] is None and one["total"] == 2
    # the old one stays readable and downloadable: reference data is permanent
    assert anon.get(f"/v1/voice-templates/{tid}/content").json()["parameters"]["energy"] == 3


@pytest.mark.parametrize("parameters, words", [
    ({f"p{i}": i for i in range(51)}, "parameters"),
    ({"x" * 41: 1.0}, "parameters"),
    ({"pitch": "high"}, "parameters.pitch"),
    ({"pitch": True}, "parameters.pitch"),
    ({"pitch": 1e12}, "parameters.pitch"),
    ({}, "parameters"),
    ([1, 2], "parameters"),
])
def test_template_parameters_are_validated(alice, parameters, words):
    r = alice.post("/v1/voice-templates", json=template_body(parameters=parameters))
    assert r.status_code == 422, r.text
    assert words in r.json()["detail"]


def test_template_nan_and_bad_fields_are_422(alice):
    raw = ('{"name": "n", "emotion": "fear", "licence": "CC-BY", '
           '"parameters": {"pitch": NaN}}')
    r = alice.post("/v1/voice-templates", content=raw.encode(),
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "parameters.pitch" in r.json()["detail"]
    r = alice.post("/v1/voice-templates", json=template_body(emotion="!!"))
    assert r.status_code == 422 and "emotion" in r.json()["detail"]
    r = alice.post("/v1/voice-templates", json=template_body(supersedes="vt_nothere"))
    assert r.status_code == 404


def test_unlisted_items_are_readable_by_id_but_never_listed(alice, bob, anon):
    title = unique("Secret ")
    chapter = publish_chapter(alice, title=title, visibility="unlisted")["chapter"]["id"]
    template = publish_template(alice, name=title, visibility="unlisted")["id"]
    for client in (bob, anon):  # the id is the link
        assert client.get(f"/v1/chapters/{chapter}").status_code == 200
        assert client.get(f"/v1/chapters/{chapter}/versions/1/content").status_code == 200
        assert client.get(f"/v1/voice-templates/{template}").status_code == 200
        assert client.get("/v1/chapters", params={"q": title}).json()["total"] == 0
        assert client.get("/v1/voice-templates", params={"q": title}).json()["total"] == 0
    assert chapter not in bob.get("/v1/accounts/me/chapters").text
    assert template not in bob.get("/v1/accounts/me/voice-templates").text
    assert chapter in alice.get("/v1/accounts/me/chapters").text
    assert template in alice.get("/v1/accounts/me/voice-templates").text
    assert bob.patch(f"/v1/chapters/{chapter}", json={"title": "x"}).status_code == 403
    assert bob.get("/v1/chapters/ch_doesnotexist").status_code == 404
    assert bob.get("/v1/voice-templates/not-an-id").status_code == 422


def test_idempotent_publishes_create_one_item(server, alice):
    title = unique("Idem ")
    key = {"Idempotency-Key": unique("key")}
    body = {"title": title, "licence": "CC-BY", "chapter": chapter_doc()}
    first = alice.post("/v1/chapters", json=body, headers=key)
    second = alice.post("/v1/chapters", json=body, headers=key)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json() and second.headers["idempotent-replayed"] == "true"
    assert server.sql("SELECT count(*) FROM community_chapters WHERE title = ?",
                      (title,))[0][0] == 1
    other = alice.post("/v1/chapters", json={**body, "title": "else"}, headers=key)
    assert other.status_code == 422 and "already used" in other.json()["detail"]

    key = {"Idempotency-Key": unique("key")}
    body = template_body(name=title)
    a = alice.post("/v1/voice-templates", json=body, headers=key)
    b = alice.post("/v1/voice-templates", json=body, headers=key)
    assert a.status_code == b.status_code == 201 and a.json() == b.json()
    assert server.sql("SELECT count(*) FROM voice_templates WHERE name = ?",
                      (title,))[0][0] == 1
    fork_key = {"Idempotency-Key": unique("key")}
    cid = first.json()["chapter"]["id"]
    f1 = alice.post(f"/v1/chapters/{cid}/forks", json={}, headers=fork_key)
    f2 = alice.post(f"/v1/chapters/{cid}/forks", json={}, headers=fork_key)
    assert f1.json() == f2.json()
    assert alice.get(f"/v1/chapters/{cid}").json()["stats"]["forks"] == 1


def test_story_detail_counts_views(alice, anon):
    from tests.marketplace.helpers import publish

    sid = publish(alice, ["x"])["story"]["id"]
    before = anon.get(f"/v1/stories/{sid}").json()["stats"]["views"]
    assert anon.get(f"/v1/stories/{sid}").json()["stats"]["views"] == before + 1


def test_meta_reports_the_community_features_and_limits(anon):
    meta = anon.get("/v1/meta").json()
    assert {"community-chapters", "voice-templates", "moderation-flags", "quotas",
            "views"} <= set(meta["features"])
    assert meta["limits"]["max_voice_parameters"] == 50
    assert meta["limits"]["max_voice_parameter_name"] == 40
    assert meta["limits"]["max_flag_note"] == 2000
    assert set(meta["quotas"]) == {"free", "pro"}
    assert meta["flag_reasons"] == ["spam", "abuse", "copyright", "other"]
