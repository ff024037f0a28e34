"""The offline manuscript analyser: cast, emotions, themes, pacing, summaries and insights.

``analyse_manuscript(content)`` reads a StoryContent-shaped dict (``studio.services.publishing
.collect_content``; any part may be missing or malformed, which is read as empty) and returns
plain JSON — dicts, lists, strings, ints and floats rounded to 4 places — that is the same for
the same content, so a stored result can be compared with a re-run.  ``INSIGHTS_VERSION``
says when the rules changed (stored analyses are keyed by it and go stale with it).

It runs offline in pure Python, one core: a million-word novel in a few seconds
(``bench/analysis_bench.py``).  The prose is split once (``corpus``); the cast is found
(``cast``); one walk over the words counts emotions, syllables and content words
(``feelings``); pacing, themes and summaries are arithmetic on those counts.

Progress: ``progress(stage, fraction)`` for every stage in STAGES, at 0.0, now and then, and
at 1.0.  An exception raised by it propagates and stops the analysis (that is how a caller
cancels).  The result's shape is in ``analyse_manuscript``'s docstring; the tests
(tests/domain/test_insights.py) pin it down key by key.
"""

from __future__ import annotations

from collections import Counter
from statistics import median
from typing import Any, Callable, Mapping

from studio.domain.cast import Person, find_cast
from studio.domain.corpus import Corpus, mapping, read
from studio.domain.feelings import dominant, measure, shares, themes
from studio.domain.lexicons import BASIC_EMOTIONS, EMOTION_LEXICON
from studio.domain.pacing import pacing
from studio.domain.summaries import summaries

INSIGHTS_VERSION = 1
STAGES = ("reading", "cast", "emotions", "themes", "pacing", "summaries", "insights")
INSIGHT_KINDS = ("underdeveloped_character", "chapter_length", "no_dialogue_run",
                 "no_scene_change_run")
MAX_CAST = 200
# Insight thresholds.
UNDERDEVELOPED_MENTIONS = 8  # mentioned this often, yet never speaks nor thinks on the page
CHAPTER_LENGTH_NEIGHBOURS = 2  # chapters on each side a chapter is compared with
CHAPTER_LENGTH_MIN_CHAPTERS = 3
CHAPTER_TOO_LONG = 2.0  # × the neighbours' median words
CHAPTER_TOO_SHORT = 0.5
CHAPTER_LENGTH_WARNING = 3.0  # beyond 3× (or under ⅓) it is a warning, not just info
NO_DIALOGUE_WORDS = 3000  # consecutive scenes without a quote, in words
LONG_SCENE_WORDS = 5000  # one scene this long: no scene change for a long while
RUN_WARNING_FACTOR = 2.0  # twice a threshold turns info into a warning

# The voice issue's built-in modulation templates, and the one that suits each emotion the
# studio knows (studio.domain.emotions.EMOTIONS).  Why: the eight basic emotions map to the
# template that carries the same feeling in the voice (sadness → "sorrow", anger → "fury");
# surprise is a "gasp" (a sharp intake, then speech); disgust is a "sigh" (a breath pushed
# out); trust and love are "tenderness"; anticipation is a "whisper" (held back, leaning
# forward); the secondary emotions follow their nearest basic one.
VOICE_TEMPLATES = ("joy", "sorrow", "fury", "fear", "tenderness", "whisper", "shout", "laugh",
                   "sigh", "gasp")
_VOICE_FOR = {
    "joy": "joy", "sadness": "sorrow", "anger": "fury", "fear": "fear", "surprise": "gasp",
    "disgust": "sigh", "trust": "tenderness", "anticipation": "whisper", "love": "tenderness",
    "calm": "tenderness", "guilt": "sigh", "shame": "whisper", "pride": "shout",
    "hope": "joy", "despair": "sorrow", "curiosity": "whisper",
}

Progress = Callable[[str, float], None]


def suggest_voice_template(emotion: str) -> str:
    """The built-in voice template for an emotion (any of ``emotions.EMOTIONS``, any case).
    Unknown emotions raise ValueError naming the known ones."""
    key = str(emotion or "").strip().casefold()
    if key not in _VOICE_FOR:
        raise ValueError(f"No voice template for the emotion {emotion!r}; known emotions: "
                         + ", ".join(_VOICE_FOR))
    return _VOICE_FOR[key]


