"""The offline story analyser: who is in a published story, how it feels, what it is about.

A marketplace worker runs ``analyse_story`` once per published version and stores the dict it
returns (plain JSON: lists, dicts, strings, ints, floats rounded to 4 places).  Pure Python and
deterministic: the same content gives an identical dict, so a re-run can be compared with what
is stored, and ``ANALYSER_VERSION`` says when the rules changed and old analyses are stale.

The rules are plain heuristics in the spirit of ``studio.domain.continuity``:

* characters — the bible's names and aliases counted in the prose (a word of a multi-word name
  counts when no other character shares it), plus capitalised names the prose attributes
  speech to ("said Marlow", "Marlow whispered") that recur and are not in the bible;
* emotions — a small built-in lexicon per basic emotion, matched on stems, summed per story,
  per chapter (the arc) and over the segments that mention each main character;
* themes — TF-IDF over chapters (each chapter a document) of stemmed content words; motifs are
  adjacent content-word pairs that recur;
* summary — the sentences whose content words weigh most, in story order.

Speed: every segment is split into sentences and words once; the stages then walk those lists
doing dict and Counter work only (a 100 000-word story takes a fraction of a second).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any, Callable, Mapping

from studio.domain.continuity import SPEAKER_AFTER_RE, SPEAKER_BEFORE_RE, SPEECH_VERBS, TITLES
from studio.domain.continuity import STOPWORDS as NAME_STOPWORDS
from studio.domain.similarity import STOPWORDS, stem

ANALYSER_VERSION = 1
STAGES = ("characters", "emotions", "themes", "summary")
BASIC_EMOTIONS = ("joy", "trust", "fear", "surprise", "sadness", "disgust", "anger",
                  "anticipation")  # the first eight of studio.domain.emotions.EMOTIONS
MAX_CHARACTERS = 100
MAIN_CHARACTERS = 5  # characters that get an emotional profile
TOP_THEMES = 10
TOP_MOTIFS = 10
MOTIF_MIN = 3  # occurrences before a word pair is a motif
SUMMARY_CHARS = 600
SUMMARY_SENTENCES = 3
MIN_SUMMARY_WORDS = 4
PROGRESS_EVERY = 1000  # segments between progress calls

Progress = Callable[[str, float], None]

# --- vocabulary -----------------------------------------------------------------------------

# Our own small lexicon: plain words, stemmed when the module loads (so "smiled", "smiling" and
# "smiles" all meet "smile").  Words that usually mean something else in narration ("cried" is
# mostly a speech verb, "kind" mostly "kind of") are left out.
_LEXICON_WORDS = {
    "joy": """joy joyful joyous happy happily happiness glad gladly delight delighted
        delightful laugh laughter smile grin cheer cheerful bliss blissful elated merry
        celebrate celebration triumph wonderful sunshine warmth dance sing song pleasure
        pleased rejoice giggle jubilant radiant playful fun beaming thrilled""",
    "trust": """trust trusted trustworthy loyal loyalty faith faithful friend friendship
        honest honesty promise rely reliable safe safety protect protected believe belief
        devoted devotion ally comfort comforted steady oath vow respect gentle reassure
        reassured confide dependable""",
    "fear": """fear fearful afraid scared terror terrified terrifying dread horror horrified
        frightened fright frightening panic tremble trembling shiver nervous anxious anxiety
        worry worried threat danger dangerous scream flee fled hide nightmare creep creeping
        ghost shadow dark darkness menace alarm alarmed haunted""",
    "surprise": """surprise surprised surprising astonished astonishing amazed amazement
        amazing shock shocked sudden startled unexpected unexpectedly gasp stunned
        bewildered astounded marvel incredible unbelievable jolt abrupt abruptly dumbfounded
        speechless""",
    "sadness": """sad sadly sadness sorrow sorrowful grief grieve grieving mourn mourning
        weep wept tears sob sobbing lonely loneliness gloom gloomy misery miserable
        heartbroken melancholy loss regret funeral mournful ache unhappy sigh despair
        despairing forlorn bereft""",
    "disgust": """disgust disgusted disgusting revolting repulsive vile filth filthy foul
        rotten stench stink stinking nausea nauseous sick gross loathe loathing contempt
        repugnant slime putrid rancid grotesque abhor hideous sickening squalid odious""",
    "anger": """anger angry angrily rage raging furious fury wrath hate hated hatred resent
        resentment outrage outraged annoyed irritated bitter hostile snarl scowl glare
        slam fight fought violent cruel seethe seething mad livid vengeance""",
    "anticipation": """anticipate anticipation expect expectation await awaited eager
        eagerly hope hoped hoping plan prepare prepared ready tomorrow future waiting
        curious curiosity intend destined scheme seek search journey quest longing yearn
        yearning impatient soon""",
}

# Common narrative words that say nothing about a theme, on top of similarity's stopwords.
_THEME_STOPWORDS = frozenset(STOPWORDS | SPEECH_VERBS | frozenset("""
    said say like back could would one two three yes oh ah still even just never always ever
    around away toward towards thing things something nothing everything anything someone
    everyone anyone nobody look looked looking looks know knew known think thought want
    wanted get got go goes going went gone come came coming take took taken make made see
    saw seen seem seemed seems felt way time much many little well let began turned within
    without across behind perhaps maybe enough another every last first long though
    although however since mr mrs ms dr sir upon us also onto shall must might
