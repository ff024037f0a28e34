"""Bad input gets a clear 4xx, never a 5xx: sizes, types, encodings, and every endpoint fuzzed
with malformed bodies and ids (a small home-made sweep; schemathesis comes later)."""

from __future__ import annotations

import json

import pytest

from tests.marketplace.helpers import publish, story_body

MB = 1024 * 1024

BAD_BODIES = [
    None, {}, [], "text", 12, {"title": None}, {"title": 5, "licence": []},
    {"segments": {"seg_1": 5}}, {"segments": "x"}, {"resolutions": {"seg_1": "maybe"}},
    {"resolutions": {"seg_1": {"text": 7}}}, {"version": 10**30}, {"version": -1},
    {"username": "x" * 10_000, "password": "y"}, {"content": {"manuscript": {"chapters": 7}}},
    {"title": "t", "licence": "CC-BY", "content": {"manuscript": {"chapters": [
        {"scenes": [{"segments": [{"id": "seg_1", "text": "a"}, {"id": "seg_1",
                                                                  "text": "b"}]}]}]}}},
]
RAW_BODIES = [b"{", b"\xff\xfe", b'{"title": "\\ud800", "licence": "CC-BY"}', b"null",
              b'{"title": "a\\u0000b", "licence": "CC-BY", "content": {}}']


def _paths(doc: dict, story_id: str, fork_id: str):
    for path, methods in doc["paths"].items():
        for method in methods:
            for ids in ({"story_id": story_id, "fork_id": fork_id},
                        {"story_id": "st_" + "z" * 20, "fork_id": "fk_nope"},
                        {"story_id": "../../etc", "fork_id": "%00"}):
                yield method.upper(), (path.replace("{story_id}", ids["story_id"])
                                       .replace("{fork_id}", ids["fork_id"])
                                       .replace("{number}", "99999999999")
                                       .replace("{username}", "nobody"))


def test_no_endpoint_answers_5xx_to_bad_input(server, alice, bob, anon):
    sid = publish(alice, ["a", "b"])["story"]["id"]
    fid = bob.post(f"/v1/stories/{sid}/forks", json={}).json()["id"]
    doc = anon.get("/openapi.json").json()
    seen = 0
    for method, path in _paths(doc, sid, fid):
        attempts = [(bob, {"json": b}) for b in BAD_BODIES] + [
            (bob, {"content": raw, "headers": {"Content-Type": "application/json"}})
            for raw in RAW_BODIES] + [(anon, {"json": b}) for b in BAD_BODIES[:3]]
        if method in ("GET", "HEAD"):
            attempts = attempts[:1] + attempts[-1:]
        attempts.append((bob, {"params": {"limit": "10" * 20, "offset": -5,
                                          "to_version": "1e999", "q": "\x00"}}))
        for client, kwargs in attempts:
            r = client.request(method, path, **kwargs)
            assert r.status_code < 500, (method, path, kwargs, r.status_code, r.text)
            seen += 1
    assert seen > 300


def test_oversized_bodies_are_413(anon, alice):
    big = b'{"title": "' + b"x" * (20 * MB) + b'"}'
    r = alice.post("/v1/stories", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "larger than" in r.json()["detail"]

    def chunks():  # no Content-Length: counted while streaming
        for _ in range(21):
            yield b"x" * MB

    r = alice.post("/v1/stories", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_too_many_segments_and_too_long_texts_are_422(alice):
    body = story_body([])
    body["content"]["manuscript"] = {"chapters": [{"scenes": [
        {"segments": [{"id": f"seg_{i}", "text": ""} for i in range(start, start + 10_000)]}
        for start in range(0, 100_001, 10_000)]}]}
    r = alice.post("/v1/stories", json=body)
    assert r.status_code == 422 and "100000" in r.json()["detail"]
    r = alice.post("/v1/stories", json=story_body(["x" * 100_001]))
    assert r.status_code == 422 and "text" in r.json()["detail"]


@pytest.mark.parametrize("raw, words", [
    ('"a\\u0000b"', "NUL"),
    ('"\\udc00"', "surrogate"),
    ('{"k": ' * 40 + "1" + "}" * 40, "nested"),
    ("NaN", "NaN"),
])
def test_values_the_database_cannot_store_are_422(alice, raw, words):
    body = json.dumps(story_body(["x"])).replace('"premise": "p"', f'"premise": {raw}')
    r = alice.post("/v1/stories", content=body.encode(),
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert words in r.json()["detail"]


def test_integrity_conflicts_are_409_not_500(anon, alice):
    r = anon.post("/v1/accounts", json={"username": alice.username, "password": "whatever1"})
    assert r.status_code == 409
