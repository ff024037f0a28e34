"""Pacing: how long scenes and chapters are, how much of them is dialogue, how hard they read.

Readability is the Flesch reading ease, 206.835 − 1.015 × (words / sentences) − 84.6 ×
(syllables / words): about 90–100 for a children's book, 60–70 for plain adult prose, below 30
for dense academic text.  Syllables are counted by a heuristic (vowel groups, a silent final
"e", "-le" and "-ed" endings) that is right for most English words and never off by much;
each distinct word is counted once and remembered, so a million-word story costs one dict
look-up per word.

Numbers are rounded to 4 places; a scene without words has 0 everywhere (readability 0.0, not
an error), so empty scenes still line up with the rest.
"""

from __future__ import annotations

import math
from typing import Any

from studio.domain.corpus import Corpus

_VOWELS = frozenset("aeiouy")
_SYLLABLES: dict[str, int] = {}


def syllables(word: str) -> int:
    """Syllables of one word (at least 1 for any word with a letter)."""
    hit = _SYLLABLES.get(word)
    if hit is not None:
        return hit
    w = word.casefold()
    count = 0
    previous = False
    for ch in w:
        vowel = ch in _VOWELS
        if vowel and not previous:
            count += 1
        previous = vowel
    if len(w) > 2 and w.endswith("e") and not w.endswith(("le", "ee", "ye")) \
            and w[-2] not in _VOWELS:
        count -= 1  # silent e: "hope", "stone"
    elif w.endswith("ed") and len(w) > 3 and w[-3] not in "td" and w[-3] not in _VOWELS:
        count -= 1  # "walked", "turned" (but "wanted", "ended" keep it)
    count = max(count, 1 if any(c.isalpha() for c in w) else 0)
    if len(_SYLLABLES) < 500_000:
        _SYLLABLES[word] = count
    return count


def flesch(words: int, sentences: int, syllable_count: int) -> float:
    if not words or not sentences:
        return 0.0
    return round(206.835 - 1.015 * words / sentences - 84.6 * syllable_count / words, 4)


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 0.0


def pacing(corpus: Corpus, sentence_syllables: list[int]) -> dict[str, Any]:
    """The pacing tables (see ``insights`` for the shape); ``sentence_syllables`` holds the
    syllables of each sentence, counted while the emotions were."""
    sentences = corpus.sentences
    scenes_out = []
    chapter_totals = [[0, 0, 0, 0] for _ in corpus.chapters]  # words, dialogue, sents, syll
    story_sentences = story_syllables = 0
    for scene in corpus.scenes:
        lengths = [len(sentences[i].tokens) for i in range(scene.first, scene.end)]
        lengths = [n for n in lengths if n]
        syll = sum(sentence_syllables[scene.first:scene.end])
        n = len(lengths)
        mean = sum(lengths) / n if n else 0.0
        sd = math.sqrt(sum((x - mean) ** 2 for x in lengths) / n) if n else 0.0
        scenes_out.append({
            "scene": scene.uid, "chapter": corpus.chapters[scene.chapter].uid,
            "title": scene.title, "words": scene.words,
            "dialogue_ratio": _ratio(scene.dialogue_words, scene.words), "sentences": n,
            "mean_sentence_words": round(mean, 4), "sentence_sd": round(sd, 4),
            "readability": flesch(scene.words, n, syll)})
        totals = chapter_totals[scene.chapter]
        totals[0] += scene.words
        totals[1] += scene.dialogue_words
        totals[2] += n
        totals[3] += syll
        story_sentences += n
        story_syllables += syll
    chapters_out = []
    for chapter, (words, dialogue, sents, syll) in zip(corpus.chapters, chapter_totals):
        chapters_out.append({
            "chapter": chapter.uid, "title": chapter.title, "words": words,
            "scenes": chapter.end_scene - chapter.first_scene,
            "dialogue_ratio": _ratio(dialogue, words), "readability": flesch(words, sents, syll)})
    words = corpus.words
    dialogue = sum(s.dialogue_words for s in corpus.scenes)
    return {"scenes": scenes_out, "chapters": chapters_out, "story": {
        "words": words,
        "mean_scene_words": round(words / len(corpus.scenes), 4) if corpus.scenes else 0.0,
        "dialogue_ratio": _ratio(dialogue, words),
        "readability": flesch(words, story_sentences, story_syllables),
        "mean_sentence_words": round(words / story_sentences, 4) if story_sentences else 0.0}}


__all__ = ["flesch", "pacing", "syllables"]