def analyse_manuscript(content: Mapping[str, Any], progress: Progress | None = None) -> dict:
    """Analyse a manuscript.  The result::

        {"insights_version", "words", "chapters", "scenes",
         "cast": [{"name", "id", "in_bible", "aliases", "mentions", "dialogue_lines", "speaks",
                   "interiority", "first_scene", "first_chapter", "dominant_emotion",
                   "emotions": {emotion: share}}],
         "emotions": {"lexicon_size", "emotional_words", "shares": {emotion: share},
                      "scenes": [{"scene", "chapter", "title", "dominant", "intensity",
                                  "counts": {emotion: n}}],
                      "characters": [{"name", "id", "dominant", "shares"}]},
         "themes": {"keywords": [{"term", "score", "count"}], "motifs": [{"phrase", "count"}]},
         "pacing": {"scenes": [...], "chapters": [...], "story": {...}},
         "insights": [{"kind", "severity", "message", "target"}],
         "summaries": {"scenes": {scene uid: text}, "stretches": [{"from_chapter",
                       "to_chapter", "title", "summary"}]}}

    A scene's ``intensity`` is its emotional words per word (0–1); a share is a fraction of
    the emotional words counted."""
    content = mapping(content)

    def report(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    corpus = read(content, report, "reading")
    people = find_cast(corpus, mapping(content.get("scene_bible")), report, "cast")[:MAX_CAST]
    name_words = {w.casefold() for p in people for form in [p.name, *p.forms]
                  for w in form.replace(".", " ").split()}
    report("emotions", 0.0)
    m = measure(corpus, name_words, report, "emotions")
    emotions = _emotions(corpus, m, people)
    report("emotions", 1.0)
    report("themes", 0.0)
    theme_section, _ = themes(m, name_words)
    report("themes", 1.0)
    report("pacing", 0.0)
    pace = pacing(corpus, m.sentence_syllables)
    report("pacing", 1.0)
    report("summaries", 0.0)
    summary = summaries(corpus, m, report, "summaries")
    report("summaries", 1.0)
    report("insights", 0.0)
    cast = _cast(corpus, people, m)
    found = _insights(corpus, cast, pace)
    report("insights", 1.0)
    return {"insights_version": INSIGHTS_VERSION, "words": corpus.words,
            "chapters": len(corpus.chapters), "scenes": len(corpus.scenes),
            "cast": cast, "emotions": emotions, "themes": theme_section, "pacing": pace,
            "insights": found, "summaries": summary}


def _person_emotions(p: Person, m: Any) -> Counter:
    counts: Counter = Counter()
    for i in p.segments:
        counts.update(m.segment_emotions[i])
    return counts


def _cast(corpus: Corpus, people: list[Person], m: Any) -> list[dict[str, Any]]:
    out = []
    for p in people:
        counts = _person_emotions(p, m)
        best, _ = dominant(counts)
        scene = corpus.scenes[p.first_scene] if p.first_scene >= 0 else None
        out.append({
            "name": p.name, "id": p.id, "in_bible": p.in_bible,
            "aliases": [f for f, _ in sorted(p.forms.items(), key=lambda kv: (-kv[1], kv[0]))
                        if f.casefold() != p.name.casefold()],
            "mentions": p.mentions, "dialogue_lines": p.dialogue_lines,
            "speaks": p.dialogue_lines > 0, "interiority": p.interiority,
            "first_scene": scene.uid if scene else None,
            "first_chapter": corpus.chapters[scene.chapter].uid if scene else None,
            "dominant_emotion": best, "emotions": shares(counts)})
    return out


def _emotions(corpus: Corpus, m: Any, people: list[Person]) -> dict[str, Any]:
    total: Counter = Counter()
    scenes = []
    for scene, counts in zip(corpus.scenes, m.scene_emotions):
        total.update(counts)
        best, _ = dominant(counts)
        scenes.append({"scene": scene.uid, "chapter": corpus.chapters[scene.chapter].uid,
                       "title": scene.title, "dominant": best,
                       "intensity": round(sum(counts.values()) / scene.words, 4)
                       if scene.words else 0.0,
                       "counts": {e: counts.get(e, 0) for e in BASIC_EMOTIONS}})
    characters = []
    for p in people:
        counts = _person_emotions(p, m)
        characters.append({"name": p.name, "id": p.id, "dominant": dominant(counts)[0],
                           "shares": shares(counts)})
    return {"lexicon_size": len(EMOTION_LEXICON), "emotional_words": sum(total.values()),
            "shares": shares(total), "scenes": scenes, "characters": characters}


def _words(n: int | float) -> str:
    return f"{n:,.0f}"


def _insights(corpus: Corpus, cast: list[dict[str, Any]],
              pace: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for c in cast:
        if c["mentions"] >= UNDERDEVELOPED_MENTIONS and not c["dialogue_lines"] \
                and not c["interiority"]:
            out.append({"kind": "underdeveloped_character", "severity": "warning",
                        "message": f"{c['name']} is mentioned {c['mentions']} times but never "
                                   f"speaks, and the prose never shows what they think or "
                                   f"feel.",
                        "target": {"character": c["name"], "character_id": c["id"]}})
    chapters = pace["chapters"]
    if len(chapters) >= CHAPTER_LENGTH_MIN_CHAPTERS:
        k = CHAPTER_LENGTH_NEIGHBOURS
        for i, ch in enumerate(chapters):
            near = [c["words"] for j, c in enumerate(chapters[max(0, i - k):i + k + 1],
                                                     max(0, i - k)) if j != i]
            typical = median(near) if near else 0
            if not typical:
                continue
            ratio = ch["words"] / typical
            name = _chapter_name(ch, i)
            if ratio > CHAPTER_TOO_LONG:
                what = f"is {ratio:.1f} times as long as the chapters around it"
            elif ratio < CHAPTER_TOO_SHORT:
                what = f"is only {ratio:.0%} of the length of the chapters around it"
            else:
                continue
            severe = ratio > CHAPTER_LENGTH_WARNING or ratio < 1 / CHAPTER_LENGTH_WARNING
            out.append({"kind": "chapter_length", "severity": "warning" if severe else "info",
                        "message": f"{name} ({_words(ch['words'])} words) {what} (median "
                                   f"{_words(typical)} words).",
                        "target": {"chapter": ch["chapter"]}})
    out += _dialogue_runs(corpus)
    for scene in corpus.scenes:
        if scene.words > LONG_SCENE_WORDS:
            severe = scene.words >= RUN_WARNING_FACTOR * LONG_SCENE_WORDS
            out.append({"kind": "no_scene_change_run",
                        "severity": "warning" if severe else "info",
                        "message": f"{_scene_name(corpus, scene)} runs {_words(scene.words)} "
                                   f"words without a scene change (more than "
                                   f"{_words(LONG_SCENE_WORDS)}).",
                        "target": {"scene": scene.uid,
                                   "chapter": corpus.chapters[scene.chapter].uid}})
    return out


def _dialogue_runs(corpus: Corpus) -> list[dict[str, Any]]:
    out = []
    run: list[int] = []
    for k in [*range(len(corpus.scenes)), -1]:
        scene = corpus.scenes[k] if k >= 0 else None
        if scene is not None and not scene.dialogue_words:
            run.append(k)
            continue
        words = sum(corpus.scenes[i].words for i in run)
        if run and words >= NO_DIALOGUE_WORDS:
            first, last = corpus.scenes[run[0]], corpus.scenes[run[-1]]
            where = _scene_name(corpus, first) if len(run) == 1 else \
                f"The {len(run)} scenes from {_scene_name(corpus, first, lower=True)} to " \
                f"{_scene_name(corpus, last, lower=True)}"
            verb = "has" if len(run) == 1 else "have"
            out.append({"kind": "no_dialogue_run",
                        "severity": "warning" if words >= RUN_WARNING_FACTOR
                        * NO_DIALOGUE_WORDS else "info",
                        "message": f"{where} {verb} no dialogue for {_words(words)} words.",
                        "target": {"scene": first.uid,
                                   "chapter": corpus.chapters[first.chapter].uid,
                                   "to_scene": last.uid, "scenes": len(run), "words": words}})
        run = []
    return out


def _chapter_name(ch: dict[str, Any], index: int) -> str:
    title = " ".join(str(ch.get("title") or "").split())
    return f"Chapter {index + 1} “{title}”" if title else f"Chapter {index + 1}"


def _scene_name(corpus: Corpus, scene: Any, lower: bool = False) -> str:
    number = corpus.scenes.index(scene) - corpus.chapters[scene.chapter].first_scene + 1
    title = " ".join(scene.title.split())
    name = f"scene {number} of chapter {scene.chapter + 1}" + (f" “{title}”" if title else "")
    return name if lower else name[0].upper() + name[1:]


__all__ = ["CHAPTER_TOO_LONG", "CHAPTER_TOO_SHORT", "INSIGHTS_VERSION", "INSIGHT_KINDS",
           "LONG_SCENE_WORDS", "NO_DIALOGUE_WORDS", "STAGES", "UNDERDEVELOPED_MENTIONS",
           "VOICE_TEMPLATES", "analyse_manuscript", "suggest_voice_template"]
