"""How close two texts are in meaning — the engine's measure of "is the story still on course?".

The playtest engine compares a chapter's intended narrative (its summary) with what the story
has recently said.  ``Similarity`` is the interface, so a service may plug in an embedding model;
``TfidfSimilarity`` is the offline default: no downloads, no models, deterministic.  It weights
words by how rare they are in the story's own texts (chapter summaries, instructions, prose), so
"the king" in a story about a king counts for less than "decree", and compares the weighted word
vectors by their cosine.  Words the corpus never saw get the highest weight (smoothed IDF), so a
corpus fitted long ago still scores new text sensibly.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache
from typing import Iterable, Mapping, Protocol, Sequence

STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had
has have having he her here hers herself him himself his how i if in into is it its itself just
me more most my myself no nor not now of off on once only or other our ours ourselves out over
own same she should so some such than that the their theirs them themselves then there these
they this those through to too under until up very was we were what when where which while who
whom why will with would you your yours yourself yourselves upon also may might must shall
""".split())

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
_SUFFIXES = ("ingly", "edly", "ness", "ment", "ing", "ies", "ied", "ed", "es", "ly", "s")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A crude suffix stripper: enough that "decree", "decrees" and "decreed" meet, and cheap
    (memoised: a story's vocabulary is small).  Only ever applied to both sides of a
    comparison, so its mistakes are symmetric."""
    if word.endswith("'s"):
        word = word[:-2]
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix in ("ies", "ied"):
                word = word[:-3] + "y"
                break
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                break
            if suffix == "es" and not word.endswith(("sses", "xes", "zes", "ches", "shes")):
                suffix = "s"  # "decrees" is "decree" + s, "boxes" is "box" + es
            elif suffix == "ed" and word.endswith("eed"):
                suffix = "d"  # "decreed" is "decree" + d
            word = word[:-len(suffix)]
            if suffix in ("ing", "ed") and len(word) > 3 and word[-1] == word[-2] \
                    and word[-1] not in "lsz":
                word = word[:-1]  # "stopped" → "stopp" → "stop"
            break
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]  # "hope" / "hoped", "throne" / "thrones" meet at "hop", "thron"
    return word


def tokens(text: str) -> list[str]:
    """Lower-case words of ``text`` without stopwords, stemmed."""
    return [stem(w) for w in _WORD.findall(text.casefold()) if w not in STOPWORDS]


def content_words(text: str) -> frozenset[str]:
    """The distinct stemmed content words of ``text``; if it has none (it is all stopwords,
    e.g. "Go!"), its plain words, so that short texts still mean something."""
    words = frozenset(tokens(text))
    return words or frozenset(_WORD.findall(text.casefold()))


@lru_cache(maxsize=4096)
def _phrase_words(phrase: str) -> frozenset[str]:
    return content_words(phrase)


def covered(phrase: str, words: frozenset[str], share: float = 0.6) -> bool:
    """Whether at least ``share`` of the phrase's content words are among ``words`` (the
    content words of a text): "did this beat happen in that passage?"."""
    wanted = _phrase_words(phrase)
    return bool(wanted) and len(wanted & words) >= share * len(wanted)


class Similarity(Protocol):
    """Semantic similarity of two texts: 1.0 = same meaning, 0.0 = nothing in common."""

    def similarity(self, a: str, b: str) -> float: ...


class TfidfSimilarity:
    """Cosine of TF-IDF vectors, IDF fitted on the story's own texts.

    Term frequency is sublinear (1 + ln count) so a word repeated in a long passage does not
    drown the rest; IDF is smoothed, ``ln((1 + N) / (1 + df)) + 1``, so every word, even one
    the corpus never saw, keeps a positive weight.  With an empty corpus every word weighs 1.
    Vectors are cached per text (summaries and the recent text are compared again every turn);
    the cache is dropped on ``fit`` and when it grows past ``cache_size`` texts.
    """

    def __init__(self, corpus: Iterable[str] = (), cache_size: int = 4096):
        self._cache_size = cache_size
        self._cache: dict[str, tuple[dict[str, float], float]] = {}
        self._df: Counter[str] = Counter()
        self._n = 0
        self._unseen = 1.0
        self.fit(corpus)

    def fit(self, corpus: Iterable[str]) -> "TfidfSimilarity":
        """Refit the word weights on ``corpus`` (one document per string)."""
        df: Counter[str] = Counter()
        n = 0
        for doc in corpus:
            n += 1
            df.update(set(tokens(doc)))
        self._df, self._n = df, n
        self._unseen = math.log(1 + n) + 1.0
        self._cache = {}
        return self

    def idf(self, word: str) -> float:
        df = self._df.get(word, 0)
        return math.log((1 + self._n) / (1 + df)) + 1.0 if df else self._unseen

    def vector(self, text: str) -> tuple[dict[str, float], float]:
        """The weighted word vector of ``text`` and its length."""
        hit = self._cache.get(text)
        if hit is not None:
            return hit
        counts = Counter(tokens(text))
        vec = {w: (1.0 + math.log(c)) * self.idf(w) for w, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in vec.values()))
        if len(self._cache) >= self._cache_size:
            self._cache = {}
        self._cache[text] = (vec, norm)
        return vec, norm

    def similarity(self, a: str, b: str) -> float:
        if a == b:
            return 1.0 if a.strip() else 0.0  # even a text of stopwords only is itself
        va, na = self.vector(a)
        vb, nb = self.vector(b)
        if not na or not nb:
            return 0.0
        if va == vb:
            return 1.0  # exact, not 0.9999999…
        if len(va) > len(vb):
            va, vb = vb, va
        dot = sum(w * vb[t] for t, w in va.items() if t in vb)
        return max(0.0, min(1.0, dot / (na * nb)))


class EmbeddingSimilarity:
    """Cosine of embedding vectors an embeddings provider made beforehand (the engine runs
    synchronously, so vectors are fetched before a turn and passed in, text → vector).
    A pair with a text that was not embedded falls back to ``fallback`` (the offline TF-IDF),
    so a partial answer never breaks a turn.  Negative cosines count as 0 (unrelated)."""

    def __init__(self, vectors: Mapping[str, Sequence[float]], fallback: Similarity):
        self._vectors = {t: list(map(float, v)) for t, v in vectors.items() if v}
        self._fallback = fallback

    def similarity(self, a: str, b: str) -> float:
        va, vb = self._vectors.get(a), self._vectors.get(b)
        if va is None or vb is None or len(va) != len(vb):
            return self._fallback.similarity(a, b)
        if a == b:
            return 1.0 if a.strip() else 0.0
        na = math.sqrt(sum(x * x for x in va))
        nb = math.sqrt(sum(x * x for x in vb))
        if not na or not nb:
            return 0.0
        dot = sum(x * y for x, y in zip(va, vb))
        return max(0.0, min(1.0, dot / (na * nb)))


__all__ = ["EmbeddingSimilarity", "STOPWORDS", "Similarity", "TfidfSimilarity", "content_words", "covered", "stem",
           "tokens"]
