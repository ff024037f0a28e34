"""Helpers of the marketplace API tests: accounts with their clients, and story bodies."""

from __future__ import annotations

import uuid

PASSWORD = "correct horse battery"


class Account:
    """A registered, logged-in user with an httpx client carrying their access token."""

    def __init__(self, server, username: str, password: str, tokens: dict):
        self.server, self.username, self.password = server, username, password
        self.tokens = tokens
        self.http = server.client(tokens["access_token"])

    def __getattr__(self, name):  # get, post, put, patch, delete, request …
        return getattr(self.http, name)

    def close(self) -> None:
        self.http.close()


def unique(prefix: str = "u") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def manuscript(texts: list[str], per_scene: int = 5, prefix: str = "seg_") -> dict:
    """A manuscript of one chapter; segment i has id f"{prefix}{i}" and text texts[i]."""
    scenes = []
    for start in range(0, len(texts), per_scene):
        scenes.append({"id": f"scene_{start // per_scene}", "title": f"Scene {start}",
                       "segments": [{"id": f"{prefix}{i}", "text": texts[i]}
                                    for i in range(start, min(start + per_scene, len(texts)))]})
    return {"chapters": [{"id": "chap_1", "title": "One", "scenes": scenes}]}


def story_body(texts: list[str], **meta) -> dict:
    body = {"title": meta.pop("title", unique("Story ")), "licence": meta.pop("licence", "CC-BY"),
            "content": {"modules": meta.pop("modules", {"idea": {"premise": "p"}}),
                        "manuscript": manuscript(texts),
                        "scene_bible": meta.pop("scene_bible", {"characters": []}),
                        "chapter_graph": meta.pop("chapter_graph", {"nodes": []})}}
    body.update(meta)
    return body


def publish(account: Account, texts: list[str], **meta) -> dict:
    r = account.post("/v1/stories", json=story_body(texts, **meta))
    assert r.status_code == 201, r.text
    return r.json()


def segments_of(content: dict) -> list[dict]:
    return [seg for ch in content["manuscript"]["chapters"] for sc in ch["scenes"]
            for seg in sc["segments"]]