""".split()))

_TOKEN_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
# A sentence ends at . ! ? … (perhaps followed by a closing quote) and whitespace, unless the
# dot belongs to a title ("Mr. Hale") or the next word starts in lowercase ("“Why?” asked Ada").
_SENTENCE_BREAK_RE = re.compile(
    r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’)\]]))"
    r"(?<!\bMr\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bSt\.)(?<!\bMrs\.)(?<!\bProf\.)"
    r"\s+(?![\"'“‘(\[]?[a-z])")
_QUOTES = frozenset("\"“”")


def _build_lexicon() -> dict[str, tuple[str, ...]]:
    lexicon: dict[str, tuple[str, ...]] = {}
    for emotion in BASIC_EMOTIONS:
        for word in _LEXICON_WORDS[emotion].split():
            s = stem(word)
            if emotion not in lexicon.get(s, ()):
                lexicon[s] = lexicon.get(s, ()) + (emotion,)
    return lexicon


LEXICON = _build_lexicon()  # stem → the emotions it signals


# --- helpers --------------------------------------------------------------------------------

def _tokens(text: str) -> list[str]:
    """Words of ``text`` with their case, curly apostrophes made straight and a possessive
    's dropped ("Ada's" → "Ada"), so names and stems see the same word."""
    return [t[:-2] if t.endswith("'s") and len(t) > 2 else t
            for t in _TOKEN_RE.findall(text.replace("’", "'"))]


def _sentences(text: str) -> list[str]:
    return [s for s in (" ".join(p.split()) for p in _SENTENCE_BREAK_RE.split(text)) if s]


def _name_words(name: str) -> list[str] | None:
    """The core words of a capitalised run: leading sentence words and titles dropped ("Then
    Mr. Hale" → Hale), or None when nothing capitalised is left."""
    words = [w.rstrip(".") for w in name.split()]
    while words and (words[0].casefold() in NAME_STOPWORDS or words[0].casefold() in TITLES):
        words.pop(0)
    if not words or not all(w[:1].isupper() for w in words):
        return None
    return words


def _items(value: Any) -> list:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _dominant(counts: Mapping[str, int]) -> tuple[str | None, float]:
    """The emotion with the most words (ties: BASIC_EMOTIONS order) and its share."""
    total = sum(counts.values())
    if not total:
        return None, 0.0
    best = max(BASIC_EMOTIONS, key=lambda e: (counts.get(e, 0), -BASIC_EMOTIONS.index(e)))
    return best, round(counts.get(best, 0) / total, 4)


