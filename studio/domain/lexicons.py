"""The word lists the manuscript analyser reads: the emotion lexicon and common given names.

They are data, not rules, so they ship as plain text in ``resources/lexicons/`` (an author or a
translator can read and extend them without touching code; PyInstaller and the wheel carry
``resources/`` already).  Both are read once, when this module is imported, through
``studio.config.resources_dir`` — the one place that knows where resources live in a source
tree, a wheel or a frozen build.  That read is the analyser's only contact with files: the
parsing functions below are pure and the tests feed them strings.

A missing or unreadable file is an incomplete installation, and says so (FileNotFoundError
from ``resources_dir``); an empty section is allowed (the analyser then finds nothing).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

from studio.config import resources_dir
from studio.domain.similarity import stem

BASIC_EMOTIONS = ("joy", "sadness", "anger", "fear", "surprise", "disgust", "trust",
                  "anticipation")  # Plutchik's eight, in the order results list them
EMOTIONS_FILE = ("lexicons", "emotions.txt")
NAMES_FILE = ("lexicons", "given_names.txt")


def parse_lexicon(text: str) -> dict[str, tuple[str, ...]]:
    """``[emotion]`` sections of space-separated words → {word stem: emotions it signals}.

    Words are stemmed with ``similarity.stem`` (the analyser stems the prose the same way), so
    one listed form finds its inflections.  Unknown section names are ignored rather than
    fatal: a lexicon from a newer version may know more emotions than this code."""
    lexicon: dict[str, tuple[str, ...]] = {}
    section: str | None = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1].strip().casefold()
            section = name if name in BASIC_EMOTIONS else None
            continue
        if section is None:
            continue
        for word in line.split():
            s = stem(word.casefold())
            if section not in lexicon.get(s, ()):
                lexicon[s] = lexicon.get(s, ()) + (section,)
    return lexicon


def parse_names(text: str) -> dict[str, frozenset[str]]:
    """``[female]`` / ``[male]`` sections, one name a line → {section: names as written}.
    Lines before any section count as "any"."""
    out: dict[str, set[str]] = {"female": set(), "male": set(), "any": set()}
    section = "any"
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip().casefold()
            out.setdefault(section, set())
        elif line:
            out[section].add(line)
    return {k: frozenset(v) for k, v in out.items()}


def _read(parts: tuple[str, ...]) -> str:
    return resources_dir().joinpath(*parts).read_text(encoding="utf-8")


_EMOTIONS_TEXT = _read(EMOTIONS_FILE)
EMOTION_LEXICON: Mapping[str, tuple[str, ...]] = MappingProxyType(parse_lexicon(_EMOTIONS_TEXT))
LEXICON_WORDS = sum(1 for line in _EMOTIONS_TEXT.splitlines()
                    for w in line.split("#", 1)[0].split()
                    if not (w.startswith("[") and w.endswith("]")))  # words as listed
_NAMES = parse_names(_read(NAMES_FILE))
FEMALE_NAMES: frozenset[str] = _NAMES["female"]
MALE_NAMES: frozenset[str] = _NAMES["male"]
GIVEN_NAMES: frozenset[str] = frozenset().union(*_NAMES.values())

__all__ = ["BASIC_EMOTIONS", "EMOTION_LEXICON", "FEMALE_NAMES", "GIVEN_NAMES", "LEXICON_WORDS",
           "MALE_NAMES", "parse_lexicon", "parse_names"]
