"""Large bodies are decoded and encoded in slices on the event loop: the result must be exactly
what ``json`` gives, for valid and broken documents alike, and the loop must get turns."""

from __future__ import annotations

import asyncio
import json
import random

from studio.sync import json_slices


def _story(n: int) -> dict:
    rng = random.Random(n)
    words = ["lamp", "tide", "ledger", "Wren", "é", "\u2014", "\"quoted\"", "back\\slash", "🙂"]
    return {"content": {"manuscript": {"chapters": [
        {"id": f"ch{c}", "title": f"Chapter {c}", "meta": {"n": c, "ok": True, "x": None,
                                                          "f": 1.5e-3, "neg": -7},
         "scenes": [{"id": f"sc{c}_{s}", "segments": [
             {"id": f"seg_{c}_{s}_{g}", "text": " ".join(rng.choice(words) for _ in range(40))}
             for g in range(20)]} for s in range(10)]} for c in range(n)]}}}


def test_a_large_body_decodes_exactly_as_json_does_and_lets_the_loop_run():
    doc = _story(12)
    raw = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    assert len(raw) > json_slices.LARGE_BODY  # the sliced path, not the small-body shortcut
    ticks = 0

    async def main():
        nonlocal ticks
        task = asyncio.ensure_future(json_slices._json_sliced(raw))
        while not task.done():
            ticks += 1
            await asyncio.sleep(0)
        return task.result()

    assert asyncio.run(main()) == doc
    assert ticks > 1


def test_broken_large_bodies_give_none_like_the_small_path():
    raw = json.dumps(_story(10)).encode("utf-8")
    rng = random.Random(7)
    for _ in range(30):
        i = rng.randrange(len(raw))
        broken = raw[:i] + rng.choice([b"", b"}", b"\xff", b"[", b'"']) + raw[i + 1:]
        try:
            expected = json.loads(broken)
        except ValueError:
            expected = None
        assert asyncio.run(json_slices._json_sliced(broken)) == expected


def test_a_large_request_body_is_byte_for_byte_the_compact_encoding():
    doc = _story(12)
    expected = json.dumps(doc, ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False).encode("utf-8")
    assert asyncio.run(json_slices._json_body(doc)) == expected
