"""Scoring the cast finder against the hand-labelled public-domain chapters in
``tests/data/public_domain`` (used by test_insights_cast.py; runnable on its own to print the
table: ``python -m tests.domain.cast_eval``).

A found character is *correct* when its name or one of its aliases is a form of a labelled
character not already claimed by an earlier (more mentioned) found character; a second find of
the same person is a duplicate and counts against precision.  A find that matches an
``also_acceptable`` person (a historical figure in a recitation, a quoted poet) is left out
of the score entirely.

precision = correct / (found − acceptable);  recall = labelled characters found / labelled.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "data" / "public_domain"
PARAGRAPHS_PER_SCENE = 25


def labels() -> dict[str, Any]:
    return json.loads((DATA / "labels.json").read_text(encoding="utf-8"))["chapters"]


def content_of(chapter: str) -> dict[str, Any]:
    """The chapter as StoryContent: blank-line paragraphs as segments, scenes of
    PARAGRAPHS_PER_SCENE paragraphs, an empty bible."""
    text = (DATA / labels()[chapter]["file"]).read_text(encoding="utf-8")
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
    scenes = []
    for n, start in enumerate(range(0, len(paragraphs), PARAGRAPHS_PER_SCENE), 1):
        scenes.append({"id": f"scene_{n}", "title": f"Part {n}", "segments": [
            {"id": f"seg_{n}_{k}", "text": p}
            for k, p in enumerate(paragraphs[start:start + PARAGRAPHS_PER_SCENE])]})
    return {"manuscript": {"chapters": [{"id": "chap_1", "title": chapter, "scenes": scenes}]},
            "scene_bible": {}}


def _norm(form: str) -> str:
    words = form.replace(".", " ").replace("’", "'").casefold().split()
    while words and words[0] in ("the", "your", "a", "an", "one", "old", "young"):
        words.pop(0)
    return " ".join(words)


def score(cast: list[dict[str, Any]], label: dict[str, Any]) -> dict[str, Any]:
    wanted = [(c["name"], {_norm(f) for f in c["forms"]}) for c in label["characters"]]
    fine = [{_norm(f) for f in c["forms"]} for c in label["also_acceptable"]]
    claimed: set[str] = set()
    correct, acceptable, wrong, duplicates = [], [], [], []
    for c in cast:
        names = [_norm(c["name"]), *(_norm(a) for a in c.get("aliases", []))]
        hit = next((n for n, forms in wanted if names[0] in forms), None) or \
            next((n for n, forms in wanted if any(x in forms for x in names)), None)
        if hit is not None and hit not in claimed:
            claimed.add(hit)
            correct.append(c["name"])
        elif hit is not None:
            duplicates.append(c["name"])
        elif any(x in forms for forms in fine for x in names):
            acceptable.append(c["name"])
        else:
            wrong.append(c["name"])
    scored = len(cast) - len(acceptable)
    return {"precision": round(len(correct) / scored, 3) if scored else 1.0,
            "recall": round(len(claimed) / len(wanted), 3) if wanted else 1.0,
            "found": len(cast), "correct": correct, "duplicates": duplicates,
            "wrong": wrong, "acceptable": acceptable,
            "missed": [n for n, _ in wanted if n not in claimed]}


def evaluate() -> dict[str, dict[str, Any]]:
    from studio.domain.insights import analyse_manuscript

    return {name: score(analyse_manuscript(content_of(name))["cast"], label)
            for name, label in labels().items()}


if __name__ == "__main__":  # pragma: no cover - a report for people
    for name, s in evaluate().items():
        print(f"{name:28} P={s['precision']:.3f} R={s['recall']:.3f} found={s['found']}"
              f" wrong={s['wrong']} dup={s['duplicates']} missed={s['missed']}"
              f" acceptable={s['acceptable']}")
