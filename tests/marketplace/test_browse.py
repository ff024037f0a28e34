"""Browse: cursor pagination that neither repeats nor skips while stories are published, word
search on titles and descriptions that answers alike on both backends, and story deletion
by its owner (the detail answers 410 Gone, everything else under the old id 404; forks of the
story keep their content)."""

from __future__ import annotations

from tests.marketplace.helpers import publish, segments_of, unique


def _page(client, **params) -> dict:
    r = client.get("/v1/stories", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def _walk(client, between=None, **params) -> list[str]:
    seen, cursor = [], None
    while True:
        page = _page(client, **params, **({"cursor": cursor} if cursor else {}))
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
        if between:
            between()


def test_cursor_walks_every_story_once_while_new_ones_arrive(alice, bob, anon):
    genre = unique("g")
    made = [publish(alice if i % 2 else bob, [f"t{i}"], genre=genre)["story"]["id"]
            for i in range(7)]
    newcomers: list[str] = []

    def publish_more():
        newcomers.append(publish(alice, ["new"], genre=genre)["story"]["id"])

    # recent: newest first, and the newcomers (newer than the cursor) never show up
    seen = _walk(anon, publish_more, genre=genre, limit=3)
    assert seen == list(reversed(made))
    assert len(newcomers) == 2
    # popular: every story of the first walk exactly once, nothing twice
    for sid in made[:3]:
        assert bob.put(f"/v1/stories/{sid}/like").status_code == 200
    assert alice.put(f"/v1/stories/{made[1]}/like").status_code == 200
    before = [s["id"] for s in _page(anon, genre=genre, sort="popular", limit=100)["items"]]
    seen = _walk(anon, publish_more, genre=genre, sort="popular", limit=2)
    assert len(seen) == len(set(seen)) and set(before) <= set(seen)
    assert seen[:3] == [made[1], made[2], made[0]]  # 2 likes, then 1 each, newest first
    # trending walks too
    for _ in range(2):
        anon.get(f"/v1/stories/{made[4]}/versions/1/content")
    seen = _walk(anon, genre=genre, sort="trending", limit=4)
    assert seen[0] == made[4] and sorted(seen) == sorted(made + newcomers)
    # offset pages still work, and say where the cursor would go on
    page = _page(anon, genre=genre, limit=2, offset=2)
    assert page["next_offset"] == 4 and page["next_cursor"]
    assert _page(anon, genre=genre, limit=2, cursor=page["next_cursor"])["items"][0]["id"] == \
        _page(anon, genre=genre, limit=1, offset=4)["items"][0]["id"]
    # a cursor is only good for its sort, alone, and unchanged
    cursor = _page(anon, genre=genre, limit=2)["next_cursor"]
    for params in ({"cursor": cursor, "sort": "popular"}, {"cursor": cursor, "offset": 2},
                   {"cursor": "not-a-cursor"}, {"cursor": cursor[:-3]}, {"cursor": "x" * 600},
                   {"cursor": "WyJyZWNlbnQiLCAibm9wZSIsIDFd"}):
        r = anon.get("/v1/stories", params={"genre": genre, **params})
        assert r.status_code == 422, (params, r.text)


def test_search_matches_title_and_description_words(alice, bob, anon):
    nonce = unique("n")
    keeper = publish(alice, ["x"], title=f"The Lighthouse Keeper {nonce}",
                     description="A storm; a letter from the future.")["story"]["id"]
    cafe = publish(bob, ["x"], title=f"Café {nonce}",
                   description="Espresso-fuelled time travel, in Lisbon.")["story"]["id"]
    quiet = publish(bob, ["x"], title=f"Quiet {nonce}", description="Nothing happens.")[
        "story"]["id"]

    def found(q: str) -> set[str]:
        return {s["id"] for s in _page(anon, q=q, limit=100)["items"]}

    assert found(nonce) == {keeper, cafe, quiet}
    assert found(nonce.upper()) == {keeper, cafe, quiet}
    assert found(f"lighthouse {nonce}") == {keeper}  # every word must match
    assert found(f"LIGHT {nonce}") == {keeper}  # a word's beginning is enough
    assert found(f"house {nonce}") == set()  # … but not its middle
    assert found(f"storm future {nonce}") == {keeper}  # description words
    assert found(f"espresso fuelled lisbon {nonce}") == {cafe}  # punctuation splits words
    assert found(f"café {nonce}") == {cafe} == found(f"CAFÉ {nonce}")
    assert found(f"{nonce} keeper!!!") == {keeper}
    assert found("%") == found("!!!") == set()
    assert found(f"{nonce} nonexistentword") == set()
    assert _page(anon, q=f"   {nonce}   ")["total"] == 3
    # titles and descriptions changed later are searched as they are now
    assert alice.patch(f"/v1/stories/{keeper}", json={"title": f"The Harbour {nonce}",
                                                      "description": "Calm."}).status_code == 200
    assert found(f"lighthouse {nonce}") == set() and found(f"harbour calm {nonce}") == {keeper}
    # remixes are indexed too (they are published through forks)
    fid = alice.post(f"/v1/stories/{quiet}/forks", json={}).json()["id"]
    remix = alice.post(f"/v1/forks/{fid}/publish", json={
        "title": f"Loud {nonce}", "description": "Everything happens.", "licence": "CC-BY"})
    assert remix.status_code == 201, remix.text
    assert found(f"everything {nonce}") == {remix.json()["story"]["id"]}
    # search combines with the other filters and the cursor
    assert _page(anon, q=nonce, owner=bob.username)["total"] == 2
    ids = _walk(anon, q=nonce, limit=1)
    assert len(ids) == 4 and len(set(ids)) == 4


def test_the_owner_deletes_a_story_and_forks_keep_working(server, alice, bob, anon):
    word = unique("w")
    sid = publish(alice, ["Line zero.", "Line one."], title=f"Doomed {word}")["story"]["id"]
    fid = bob.post(f"/v1/stories/{sid}/forks", json={}).json()["id"]
    assert bob.patch(f"/v1/forks/{fid}/segments",
                     json={"segments": {"seg_1": "Bob's line."}}).status_code == 200
    assert bob.put(f"/v1/stories/{sid}/like").status_code == 200

    assert bob.delete(f"/v1/stories/{sid}").status_code == 403  # not the owner
    assert anon.delete(f"/v1/stories/{sid}").status_code == 401
    key = {"Idempotency-Key": unique("del")}
    r = alice.delete(f"/v1/stories/{sid}", headers=key)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == sid and r.json()["deleted"] is True
    again = alice.delete(f"/v1/stories/{sid}", headers=key)
    assert again.json() == r.json() and again.headers.get("idempotent-replayed") == "true"
    assert alice.delete(f"/v1/stories/{sid}").json() == r.json()  # idempotent without a key
    assert bob.delete(f"/v1/stories/{sid}").status_code == 410

    # gone for everyone: 410 for the story, 404 below it; out of browse and search
    for client in (anon, bob, alice):
        r = client.get(f"/v1/stories/{sid}")
        assert r.status_code == 410 and r.json()["code"] == "story_deleted"
        for path in ("versions", "versions/1", "versions/1/content", "lineage",
                     "versions/1/analysis"):
            assert client.get(f"/v1/stories/{sid}/{path}").status_code == 404, path
    assert _page(anon, q=word)["total"] == 0
    assert sid not in [s["id"] for s in _page(anon, owner=alice.username, limit=100)["items"]]
    assert anon.post(f"/v1/stories/{sid}/forks", json={}).status_code in (401, 404)
    assert bob.post(f"/v1/stories/{sid}/forks", json={}).status_code == 404
    assert alice.patch(f"/v1/stories/{sid}", json={"title": "Back"}).status_code == 404
    assert bob.put(f"/v1/stories/{sid}/like").status_code == 404

    # bob's fork still reads its content; its source shows as deleted
    r = bob.get(f"/v1/forks/{fid}/content")
    assert r.status_code == 200, r.text
    assert [s["text"] for s in segments_of(r.json()["content"])] == ["Line zero.",
                                                                     "Bob's line."]
    source = r.json()["fork"]["source"]
    assert source["deleted"] is True and source["story_id"] is None
    # the owner's own list no longer shows it either
    assert sid not in [s["id"] for s in alice.get("/v1/accounts/me/stories").json()["items"]]
    assert not any(s["id"].startswith("deleted_")
                   for s in alice.get("/v1/accounts/me/stories").json()["items"])
    # the data stays: versions (for forks), texts (shared by hash), the tombstone
    assert server.sql("SELECT count(*) FROM story_versions v JOIN story_deletions d "
                      "ON d.story_id = v.story_id WHERE d.public_id = ?", (sid,))[0][0] == 1
    assert server.sql("SELECT count(*) FROM story_search s JOIN story_deletions d "
                      "ON d.story_id = s.story_id WHERE d.public_id = ?", (sid,))[0][0] == 0
    assert anon.get("/v1/stories/st_neverexisted").status_code == 404