def _surface(forms: Counter[str]) -> str:
    """The most used spelling of a stem (ties: shorter, then alphabetical)."""
    return min(forms.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[0]


# --- the analysis ---------------------------------------------------------------------------

def analyse_story(content: Mapping[str, Any], progress: Progress | None = None) -> dict:
    """Analyse a StoryContent-shaped dict (any part may be missing).  ``progress(stage,
    fraction)`` is called for every stage in STAGES, at 0.0, every PROGRESS_EVERY segments and
    at 1.0; an exception from it propagates (that is how the worker stops the analysis)."""
    a = _Analysis(content if isinstance(content, Mapping) else {}, progress)
    characters = a.characters()
    emotions = a.emotions(characters)
    themes = a.themes()
    summary = a.summary()
    return {"analyser_version": ANALYSER_VERSION, "words": a.words,
            "segments": len(a.seg_ids), "chapters": len(a.chapters),
            "characters": characters, "emotions": emotions, "themes": themes,
            "summary": summary}


class _Analysis:
    """The manuscript split once into segments, sentences and words; one method per stage."""

    def __init__(self, content: Mapping[str, Any], progress: Progress | None):
        self.progress = progress
        self.bible = _dict(content.get("scene_bible"))
        self.chapters: list[dict[str, str]] = []
        self.seg_ids: list[str] = []
        self.seg_chapter: list[int] = []
        self.texts: list[str] = []
        for ci, chapter in enumerate(_items(_dict(content.get("manuscript")).get("chapters")), 1):
            if not isinstance(chapter, Mapping):
                continue
            self.chapters.append({"id": str(chapter.get("id") or f"chap_{ci}"),
                                  "title": str(chapter.get("title") or "")})
            for scene in _items(chapter.get("scenes")):
                for seg in _items(_dict(scene).get("segments")):
                    if isinstance(seg, Mapping) and isinstance(seg.get("text"), str):
                        self.seg_ids.append(str(seg.get("id") or f"seg_{len(self.seg_ids)}"))
                        self.seg_chapter.append(len(self.chapters) - 1)
                        self.texts.append(seg["text"])
        self.sentences: list[list[tuple[str, list[str]]]] = []  # per segment: (text, words)
        self.seg_tokens: list[list[str]] = []
        self.words = 0
        self.name_words: set[str] = set()  # casefolded words of character names
        self.person_segments: dict[int, list[int]] = {}  # person index → segments naming them
        self.main_characters: list[int] = []  # person indexes of the top characters
        self.weights: dict[str, float] = {}  # stem → theme weight, for the summary
        self.content_memo: dict[str, str | None] = {}  # word → stem, or None when not content

    def report(self, stage: str, fraction: float) -> None:
        if self.progress is not None:
            self.progress(stage, round(fraction, 4))

    def tick(self, stage: str, done: int, total: int, start: float = 0.0,
             span: float = 1.0) -> None:
        """Within a loop: report every PROGRESS_EVERY items."""
        if done and done % PROGRESS_EVERY == 0:
            self.report(stage, start + span * done / total)

    # --- characters ---

    def characters(self) -> list[dict[str, Any]]:
        stage, n = "characters", len(self.texts)
        self.report(stage, 0.0)
        people: list[dict[str, Any]] = []  # name, id, in_bible
        primary: dict[tuple[str, ...], set[int]] = {}  # full names, aliases, their cores
        derived: dict[tuple[str, ...], set[int]] = {}  # single words of multi-word cores
        folded: dict[tuple[str, ...], set[int]] = {}  # lowercase aliases ("the old man")
        for c in _items(self.bible.get("characters")):
            name = _dict(c).get("name")
            if not isinstance(name, str) or not name.strip():
                continue
            key = len(people)
            people.append({"name": " ".join(name.split()), "id": c.get("id"), "in_bible": True})
            for form in [name, *(a for a in _items(c.get("aliases")) if isinstance(a, str))]:
                toks = tuple(_tokens(form))
                if not toks:
                    continue
                if toks[0][:1].islower() or toks[0].casefold() in NAME_STOPWORDS:
                    # "the old man", "The Captain": matched whole, in any case
                    folded.setdefault(tuple(t.casefold() for t in toks), set()).add(key)
                if not toks[0][:1].islower():
                    primary.setdefault(toks, set()).add(key)
                core = _name_words(" ".join(toks))
                if core:
                    primary.setdefault(tuple(core), set()).add(key)
                    for w in core if len(core) > 1 else ():
                        derived.setdefault((w,), set()).add(key)
        forms = {**{k: v for k, v in derived.items() if k not in primary}, **primary}
        known = {" ".join(f).casefold() for f in [*forms, *folded]}
        known_words = {w.casefold() for f in forms for w in f}
        setting = _dict(self.bible.get("setting"))
        places = [setting.get("primary_location")]
        for loc in _items(setting.get("locations")):
            places += [_dict(loc).get("name"), *_items(_dict(loc).get("aliases"))]
        for place in places:
            if isinstance(place, str) and (core := _name_words(" ".join(_tokens(place)))):
                known.add(" ".join(core).casefold())
        speakers = {" ".join(f).casefold(): ids for f, ids in forms.items()}

        # Pass 1: words, sentences and speech attributions.
        dialogue: Counter[int] = Counter()
        new: dict[tuple[str, ...], str] = {}  # unknown speaker core → display name
        new_lines: Counter[tuple[str, ...]] = Counter()
        for i, text in enumerate(self.texts):
            self.tick(stage, i, n, 0.0, 0.5)
            sentences = [(s, _tokens(s)) for s in _sentences(text)]
            self.sentences.append(sentences)
            toks = [t for _, st in sentences for t in st]
            self.seg_tokens.append(toks)
            self.words += len(toks)
            runs = SPEAKER_BEFORE_RE.findall(text)
            runs += [run for run, possessive in SPEAKER_AFTER_RE.findall(text) if not possessive]
            for run in runs:
                words = _name_words(run) or []
                core = tuple(_tokens(" ".join(words)))
                # the run as written first: a character may be called "May" or "The Captain"
                for k in (" ".join(_tokens(run)).casefold(), " ".join(core).casefold()):
                    if k in speakers:
                        if len(speakers[k]) == 1:
                            dialogue[next(iter(speakers[k]))] += 1
                        break
                else:
                    if core and k not in known and not all(w.casefold() in known_words
                                                           for w in core):
                        titles = [w.rstrip(".") for w in run.split()[:-len(words)]
                                  if w.rstrip(".").casefold() in TITLES]
                        new.setdefault(core, " ".join([*titles, *words]))
                        new_lines[core] += 1
        for core in sorted(new):
            forms[core] = {len(people)}
            dialogue[len(people)] = new_lines[core]
            people.append({"name": new[core], "id": None, "in_bible": False})

        # Pass 2: mentions, longest name first, each word counted once.
        exact: dict[str, list[tuple[tuple[str, ...], int]]] = {}
        for f, ids in sorted(forms.items(), key=lambda kv: (-len(kv[0]), kv[0])):
            if len(ids) == 1:
                exact.setdefault(f[0], []).append((f, next(iter(ids))))
        lower: dict[str, list[tuple[tuple[str, ...], int]]] = {}
        for f, ids in sorted(folded.items(), key=lambda kv: (-len(kv[0]), kv[0])):
            if len(ids) == 1:
                lower.setdefault(f[0], []).append((f, next(iter(ids))))
        mentions: Counter[int] = Counter()
        segs = self.person_segments
        for i, toks in enumerate(self.seg_tokens):
            self.tick(stage, i, n, 0.5, 0.5)
            skip = 0
            for j, tok in enumerate(toks):
                if j < skip:
                    continue
                hit = None
                for f, key in exact.get(tok, ()):
                    if len(f) == 1 or tuple(toks[j:j + len(f)]) == f:
                        hit = f, key
                        break
                if hit is None and lower:
                    low = tok.casefold()
                    for f, key in lower.get(low, ()):
                        if tuple(t.casefold() for t in toks[j:j + len(f)]) == f:
                            hit = f, key
                            break
                if hit is not None:
                    skip = j + len(hit[0])
                    mentions[hit[1]] += 1
                    where = segs.setdefault(hit[1], [])
                    if not where or where[-1] != i:
                        where.append(i)

        chosen = [k for k, p in enumerate(people)
                  if (mentions[k] > 0 if p["in_bible"] else mentions[k] >= 2 and dialogue[k])]
        total = sum(mentions[k] for k in chosen)
        chosen.sort(key=lambda k: (-mentions[k], -dialogue[k], people[k]["name"],
                                   str(people[k]["id"] or "")))
        named = set(chosen) | {k for k, p in enumerate(people) if p["in_bible"]}
        self.name_words = {w.casefold() for f, ids in forms.items() if ids & named for w in f}
        self.name_words |= {w for f in folded for w in f if w not in _THEME_STOPWORDS}
        out = []
        for k in chosen[:MAX_CHARACTERS]:
            p, where = people[k], segs[k]
            out.append({"name": p["name"], "id": p["id"], "in_bible": p["in_bible"],
                        "mentions": mentions[k], "dialogue_lines": dialogue[k],
                        "first_segment": self.seg_ids[where[0]],
                        "last_segment": self.seg_ids[where[-1]],
                        "share": round(mentions[k] / total, 4)})
        self.main_characters = chosen[:MAIN_CHARACTERS]
        self.report(stage, 1.0)
        return out

    # --- emotions ---

    def emotions(self, characters: list[dict[str, Any]]) -> dict[str, Any]:
        stage, n = "emotions", len(self.seg_tokens)
        self.report(stage, 0.0)
        per_segment: list[Counter[str]] = []
        per_chapter = [Counter() for _ in self.chapters]
        lexicon = LEXICON
        for i, toks in enumerate(self.seg_tokens):
            self.tick(stage, i, n)
            counts: Counter[str] = Counter()
            for tok in toks:
                hit = lexicon.get(stem(tok.casefold()))
                if hit:
                    counts.update(hit)
            per_segment.append(counts)
            per_chapter[self.seg_chapter[i]].update(counts)
        total: Counter[str] = sum(per_chapter, Counter())
        words = sum(total.values())
        arc = []
        for chapter, counts in zip(self.chapters, per_chapter):
            dominant, intensity = _dominant(counts)
            arc.append({"chapter": chapter["id"], "title": chapter["title"],
                        "dominant": dominant, "intensity": intensity,
                        "emotional_words": sum(counts.values())})
        people = []
        for c, key in zip(characters, self.main_characters):
            counts = Counter()
            for i in self.person_segments[key]:
                counts.update(per_segment[i])
            dominant, intensity = _dominant(counts)
            people.append({"name": c["name"], "id": c["id"], "dominant": dominant,
                           "intensity": intensity})
        self.report(stage, 1.0)
        return {"emotional_words": words,
                "shares": {e: round(total[e] / words, 4) if words else 0.0
                           for e in BASIC_EMOTIONS},
                "arc": arc, "characters": people}

    # --- themes ---

    def content_stem(self, tok: str) -> str | None:
        """The stem of a content word; None for stopwords, names, numbers, contractions."""
        low = tok.casefold()
        if low in self.content_memo:
            return self.content_memo[low]
        ok = (len(low) >= 3 and low not in _THEME_STOPWORDS and low not in self.name_words
              and "'" not in low and not low[0].isdigit())
        self.content_memo[low] = s = stem(low) if ok else None
        return s

    def themes(self) -> dict[str, Any]:
        stage, n = "themes", len(self.seg_tokens)
        self.report(stage, 0.0)
        docs = [Counter() for _ in self.chapters]
        spelled: dict[str, Counter[str]] = {}
        capitals: Counter[str] = Counter()
        pairs: Counter[tuple[str, str]] = Counter()
        pair_spelled: dict[tuple[str, str], Counter[str]] = {}
        for i, sentences in enumerate(self.sentences):
            self.tick(stage, i, n)
            doc = docs[self.seg_chapter[i]]
            for _, toks in sentences:
                prev = prev_tok = None
                for tok in toks:
                    s = self.content_stem(tok)
                    if s is None:
                        prev = None
                        continue
                    doc[s] += 1
                    spelled.setdefault(s, Counter())[tok.casefold()] += 1
                    if tok[0].isupper():
                        capitals[s] += 1
                    if prev is not None:
                        pairs[prev, s] += 1
                        pair_spelled.setdefault((prev, s), Counter())[
                            f"{prev_tok.casefold()} {tok.casefold()}"] += 1
                    prev, prev_tok = s, tok
        used = [d for d in docs if d]
        df = Counter(s for d in used for s in d)
        counts = sum(used, Counter())
        scores: dict[str, float] = {}
        for s in sorted(counts):
            if capitals[s] >= 0.9 * counts[s]:
                continue  # a proper noun (a place, a name the bible lacks), not a theme
            idf = math.log((1 + len(used)) / (1 + df[s])) + 1.0
            scores[s] = sum((1.0 + math.log(d[s])) * idf for d in used if s in d)
        self.weights = scores
        ranked = sorted((s for s in scores if counts[s] >= 2),
                        key=lambda s: (-scores[s], _surface(spelled[s])))[:TOP_THEMES]
        top = scores[ranked[0]] if ranked else 1.0
        keywords = [{"term": _surface(spelled[s]), "score": round(scores[s] / top, 4),
                     "count": counts[s]} for s in ranked]
        motifs = sorted(({"phrase": _surface(pair_spelled[p]), "count": c}
                         for p, c in pairs.items() if c >= MOTIF_MIN),
                        key=lambda m: (-m["count"], m["phrase"]))[:TOP_MOTIFS]
        self.report(stage, 1.0)
        return {"keywords": keywords, "motifs": motifs}

    # --- summary ---

    def summary(self) -> str:
        stage, n = "summary", len(self.sentences)
        self.report(stage, 0.0)
        scored: list[tuple[float, int, str]] = []
        short: list[tuple[float, int, str]] = []
        position = 0
        for i, sentences in enumerate(self.sentences):
            self.tick(stage, i, n)
            for text, toks in sentences:
                position += 1
                stems = [s for s in map(self.content_stem, toks) if s is not None]
                score = sum(self.weights.get(s, 0.0) for s in set(stems))
                if score <= 0:
                    continue
                score /= math.sqrt(len(stems))  # long sentences do not win by length alone
                if _QUOTES & set(text):
                    score *= 0.5  # dialogue summarises a story less well than narration
                (scored if len(toks) >= MIN_SUMMARY_WORDS else short).append(
                    (-round(score, 9), position, text))
        ranked = sorted(scored or short)
        chosen: list[tuple[int, str]] = []
        length = -1
        for _, pos, text in ranked:
            if length + 1 + len(text) <= SUMMARY_CHARS:
                chosen.append((pos, text))
                length += 1 + len(text)
                if len(chosen) == SUMMARY_SENTENCES:
                    break
        if not chosen and ranked:  # even the best sentence is too long: cut it at a word
            text = ranked[0][2][:SUMMARY_CHARS - 1]
            chosen.append((0, (text.rsplit(" ", 1)[0] if " " in text else text) + "…"))
        self.report(stage, 1.0)
        return " ".join(text for _, text in sorted(chosen))


__all__ = ["ANALYSER_VERSION", "BASIC_EMOTIONS", "LEXICON", "STAGES", "analyse_story"]
