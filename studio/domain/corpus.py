"""A manuscript split once into chapters, scenes, paragraphs, sentences and words.

Every stage of the manuscript analyser (``studio.domain.insights``) walks the same lists, so
the expensive part — regular expressions over the prose — runs exactly once per sentence:
sentence breaks and word tokens (``analysis._sentences`` / ``analysis._tokens``, shared with
the marketplace analyser so both read prose alike), the quoted stretches (dialogue), and the
capitalised runs the cast finder looks at.  Nothing here runs a regular expression per word.

The content may be anything (a hand-edited file, another client's export): every part that is
not the expected shape is treated as empty, never raised on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from studio.domain.analysis import _TOKEN_RE, _sentences, _tokens

Progress = Callable[[str, float], None]
PROGRESS_EVERY = 500  # paragraphs between progress calls while reading

# Dialogue.  Double quotes: “ opens, ” closes, a straight " toggles.  Single-quote dialogue
# (British style, e.g. Alice in Wonderland) is told from apostrophes by what is around the mark:
# an opening quote has no letter before it, a closing one no letter after it ("don't" is
# neither).  A story is read in the style it uses more (``quote_style``).
_DOUBLE_RE = re.compile(r"[“”\"]")
_SINGLE_RE = re.compile(r"(?P<open>(?<![\w])[‘'](?=[\w\"“‘.…—-]))"
                        r"|(?<=[\w.,!?;:…—\-\"”])[’'](?![\w])")
_SINGLE_OPEN_RE = re.compile(r"(?:^|(?<=\s))[‘'](?=\w)")

# A capitalised run: name words ("Elizabeth Bennet", "Mr. Darcy", "Count Von Kramm"), joined by
# single spaces, a title's dot, or a lowercase particle ("Ludwig van Beethoven").  A run never
# starts inside a word ("McDonald" is one word; "O'Brien" and "Saxe-Meningen" too).
_UP = "A-ZÀ-ÖØ-ÞĀ-ĶĹ-ŇŊ-ŽΑ-ΩА-ЯЁ"
_NAME_WORD = rf"[{_UP}][^\W_]*(?:-[^\W_]+)*(?:['’][{_UP}][^\W_]*)?"  # O'Brien, not Ada's
_PARTICLES = "von|van|de|der|den|du|da|di|del|della|le|la|ten|ter|bin|ibn|al"
RUN_RE = re.compile(
    rf"(?<![\w'’\-]){_NAME_WORD}(?:\.?[ ]+(?:(?:{_PARTICLES})[ ]+)?{_NAME_WORD})*"
    rf"(?P<pos>['’]s\b)?")


@dataclass(slots=True)
class Sentence:
    text: str
    tokens: list[str]
    spans: list[tuple[int, int]]  # quoted stretches of ``text`` (dialogue)
    dialogue_words: int
    segment: int  # index into Corpus.segments


@dataclass(slots=True)
class Segment:
    id: str
    scene: int
    first: int  # first sentence index
    end: int  # one past the last sentence
    words: int = 0
    dialogue_words: int = 0
    quoted: bool = False  # the paragraph has a quotation mark at all


@dataclass
class Scene:
    uid: str
    chapter: int
    title: str
    synopsis: str
    first_segment: int
    end_segment: int = 0
    first: int = 0  # first sentence index
    end: int = 0
    words: int = 0
    dialogue_words: int = 0


@dataclass
class Chapter:
    uid: str
    title: str
    first_scene: int
    end_scene: int = 0


@dataclass
class Corpus:
    chapters: list[Chapter] = field(default_factory=list)
    scenes: list[Scene] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    sentences: list[Sentence] = field(default_factory=list)
    quote_style: str = "double"

    @property
    def words(self) -> int:
        return sum(s.words for s in self.scenes)


def items(value: Any) -> list:
    return value if isinstance(value, list) else []


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def text_of(value: Any) -> str:
    return value if isinstance(value, str) else ""


def quote_style(texts: list[str]) -> str:
    """"single" when the prose quotes speech with single marks ('Ahem!' said the Mouse) more
    often than with double ones, else "double"."""
    double = sum(t.count('"') + t.count("“") for t in texts)
    single = sum(len(_SINGLE_OPEN_RE.findall(t)) for t in texts if "'" in t or "‘" in t)
    return "single" if single > 2 * double else "double"


def quoted_spans(text: str, style: str, inside: bool) -> tuple[list[tuple[int, int]], bool]:
    """The quoted stretches of a sentence, and whether a quote is still open at its end
    (speech running over several sentences).  ``inside``: open at its start."""
    spans: list[tuple[int, int]] = []
    start = 0 if inside else -1
    if style == "single":
        for m in _SINGLE_RE.finditer(text):
            if m.group("open") is not None:
                if start < 0:
                    start = m.end()
            elif start >= 0:
                spans.append((start, m.start()))
                start = -1
    else:
        for m in _DOUBLE_RE.finditer(text):
            mark = m.group()
            if start < 0 and mark != "”":
                start = m.end()
            elif start >= 0 and mark != "“":
                spans.append((start, m.start()))
                start = -1
    if start >= 0:
        spans.append((start, len(text)))
    return spans, start >= 0


def read(content: Mapping[str, Any], progress: Progress | None = None,
         stage: str = "reading") -> Corpus:
    """Split a StoryContent-shaped dict.  Scenes keep their order; chapters and scenes
    without an id get positional ones (``chapter_3``, ``scene_3_2``) so results can still
    point at them."""
    corpus = Corpus()
    raw: list[tuple[int, str, str]] = []  # (scene index, segment id, text)
    manuscript = mapping(mapping(content).get("manuscript"))
    for ci, chapter in enumerate(items(manuscript.get("chapters")), 1):
        if not isinstance(chapter, Mapping):
            continue
        ch = Chapter(str(chapter.get("id") or f"chapter_{ci}"), text_of(chapter.get("title")),
                     len(corpus.scenes))
        corpus.chapters.append(ch)
        for si, scene in enumerate(items(chapter.get("scenes")), 1):
            if not isinstance(scene, Mapping):
                continue
            meta = mapping(scene.get("meta"))
            synopsis = text_of(scene.get("synopsis")) or text_of(meta.get("synopsis"))
            corpus.scenes.append(Scene(str(scene.get("id") or f"scene_{ci}_{si}"),
                                       len(corpus.chapters) - 1, text_of(scene.get("title")),
                                       synopsis, 0))
            for gi, seg in enumerate(items(scene.get("segments"))):
                if isinstance(seg, Mapping) and isinstance(seg.get("text"), str):
                    raw.append((len(corpus.scenes) - 1,
                                str(seg.get("id") or f"seg_{ci}_{si}_{gi}"), seg["text"]))
        ch.end_scene = len(corpus.scenes)
    corpus.quote_style = style = quote_style([t for _, _, t in raw])
    if progress is not None:
        progress(stage, 0.0)
    scenes, segments, sentences = corpus.scenes, corpus.segments, corpus.sentences
    current = -1
    total = len(raw)
    for i, (scene_index, seg_id, text) in enumerate(raw):
        if progress is not None and i and i % PROGRESS_EVERY == 0:
            progress(stage, round(i / total, 4))
        while current < scene_index:  # scenes without paragraphs get empty ranges too
            current += 1
            scenes[current].first_segment = len(segments)
            scenes[current].first = len(sentences)
        seg = Segment(seg_id, scene_index, len(sentences), len(sentences))
        # a paragraph with double marks is read in double style; one without them in single
        # style when the story uses it or the paragraph opens on a single mark (a story
        # assembled from parts may mix both)
        if '"' in text or "“" in text:
            para_style = "double"
        elif style == "single" or text.lstrip()[:1] in ("'", "‘") or "‘" in text:
            para_style = "single"
        else:
            para_style = ""
        seg.quoted = bool(para_style)
        inside = False
        index = len(segments)
        for s in _sentences(text):
            toks = _tokens(s)
            spans: list[tuple[int, int]] = []
            dialogue = 0
            if seg.quoted:
                spans, inside = quoted_spans(s, para_style, inside)
                for a, b in spans:
                    dialogue += len(_TOKEN_RE.findall(s, a, b))
            sentences.append(Sentence(s, toks, spans, dialogue, index))
            seg.words += len(toks)
            seg.dialogue_words += dialogue
        seg.end = len(sentences)
        segments.append(seg)
        scene = scenes[scene_index]
        scene.words += seg.words
        scene.dialogue_words += seg.dialogue_words
    for scene in scenes[current + 1:]:
        scene.first_segment = len(segments)
        scene.first = len(sentences)
    for k, scene in enumerate(scenes):
        nxt = scenes[k + 1] if k + 1 < len(scenes) else None
        scene.end_segment = nxt.first_segment if nxt else len(segments)
        scene.end = nxt.first if nxt else len(sentences)
    if progress is not None:
        progress(stage, 1.0)
    return corpus


__all__ = ["Chapter", "Corpus", "RUN_RE", "Scene", "Segment", "Sentence", "items", "mapping",
           "quote_style", "quoted_spans", "read", "text_of"]
