"""One walk over every word after the cast is known: emotions, syllables and content words.

The walk looks each distinct spelling up once (``_info``: syllables, the emotions its stem
signals, its content stem) and after that only sums; it fills what the later stages read:

* emotion counts per paragraph (a character's emotions are those of the paragraphs that name
  them) and per scene (a scene's dominant emotion and intensity);
* syllables per sentence (readability, in ``pacing``);
* content stems per sentence, per scene and per chapter (themes here, summaries later).

Themes are TF-IDF over chapters (each chapter a document) of stemmed content words — words
that are not stopwords, names or numbers — with sublinear term frequency, as the marketplace
analyser does; motifs are adjacent content-word pairs that recur.  Words written capitalised
nine times in ten are proper nouns (places, things the cast finder did not take for people)
and are left out of themes.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from studio.domain.analysis import _THEME_STOPWORDS
from studio.domain.corpus import Corpus
from studio.domain.lexicons import BASIC_EMOTIONS, EMOTION_LEXICON
from studio.domain.pacing import syllables
from studio.domain.similarity import stem

Progress = Callable[[str, float], None]
PROGRESS_EVERY = 20  # scenes between progress calls
TOP_KEYWORDS = 15
TOP_MOTIFS = 10
MOTIF_MIN = 3  # occurrences before a word pair is a motif
# Words every story uses, on top of the marketplace analyser's theme stopwords.
GENERIC_WORDS = frozenset("""
quite soon rather very good dear man men woman women day days night nights time times moment
moments place way sort kind side part thing eye eyes hand hands head face door room round
again indeed yet more most less great little old young new sure certain whole half same
other others last next many few several done put mind sir madam""".split())
STOPWORDS = _THEME_STOPWORDS | GENERIC_WORDS


@dataclass
class Measures:
    segment_emotions: list[Counter] = field(default_factory=list)
    scene_emotions: list[Counter] = field(default_factory=list)
    sentence_syllables: list[int] = field(default_factory=list)
    sentence_stems: list[list[str | None]] = field(default_factory=list)
    scene_stems: list[Counter] = field(default_factory=list)
    chapter_stems: list[Counter] = field(default_factory=list)
    pairs: Counter = field(default_factory=Counter)
    spellings: Counter = field(default_factory=Counter)  # raw token → count


def dominant(counts: Counter) -> tuple[str | None, float]:
    """The emotion with the most words (ties: BASIC_EMOTIONS order) and its share."""
    total = sum(counts.values())
    if not total:
        return None, 0.0
    best = max(BASIC_EMOTIONS, key=lambda e: (counts.get(e, 0), -BASIC_EMOTIONS.index(e)))
    return best, round(counts.get(best, 0) / total, 4)


def shares(counts: Counter) -> dict[str, float]:
    total = sum(counts.values())
    return {e: round(counts.get(e, 0) / total, 4) if total else 0.0 for e in BASIC_EMOTIONS}


def measure(corpus: Corpus, name_words: set[str], progress: Progress | None = None,
            stage: str = "emotions") -> Measures:
    """The walk (see the module docstring)."""
    m = Measures()
    memo: dict[str, tuple[int, tuple[str, ...] | None, str | None]] = {}
    lexicon = EMOTION_LEXICON

    def info(tok: str) -> tuple[int, tuple[str, ...] | None, str | None]:
        low = tok.casefold()
        s = stem(low)
        content = s if (len(low) >= 3 and low not in STOPWORDS
                        and low not in name_words and "'" not in low
                        and not low[0].isdigit()) else None
        hit = memo[tok] = (syllables(tok), lexicon.get(s), content)
        return hit

    m.segment_emotions = [Counter() for _ in corpus.segments]
    m.scene_emotions = [Counter() for _ in corpus.scenes]
    m.scene_stems = [Counter() for _ in corpus.scenes]
    m.chapter_stems = [Counter() for _ in corpus.chapters]
    sentences = corpus.sentences
    syll_out, stems_out = m.sentence_syllables, m.sentence_stems
    total = len(sentences)
    get = memo.get
    # Counter.update is slow per call, so words are gathered in lists and counted once per
    # paragraph (emotions) or per scene (content words, pairs, spellings).
    for k, scene in enumerate(corpus.scenes):
        scene_content: list[str] = []
        scene_pairs: list[tuple[str, str]] = []
        scene_tokens: list[str] = []
        scene_emotions: list[str] = []
        for g in range(scene.first_segment, scene.end_segment):
            seg = corpus.segments[g]
            emotions: list[str] = []
            for i in range(seg.first, seg.end):
                toks = sentences[i].tokens
                syl = 0
                content: list[str | None] = []
                for tok in toks:
                    inf = get(tok) or info(tok)
                    syl += inf[0]
                    if inf[1]:
                        emotions.extend(inf[1])
                    content.append(inf[2])
                syll_out.append(syl)
                stems_out.append(content)
                scene_tokens += toks
                scene_content += [c for c in content if c]
                scene_pairs += [p for p in zip(content, content[1:]) if p[0] and p[1]]
            if emotions:
                m.segment_emotions[g] = Counter(emotions)
                scene_emotions += emotions
        if progress is not None and k and k % PROGRESS_EVERY == 0:
            progress(stage, round(scene.first / total, 4))
        m.scene_emotions[k] = Counter(scene_emotions)
        m.scene_stems[k] = Counter(scene_content)
        m.pairs.update(scene_pairs)  # a list: counted in C
        m.spellings.update(scene_tokens)
    for scene, stems in zip(corpus.scenes, m.scene_stems):
        m.chapter_stems[scene.chapter].update(stems)
    return m


def _surface(forms: Counter) -> str:
    """The most used spelling (ties: shorter, then alphabetical)."""
    return min(forms.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[0]


def themes(m: Measures, name_words: set[str]) -> tuple[dict[str, Any], dict[str, float]]:
    """(the themes section, stem → weight).  The weights also rank summary sentences."""
    spelled: dict[str, Counter] = {}
    capitals: Counter = Counter()
    counts: Counter = Counter()
    for tok, n in m.spellings.items():
        low = tok.casefold()
        if len(low) < 3 or low in STOPWORDS or low in name_words or "'" in low \
                or low[0].isdigit():
            continue
        s = stem(low)
        spelled.setdefault(s, Counter())[low] += n
        counts[s] += n
        if tok[0].isupper():
            capitals[s] += n
    used = [d for d in m.chapter_stems if d]
    df: Counter = Counter()
    for d in used:
        df.update(d.keys())
    idf = {s: math.log((1 + len(used)) / (1 + n)) + 1.0 for s, n in df.items()}
    scores: dict[str, float] = {}
    for d in used:
        for s, n in d.items():
            scores[s] = scores.get(s, 0.0) + (1.0 + math.log(n)) * idf[s]
    weights = {s: w for s, w in scores.items() if capitals[s] < 0.9 * counts[s]}
    ranked = sorted((s for s in weights if counts[s] >= 2 and s in spelled),
                    key=lambda s: (-weights[s], _surface(spelled[s])))[:TOP_KEYWORDS]
    top = weights[ranked[0]] if ranked else 1.0
    keywords = [{"term": _surface(spelled[s]), "score": round(weights[s] / top, 4),
                 "count": counts[s]} for s in ranked]
    motifs = []
    for (a, b), n in m.pairs.items():
        if n >= MOTIF_MIN and a in spelled and b in spelled and a in weights and b in weights:
            motifs.append({"phrase": f"{_surface(spelled[a])} {_surface(spelled[b])}",
                           "count": n})
    motifs.sort(key=lambda x: (-x["count"], x["phrase"]))
    return {"keywords": keywords, "motifs": motifs[:TOP_MOTIFS]}, weights


__all__ = ["Measures", "dominant", "measure", "shares", "themes"]
