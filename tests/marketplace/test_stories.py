"""Reference stories: immutable versions, texts stored once, browse, likes, idempotency."""

from __future__ import annotations

import hashlib

from tests.marketplace.helpers import publish, segments_of, story_body, unique


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _count_texts(server, texts) -> int:
    hashes = sorted({_sha(t) for t in texts})
    marks = ",".join("?" * len(hashes))
    return server.sql(f"SELECT count(*) FROM segment_texts WHERE hash IN ({marks})",
                      tuple(hashes))[0][0]


def test_publish_versions_are_immutable_and_texts_stored_once(server, alice, anon):
    nonce = unique("n")
    texts = [f"{nonce} paragraph {i}" for i in range(6)] + [f"{nonce} paragraph 0"]
    total_before = server.sql("SELECT count(*) FROM segment_texts")[0][0]
    created = publish(alice, texts, changelog="First draft")
    sid = created["story"]["id"]
    assert created["version"]["number"] == 1 and created["version"]["segment_count"] == 7
    assert _count_texts(server, texts) == 6  # the repeated paragraph is stored once
    v1 = anon.get(f"/v1/stories/{sid}/versions/1").json()
    assert all(len(seg["hash"]) == 64 for ch in v1["manifest"]["chapters"]
               for sc in ch["scenes"] for seg in sc["segments"])

    texts2 = list(texts)
    texts2[1] = f"{nonce} paragraph 1, revised"
    texts2[4] = f"{nonce} paragraph 4, revised"
    r = alice.post(f"/v1/stories/{sid}/versions",
                   json={"changelog": "Revised 1 and 4",
                         "content": story_body(texts2)["content"]})
    assert r.status_code == 201, r.text
    assert r.json()["version"]["number"] == 2
    assert anon.get(f"/v1/stories/{sid}/versions/1").json() == v1  # v1 did not change
    assert _count_texts(server, texts + texts2) == 8  # only the two new texts were added
    assert server.sql("SELECT count(*) FROM segment_texts")[0][0] == total_before + 8
    versions = anon.get(f"/v1/stories/{sid}/versions").json()["items"]
    assert [(v["number"], v["changelog"]) for v in versions] == [
        (1, "First draft"), (2, "Revised 1 and 4")]
    content = anon.get(f"/v1/stories/{sid}/versions/1/content").json()["content"]
    assert [s["text"] for s in segments_of(content)] == texts
    assert content["modules"] == {"idea": {"premise": "p"}}
    content2 = anon.get(f"/v1/stories/{sid}/versions/2/content").json()["content"]
    assert [s["text"] for s in segments_of(content2)] == texts2
    assert anon.get(f"/v1/stories/{sid}/versions/3").status_code == 404


def test_only_the_owner_publishes_versions_or_edits(alice, bob):
    sid = publish(alice, ["a"])["story"]["id"]
    r = bob.post(f"/v1/stories/{sid}/versions",
                 json={"changelog": "mine now", "content": story_body(["b"])["content"]})
    assert r.status_code == 403 and "owner" in r.json()["detail"]
    assert bob.patch(f"/v1/stories/{sid}", json={"title": "Hijacked"}).status_code == 403
    r = alice.patch(f"/v1/stories/{sid}", json={"title": "Renamed", "tags": ["Noir"]})
    assert r.status_code == 200 and r.json()["title"] == "Renamed"
    assert r.json()["tags"] == ["noir"]


def test_duplicate_segment_ids_and_bad_content_are_422(alice):
    body = story_body(["a", "b"])
    body["content"]["manuscript"]["chapters"][0]["scenes"][0]["segments"][1]["id"] = "seg_0"
    r = alice.post("/v1/stories", json=body)
    assert r.status_code == 422 and "seg_0" in r.json()["detail"]
    body = story_body(["a"], licence="GPL")
    r = alice.post("/v1/stories", json=body)
    assert r.status_code == 422 and "licence" in r.json()["detail"]
    body = story_body(["a"])
    body["content"]["manuscript"]["chapters"][0]["scenes"][0]["segments"][0]["id"] = "para-1"
    assert alice.post("/v1/stories", json=body).status_code == 422


