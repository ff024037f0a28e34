"""Extractive summaries: each scene in (at most) two of its own sentences, and a rolling
summary every STRETCH_CHAPTERS chapters built from the best of those.

Nothing is generated, so nothing is invented: a summary is the scene's most telling sentences,
in story order.  "Telling" is TF-IDF: a sentence scores the weight of its distinct content
words (how often the scene uses them × how rare they are in other scenes), divided by the
square root of their number (a long sentence does not win by length alone), halved when it
is dialogue (narration summarises better), and raised by the words it shares with the scene's
synopsis when the author wrote one.  A stretch ("Chapters 1–5") takes the scene summaries'
sentences, scores them the same way against the stretch and the whole story, and keeps the
best, one chapter at a time so the early chapters are not crowded out.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, Callable

from studio.domain.corpus import Corpus
from studio.domain.feelings import Measures
from studio.domain.similarity import tokens as content_tokens

Progress = Callable[[str, float], None]
SCENE_SENTENCES = 2
SCENE_CHARS = 300
STRETCH_CHAPTERS = 5
STRETCH_SENTENCES = 4
STRETCH_CHARS = 900
MIN_SENTENCE_WORDS = 4
DIALOGUE_FACTOR = 0.5
SYNOPSIS_BONUS = 0.5  # per content word shared with the synopsis, relative
PROGRESS_EVERY = 200  # scenes between progress calls


def _cut(text: str, limit: int) -> str:
    """``text`` if it fits, else cut at a word with an ellipsis."""
    if len(text) <= limit:
        return text
    head = text[:limit - 1]
    return (head.rsplit(" ", 1)[0] if " " in head else head).rstrip(",;:—- ") + "…"


def _idf(docs: list[Counter]) -> dict[str, float]:
    used = [d for d in docs if d]
    df: Counter = Counter()
    for d in used:
        df.update(d.keys())
    return {s: math.log((1 + len(used)) / (1 + n)) + 1.0 for s, n in df.items()}


def _score(stems: list[str | None], tf: Counter, idf: dict[str, float],
           quoted: bool, synopsis: frozenset[str]) -> float:
    distinct = {s for s in stems if s}
    if not distinct:
        return 0.0
    score = sum((1.0 + math.log(tf[s])) * idf.get(s, 1.0) for s in distinct if tf[s])
    score /= math.sqrt(len(distinct))
    if synopsis:
        score *= 1.0 + SYNOPSIS_BONUS * len(distinct & synopsis)
    return score * DIALOGUE_FACTOR if quoted else score


def _pick(candidates: list[tuple[float, int]], count: int, limit: int,
          texts: dict[int, str]) -> list[int]:
    """The best sentences (by score, then position) that fit in ``limit`` characters
    together, returned in story order."""
    chosen: list[int] = []
    length = -1
    for _, i in sorted(candidates, key=lambda c: (-round(c[0], 9), c[1])):
        if length + 1 + len(texts[i]) <= limit:
            chosen.append(i)
            length += 1 + len(texts[i])
            if len(chosen) == count:
                break
    return sorted(chosen)


def summaries(corpus: Corpus, m: Measures, progress: Progress | None = None,
              stage: str = "summaries") -> dict[str, Any]:
    sentences = corpus.sentences
    idf = _idf(m.scene_stems)
    scene_out: dict[str, str] = {}
    chosen_by_scene: list[list[int]] = []
    texts: dict[int, str] = {}
    total = len(corpus.scenes)
    for k, scene in enumerate(corpus.scenes):
        if progress is not None and k and k % PROGRESS_EVERY == 0:
            progress(stage, round(0.8 * k / total, 4))
        synopsis = frozenset(content_tokens(scene.synopsis)) if scene.synopsis else frozenset()
        tf = m.scene_stems[k]
        full: list[tuple[float, int]] = []
        short: list[tuple[float, int]] = []
        for i in range(scene.first, scene.end):
            sent = sentences[i]
            if not sent.tokens:
                continue
            texts[i] = sent.text
            score = _score(m.sentence_stems[i], tf, idf, bool(sent.spans), synopsis)
            (full if len(sent.tokens) >= MIN_SENTENCE_WORDS else short).append((score, i))
        candidates = full or short
        picked = _pick(candidates, SCENE_SENTENCES, SCENE_CHARS, texts)
        if not picked and candidates:  # even the best sentence is too long: cut it
            best = min(candidates, key=lambda c: (-round(c[0], 9), c[1]))[1]
            scene_out[scene.uid] = _cut(texts[best], SCENE_CHARS)
            picked = [best]
        elif picked:
            scene_out[scene.uid] = " ".join(texts[i] for i in picked)
        else:
            scene_out[scene.uid] = _cut(" ".join(scene.synopsis.split()), SCENE_CHARS)
        chosen_by_scene.append(picked)
    stretches = []
    chapters = corpus.chapters
    groups = [list(range(a, min(a + STRETCH_CHAPTERS, len(chapters))))
              for a in range(0, len(chapters), STRETCH_CHAPTERS)]
    stretch_tf = []
    for group in groups:
        tf: Counter = Counter()
        for c in group:
            tf.update(m.chapter_stems[c])
        stretch_tf.append(tf)
    stretch_idf = _idf(m.chapter_stems)
    for g, group in enumerate(groups):
        by_chapter: list[list[tuple[float, int]]] = []
        for c in group:
            ch = chapters[c]
            cands = []
            for k in range(ch.first_scene, ch.end_scene):
                for i in chosen_by_scene[k]:
                    cands.append((_score(m.sentence_stems[i], stretch_tf[g], stretch_idf,
                                         bool(sentences[i].spans), frozenset()), i))
            by_chapter.append(sorted(cands, key=lambda x: (-round(x[0], 9), x[1])))
        picked: list[int] = []
        seen: set[str] = set()
        length = -1
        for rank in range(max((len(c) for c in by_chapter), default=0)):
            for cands in sorted((c for c in by_chapter if len(c) > rank),
                                key=lambda c: (-round(c[rank][0], 9), c[rank][1])):
                i = cands[rank][1]
                text = _cut(texts[i], SCENE_CHARS)
                if len(picked) < STRETCH_SENTENCES and text not in seen \
                        and length + 1 + len(text) <= STRETCH_CHARS:
                    picked.append(i)
                    seen.add(text)  # a sentence repeated in two scenes is told once
                    length += 1 + len(text)
        first, last = chapters[group[0]], chapters[group[-1]]
        title = f"Chapter {group[0] + 1}" if len(group) == 1 else \
            f"Chapters {group[0] + 1}–{group[-1] + 1}"
        stretches.append({"from_chapter": first.uid, "to_chapter": last.uid, "title": title,
                          "summary": " ".join(_cut(texts[i], SCENE_CHARS)
                                              for i in sorted(picked))})
    if progress is not None:
        progress(stage, 0.9)
    return {"scenes": scene_out, "stretches": stretches}


__all__ = ["SCENE_CHARS", "SCENE_SENTENCES", "STRETCH_CHAPTERS", "STRETCH_SENTENCES",
           "summaries"]