def test_browse_filters_sort_and_pagination(alice, bob, anon):
    genre = unique("genre")
    tag_a, tag_b = unique("ta"), unique("tb")
    word = unique("word")
    s1 = publish(alice, ["x"], genre=genre, tags=[tag_a], title=f"The {word} Keeper")["story"]
    s2 = publish(alice, ["x"], genre=genre, tags=[tag_b], description=f"about {word}s")["story"]
    s3 = publish(bob, ["x"], genre=genre, tags=[tag_a, tag_b])["story"]
    s4 = publish(bob, ["x"], genre=genre, tags=[tag_a], visibility="unlisted")["story"]

    def ids(**params):
        r = anon.get("/v1/stories", params=params)
        assert r.status_code == 200, r.text
        return [s["id"] for s in r.json()["items"]]

    assert ids(genre=genre, sort="recent") == [s3["id"], s2["id"], s1["id"]]  # s4 unlisted
    assert set(ids(genre=genre, tags=[tag_a])) == {s1["id"], s3["id"]}
    assert set(ids(genre=genre.upper(), tags=[tag_a, tag_b])) == {s1["id"], s2["id"], s3["id"]}
    assert set(ids(q=word.upper())) == {s1["id"], s2["id"]}
    assert ids(q="%", genre=genre) == []  # LIKE wildcards are literal
    # popular = likes + forks
    assert bob.put(f"/v1/stories/{s2['id']}/like").status_code == 200
    assert alice.put(f"/v1/stories/{s1['id']}/like").status_code == 200
    assert bob.put(f"/v1/stories/{s1['id']}/like").status_code == 200
    assert ids(genre=genre, sort="popular") == [s1["id"], s2["id"], s3["id"]]
    # trending = downloads of the last days
    for _ in range(2):
        assert anon.get(f"/v1/stories/{s3['id']}/versions/1/content").status_code == 200
    assert anon.get(f"/v1/stories/{s2['id']}/versions/1/content").status_code == 200
    assert ids(genre=genre, sort="trending") == [s3["id"], s2["id"], s1["id"]]
    # pagination
    page1 = anon.get("/v1/stories", params={"genre": genre, "limit": 2}).json()
    assert page1["total"] == 3 and len(page1["items"]) == 2 and page1["next_offset"] == 2
    page2 = anon.get("/v1/stories", params={"genre": genre, "limit": 2, "offset": 2}).json()
    assert page2["next_offset"] is None
    assert [s["id"] for s in page1["items"] + page2["items"]] == ids(genre=genre)
    r = anon.get("/v1/stories", params={"limit": 101})
    assert r.status_code == 422 and "limit" in r.json()["detail"]
    assert anon.get("/v1/stories", params={"sort": "random"}).status_code == 422
    # the unlisted story: readable by its id, listed for its owner only in /accounts/me
    assert anon.get(f"/v1/stories/{s4['id']}").status_code == 200
    assert s4["id"] in [s["id"] for s in bob.get("/v1/accounts/me/stories").json()["items"]]
    assert s4["id"] not in ids(tags=[tag_a], owner=bob.username)


def test_likes_views_and_downloads(alice, bob, anon):
    sid = publish(alice, ["x", "y"])["story"]["id"]
    r = bob.put(f"/v1/stories/{sid}/like")
    assert r.json() == {"story_id": sid, "liked": True, "likes": 1}
    assert bob.put(f"/v1/stories/{sid}/like").json()["likes"] == 1  # one per user
    assert alice.put(f"/v1/stories/{sid}/like").json()["likes"] == 2
    assert bob.get(f"/v1/stories/{sid}").json()["liked_by_me"] is True
    assert bob.delete(f"/v1/stories/{sid}/like").json()["likes"] == 1
    assert bob.delete(f"/v1/stories/{sid}/like").json()["likes"] == 1
    anon.get(f"/v1/stories/{sid}/versions/1/content")
    anon.get(f"/v1/stories/{sid}")
    stats = anon.get(f"/v1/stories/{sid}").json()["stats"]
    assert stats["likes"] == 1 and stats["downloads"] == 1 and stats["views"] >= 3


def test_idempotent_publish(server, alice, bob):
    sid = publish(alice, ["one"])["story"]["id"]
    key = {"Idempotency-Key": unique("key")}
    body = {"changelog": "v2", "content": story_body(["two"])["content"]}
    first = alice.post(f"/v1/stories/{sid}/versions", json=body, headers=key)
    second = alice.post(f"/v1/stories/{sid}/versions", json=body, headers=key)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers.get("idempotent-replayed") == "true"
    versions = alice.get(f"/v1/stories/{sid}/versions").json()["items"]
    assert [v["number"] for v in versions] == [1, 2]
    other = alice.post(f"/v1/stories/{sid}/versions", headers=key,
                       json={**body, "changelog": "something else"})
    assert other.status_code == 422 and "already used" in other.json()["detail"]
    # keys are per user: bob's same key is his own (and he is not the owner)
    assert bob.post(f"/v1/stories/{sid}/versions", json=body, headers=key).status_code == 403
    # a new story with a key, twice → one story
    key2 = {"Idempotency-Key": unique("key")}
    body2 = story_body(["fresh"], title=unique("Idem "))
    a = alice.post("/v1/stories", json=body2, headers=key2)
    b = alice.post("/v1/stories", json=body2, headers=key2)
    assert a.json() == b.json()
    count = server.sql("SELECT count(*) FROM stories WHERE title = ?", (body2["title"],))
    assert count[0][0] == 1
    r = alice.post("/v1/stories", json=body2, headers={"Idempotency-Key": "k" * 201})
    assert r.status_code == 422 and "Idempotency-Key" in r.json()["detail"]


def _parallel(server, token: str, n: int, send) -> list:
    from concurrent.futures import ThreadPoolExecutor

    def one(i: int):
        with server.client(token) as client:
            return send(client, i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_concurrent_requests_with_one_key_make_one_version(server, alice):
    sid = publish(alice, ["one"])["story"]["id"]
    body = {"changelog": "v2", "content": story_body(["two"])["content"]}
    key = {"Idempotency-Key": unique("race")}
    results = _parallel(server, alice.tokens["access_token"], 6,
                        lambda c, i: c.post(f"/v1/stories/{sid}/versions", json=body,
                                            headers=key))
    assert {r.status_code for r in results} == {201}, [r.text for r in results]
    assert len({r.text for r in results}) == 1
    assert [v["number"] for v in alice.get(f"/v1/stories/{sid}/versions").json()["items"]] \
        == [1, 2]


def test_concurrent_publishes_get_distinct_numbers(server, alice):
    sid = publish(alice, ["one"])["story"]["id"]
    results = _parallel(server, alice.tokens["access_token"], 6,
                        lambda c, i: c.post(f"/v1/stories/{sid}/versions", json={
                            "changelog": f"c{i}", "content": story_body([f"t{i}"])["content"]}))
    assert {r.status_code for r in results} == {201}, [r.text for r in results]
    numbers = sorted(r.json()["version"]["number"] for r in results)
    assert numbers == [2, 3, 4, 5, 6, 7]
