"""‹chapter-N› files: a chapter graph as plain text, one marker line per chapter.

Grammar and examples: ``resources/samples/chapters/README.md``.  Pure functions from text to a
chapter-graph dict (``resources/schemas/chapter_graph.schema.json``) and back; parsing gives a
complete graph or :class:`ChapterMarkerError` naming the line.  The graph's own rules (no cycles,
characters known to the scene bible) are the caller's.  Shared helpers are used by ``twee.py``.
"""

from __future__ import annotations

import copy
import math
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.domain.errors import ImportFormatError

CHAPTER_ID_PREFIX = "gch_"
STATUSES = ("idea", "draft", "revised", "final")
TRIGGER_KINDS = ("location", "item", "character", "key")
DEFAULT_STATUS = "draft"
DEFAULT_PRIORITY = 3
DEFAULT_ALLOW_DIVERGENCE = True
DEFAULT_THRESHOLD = 0.4          # as studio.domain.chapters.DEFAULT_THRESHOLD
IMPORTED = "imported"
MAX_NUMBER = 100_000
CHARACTER_ID_RE = re.compile(r"^char_[a-z0-9]+$")
MANUSCRIPT_ID_RE = re.compile(r"^chap_[0-9a-z]+$")

# ‹chapter-12› Title  or  <chapter-12> Title ("chapter" in any case); and near misses of it.
_MARKER_RE = re.compile(r"^\s*(?:‹chapter-([0-9]+)›|<chapter-([0-9]+)>)(.*)$", re.IGNORECASE)
_MARKER_LIKE_RE = re.compile(r"^\s*[‹<]\s*chapter\b", re.IGNORECASE)
_FIELD_RE = re.compile(r"^\s*([A-Za-z][A-Za-z ]*?)\s*:(.*)$")
_INT_RE = re.compile(r"^[+-]?[0-9]+$")
_DIVERGENCE_RE = re.compile(
    r"^(?:(allowed|not allowed)(?:\s*,\s*threshold\s*(\S+))?|threshold\s*(\S+))$")

# Field names as written (lower case, single spaces) → the field they set.  The first name of
# each field is how it is written, and named in messages (_LABELS).
_FIELDS = {
    "requires": "requires", "prerequisites": "requires", "location": "location",
    "locations": "location", "items": "item", "item": "item", "characters": "character",
    "character": "character", "when": "key", "description": "description",
    "summary": "summary", "instructions": "instructions", "beat": "beat",
    "divergence": "divergence", "status": "status", "alternate of": "alternate_of",
    "manuscript": "manuscript", "manuscript chapter": "manuscript", "position": "position",
}
_LABELS = {kind: next(name for name, k in _FIELDS.items() if k == kind).capitalize()
           for kind in dict.fromkeys(_FIELDS.values())}
_TEXT_FIELDS = ("description", "summary", "instructions")
_REPEATABLE = ("location", "item", "character", "key", "beat")
_ESCAPE_LETTERS = {"n": "\n", "r": "\r", "t": "\t"}
_LETTER_ESCAPES = {"\n": "n", "\r": "r", "\t": "t"}


class ChapterMarkerError(ImportFormatError):
    """A ‹chapter-N› file that does not follow the grammar; ``line`` is 1-based."""

    def __init__(self, line: int, reason: str):
        self.line = line
        self.reason = reason
        super().__init__(f"line {line}: {reason}")


# --- helpers shared with the other chapter formats ---------------------------------------------

def new_chapter_ids(count: int, taken: Iterable[str] = ()) -> list[str]:
    """``count`` fresh ``gch_`` + 8 hex ids, unlike each other and every id in ``taken``."""
    used, ids = set(taken), []
    while len(ids) < count:
        candidate = CHAPTER_ID_PREFIX + secrets.token_hex(4)
        if candidate not in used:
            used.add(candidate)
            ids.append(candidate)
    return ids


def blank_chapter(chapter_id: str, number: int, title: str, source: str = IMPORTED) -> dict:
    """A chapter with every field present and set to its default."""
    return {"id": chapter_id, "number": number, "title": title, "description": "",
            "summary": "", "status": DEFAULT_STATUS, "prerequisites": [], "triggers": [],
            "instructions": "", "beats": [], "allow_divergence": DEFAULT_ALLOW_DIVERGENCE,
            "threshold": DEFAULT_THRESHOLD, "source": source, "alternate_of": None,
            "manuscript_chapter": None, "position": None}


def complete_chapter(chapter: Mapping[str, Any]) -> dict:
    """A deep copy of ``chapter`` with every optional field at its default when missing.

    Conditions get ``critical``/``alternatives``, beats a ``priority``; a chapter without a
    ``source`` counts as ``manual``.  Parsers return chapters in this complete form.
    """
    done = blank_chapter("", 0, "", source="manual")
    done.update(copy.deepcopy(dict(chapter)))
    done["triggers"] = [
        {"kind": t.get("kind"), "value": t.get("value"), "critical": bool(t.get("critical")),
         "alternatives": list(t.get("alternatives", [])),
         **({"key": t.get("key", "")} if t.get("kind") == "key" or "key" in t else {})}
        for t in done["triggers"]]
    done["beats"] = [{"text": b.get("text"), "priority": b.get("priority", DEFAULT_PRIORITY)}
                     for b in done["beats"]]
    return done


def complete_graph(graph: Mapping[str, Any]) -> dict:
    """``{"chapters": [complete_chapter(c) …]}``."""
    return {"chapters": [complete_chapter(c) for c in graph.get("chapters", [])]}


def index_chapters(chapters: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Chapter id → number, after checking what a writer needs: whole numbers ≥ 1, used once,
    non-blank titles, prerequisites and ``alternate_of`` inside the graph (else ValueError)."""
    chapters = list(chapters)
    number_of: dict[str, int] = {}
    used: set[int] = set()
    for chapter in chapters:
        number = chapter.get("number")
        if type(number) is not int or number < 1:
            raise ValueError(f"chapter {chapter.get('id') or '?'} has no valid number")
        if number in used:
            raise ValueError(f"chapter number {number} is used twice")
        used.add(number)
        if not isinstance(chapter.get("title"), str) or not chapter["title"].strip():
            raise ValueError(f"chapter {number} has no title")
        number_of[chapter.get("id", "")] = number
    for chapter in chapters:
        for other in [*chapter.get("prerequisites", []), chapter.get("alternate_of")]:
            if other is not None and other not in number_of:
                raise ValueError(f"chapter {chapter['number']}: “{other}” (a prerequisite or "
                                 f"alternate_of) is not in the graph")
    return number_of


def format_number(value: float) -> str:
    """A number as short text that reads back equal: ``3``, ``-2.5``, ``0.4``, ``1e+20``."""
    if type(value) is int:
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    raise ValueError(f"not a finite number: {value!r}")


def parse_number(text: str) -> int | float | None:
    """An int (``12``) or finite float (``12.5``, ``1e3``); None when ``text`` is neither."""
    text = text.strip()
    if _INT_RE.match(text):
        return int(text)
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def split_lines(text: str) -> list[str]:
    """Lines of ``text`` for any of ``\\n``, ``\\r\\n``, ``\\r`` (and nothing else)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def trim_blank_lines(lines: list[str]) -> list[str]:
    """``lines`` without the blank (or whitespace-only) lines at its start and end."""
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def read_text(path: str | Path) -> str:
    """A UTF-8 file's text; ImportFormatError with a clear message when it cannot be read."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ImportFormatError(f"{path} does not exist.") from None
    except UnicodeDecodeError:
        raise ImportFormatError(f"{path} is not a UTF-8 text file.") from None
    except OSError as exc:
        raise ImportFormatError(f"{path} cannot be read: {exc.strerror}.") from None


# --- escapes in one-line values ----------------------------------------------------------------
# A token is (char, kind): "plain" (trimmed if whitespace at an edge), "esc" (from a backslash
# escape: literal, never trimmed) or "sep" (an unescaped separator character).

_Token = tuple[str, str]


def _lex(raw: str, separators: str = "") -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(raw):
        if raw[i] == "\\" and i + 1 < len(raw):
            tokens.append((_ESCAPE_LETTERS.get(raw[i + 1], raw[i + 1]), "esc"))
            i += 2
        else:
            tokens.append((raw[i], "sep" if raw[i] in separators else "plain"))
            i += 1
    return tokens


def _trim(tokens: list[_Token]) -> list[_Token]:
    start, end = 0, len(tokens)
    while start < end and tokens[start][1] == "plain" and tokens[start][0].isspace():
        start += 1
    while end > start and tokens[end - 1][1] == "plain" and tokens[end - 1][0].isspace():
        end -= 1
    return tokens[start:end]


def _split(tokens: list[_Token], separator: str) -> list[list[_Token]]:
    parts: list[list[_Token]] = [[]]
    for token in tokens:
        if token == (separator, "sep"):
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def _text(tokens: list[_Token]) -> str:
    return "".join(ch for ch, _ in tokens)


def escape_value(value: str, specials: str = "") -> str:
    """``value`` written so that it reads back exactly (backslash escapes, see the README)."""
    last = len(value) - 1
    return "".join(
        "\\" + _LETTER_ESCAPES.get(ch, ch)
        if ch in _LETTER_ESCAPES or ch == "\\" or ch in specials
        or (ch.isspace() and i in (0, last)) else ch
        for i, ch in enumerate(value))


# --- parsing -----------------------------------------------------------------------------------

@dataclass
class _Draft:
    line: int
    number: int
    chapter: dict
    seen: dict[str, int] = field(default_factory=dict)             # once-only field → line
    requires: list[tuple[int, int]] = field(default_factory=list)  # (number, line)
    alternate_of: tuple[int, int] | None = None                    # (number, line)


class _Parser:
    def __init__(self) -> None:
        self.drafts: list[_Draft] = []
        self.by_number: dict[int, _Draft] = {}
        self.text_field: str | None = None
        self.text_lines: list[str] = []

    def feed(self, lineno: int, raw: str) -> None:
        stripped = raw.strip()
        if stripped.startswith("#"):
            return                                              # a comment, anywhere
        marker = _MARKER_RE.match(raw)
        if marker:
            self._end_text()
            return self._start_chapter(lineno, marker)
        if _MARKER_LIKE_RE.match(raw):
            raise ChapterMarkerError(lineno, f"“{_clip(stripped)}” is not a chapter marker: "
                                             f"write ‹chapter-N› Title (N a whole number)")
        if not self.drafts:
            if stripped:
                raise ChapterMarkerError(lineno, "text before the first chapter marker "
                                                 "(‹chapter-1› Title); only blank lines and "
                                                 "# comments may come first")
            return
        named = _FIELD_RE.match(raw)
        kind = _FIELDS.get(" ".join(named.group(1).lower().split())) if named else None
        if kind is not None:
            self._end_text()
            self._field(lineno, kind, named.group(2))
        elif self.text_field is not None:
            self._continue_text(stripped)
        elif named:
            raise ChapterMarkerError(lineno, f"unknown field “{named.group(1).strip()}” (known: "
                                             f"{', '.join(_LABELS.values())})")
        elif stripped:
            raise ChapterMarkerError(lineno, f"expected a field such as “Summary: …”, found "
                                             f"“{_clip(stripped)}”")

    def finish(self) -> dict:
        self._end_text()
        if not self.drafts:
            raise ChapterMarkerError(1, "no chapters: the file has no chapter marker such as "
                                        "“‹chapter-1› Title”")
        ids = new_chapter_ids(len(self.drafts))
        id_of = {d.number: chapter_id for d, chapter_id in zip(self.drafts, ids)}
        for draft, chapter_id in zip(self.drafts, ids):
            draft.chapter["id"] = chapter_id
            for number, line in draft.requires:
                self._check_reference(draft, number, line, "Requires")
            draft.chapter["prerequisites"] = [id_of[number] for number, _ in draft.requires]
            if draft.alternate_of is not None:
                self._check_reference(draft, *draft.alternate_of, "Alternate of")
                draft.chapter["alternate_of"] = id_of[draft.alternate_of[0]]
        return {"chapters": [d.chapter for d in self.drafts]}

    def _check_reference(self, draft: _Draft, number: int, line: int, label: str) -> None:
        if number == draft.number:
            raise ChapterMarkerError(line, f"{label}: chapter {number} cannot refer to itself")
        if number not in self.by_number:
            raise ChapterMarkerError(line, f"{label}: there is no chapter {number} in this file")

    def _start_chapter(self, lineno: int, marker: re.Match) -> None:
        number = int(marker.group(1) or marker.group(2))
        if not 1 <= number <= MAX_NUMBER:
            raise ChapterMarkerError(lineno, f"chapter number {number} is out of range "
                                             f"(1 to {MAX_NUMBER})")
        if number in self.by_number:
            raise ChapterMarkerError(lineno, f"chapter {number} is already defined on line "
                                             f"{self.by_number[number].line}")
        title = _text(_trim(_lex(marker.group(3))))
        if not title.strip():
            raise ChapterMarkerError(lineno, f"chapter {number} has no title: write it after "
                                             f"the marker, on the same line")
        self.drafts.append(_Draft(lineno, number, blank_chapter("", number, title)))
        self.by_number[number] = self.drafts[-1]

    def _field(self, lineno: int, kind: str, raw: str) -> None:
        draft, value = self.drafts[-1], raw.strip()
        if kind not in _REPEATABLE and kind in draft.seen:
            raise ChapterMarkerError(lineno, f"“{_LABELS[kind]}” is given twice in chapter "
                                             f"{draft.number} (first on line {draft.seen[kind]})")
        draft.seen[kind] = lineno
        if kind in _TEXT_FIELDS:
            self.text_field, self.text_lines = kind, []
            self._continue_text(value)
            return
        try:
            _set_field(draft, kind, value, raw, lineno)
        except _Bad as bad:
            raise ChapterMarkerError(lineno, f"{_LABELS[kind]}: {bad}") from None

    def _continue_text(self, stripped: str) -> None:
        self.text_lines.append(stripped[1:] if stripped.startswith("\\") else stripped)

    def _end_text(self) -> None:
        if self.text_field is not None:
            lines = trim_blank_lines([line.rstrip() for line in self.text_lines])
            self.drafts[-1].chapter[self.text_field] = "\n".join(lines)
            self.text_field, self.text_lines = None, []


class _Bad(ValueError):
    """What is wrong with a one-line field's value (the parser adds line and field name)."""


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _set_field(draft: _Draft, kind: str, value: str, raw: str, lineno: int) -> None:
    chapter = draft.chapter
    if kind == "requires":
        draft.requires = [(n, lineno) for n in _parse_requires(value)]
    elif kind in TRIGGER_KINDS:
        chapter["triggers"].extend(_parse_conditions(kind, raw))
    elif kind == "beat":
        chapter["beats"].append(_parse_beat(raw))
    elif kind == "divergence":
        chapter["allow_divergence"], threshold = _parse_divergence(value)
        chapter["threshold"] = chapter["threshold"] if threshold is None else threshold
    elif kind == "status":
        if value.lower() not in STATUSES:
            raise _Bad(f"“{_clip(value)}” is not one of {', '.join(STATUSES)}")
        chapter["status"] = value.lower()
    elif kind == "alternate_of":
        if not _INT_RE.match(value) or int(value) < 1:
            raise _Bad(f"expected a chapter number, found “{_clip(value)}”")
        draft.alternate_of = (int(value), lineno)
    elif kind == "manuscript":
        if value.lower() != "none" and not MANUSCRIPT_ID_RE.match(value):
            raise _Bad(f"expected a manuscript chapter id such as “chap_1a2b3c” or “none”, "
                       f"found “{_clip(value)}”")
        chapter["manuscript_chapter"] = None if value.lower() == "none" else value
    elif kind == "position":
        numbers = [parse_number(p) for p in value.split(",")]
        if value.lower() != "none" and (len(numbers) != 2 or None in numbers):
            raise _Bad(f"expected “x, y” (two numbers) or “none”, found “{_clip(value)}”")
        chapter["position"] = None if value.lower() == "none" \
            else {"x": numbers[0], "y": numbers[1]}


def _parse_requires(value: str) -> list[int]:
    if value.lower() in ("", "none"):
        return []
    numbers: list[int] = []
    for part in (p.strip() for p in value.split(",")):
        if not _INT_RE.match(part) or int(part) < 1:
            raise _Bad(f"expected chapter numbers separated by commas, or “none”; found "
                       f"“{_clip(part)}”")
        if int(part) in numbers:
            raise _Bad(f"chapter {int(part)} is listed twice")
        numbers.append(int(part))
    return numbers


def _parse_conditions(kind: str, raw: str) -> list[dict]:
    conditions = []
    for item in _split(_lex(raw, ",|!=" if kind == "key" else ",|!"), ","):
        item = _trim(item)
        critical = bool(item) and item[-1] == ("!", "sep")
        item = _trim(item[:-1]) if critical else item
        if not item:
            raise _Bad("empty value (values are separated by commas)")
        condition: dict[str, Any] = {"kind": kind}
        if kind == "key":
            at = next((i for i, t in enumerate(item) if t == ("=", "sep")), None)
            if at is None:
                raise _Bad(f"expected “key = value”, found “{_clip(_text(item))}”")
            condition["key"] = _text(_trim(item[:at]))
            if not condition["key"]:
                raise _Bad("the key before “=” is empty")
            item = item[at + 1:]
        parts = [_text(_trim(part)) for part in _split(item, "|")]
        if not all(parts):
            raise _Bad(f"empty value or alternative in “{_clip(_text(item).strip())}”")
        condition.update(value=parts[0], critical=critical, alternatives=parts[1:])
        conditions.append(condition)
    return conditions


def _parse_beat(raw: str) -> dict:
    tokens, priority = _trim(_lex(raw)), DEFAULT_PRIORITY
    if len(tokens) >= 3 and tokens[-1] == (")", "plain"):
        at = len(tokens) - 2
        while at >= 0 and tokens[at][1] == "plain" and tokens[at][0] in "0123456789":
            at -= 1
        if 0 <= at < len(tokens) - 2 and tokens[at] == ("(", "plain"):
            digits = _text(tokens[at + 1:-1])
            if not 1 <= int(digits) <= 5:
                raise _Bad(f"priority ({digits}) must be 1 (must happen) to 5 (nice to have)")
            priority, tokens = int(digits), _trim(tokens[:at])
    if not tokens:
        raise _Bad("the beat has no text")
    return {"text": _text(tokens), "priority": priority}


def _parse_divergence(value: str) -> tuple[bool, float | None]:
    match = _DIVERGENCE_RE.match(" ".join(value.lower().split()))
    if not match:
        raise _Bad(f"expected “allowed” or “not allowed”, optionally followed by “, threshold "
                   f"0.4”; found “{_clip(value)}”")
    allowed = DEFAULT_ALLOW_DIVERGENCE if not match.group(1) else match.group(1) == "allowed"
    text = match.group(2) or match.group(3)
    threshold = None if text is None else parse_number(text)
    if text is not None and (threshold is None or not 0 <= threshold <= 1):
        raise _Bad(f"the threshold must be a number from 0 to 1, not “{_clip(text)}”")
    return allowed, None if threshold is None else float(threshold)


def parse_chapter_markers(text: str) -> dict:
    """Read a ‹chapter-N› text into a complete chapter-graph dict (fresh ``gch_`` ids).

    Chapters keep the file's order; every optional field is present (defaults where the file is
    silent); ``source`` is ``"imported"``.  Characters written by name stay names: map them
    with :func:`resolve_characters`.  Raises :class:`ChapterMarkerError` (with ``line``).
    """
    parser = _Parser()
    for lineno, raw in enumerate(split_lines(text.removeprefix("\ufeff")), start=1):
        parser.feed(lineno, raw)
    return parser.finish()


def read_chapter_markers(path: str | Path) -> dict:
    """:func:`parse_chapter_markers` on a UTF-8 file; unreadable files raise ImportFormatError."""
    return parse_chapter_markers(read_text(path))


# --- characters by name ------------------------------------------------------------------------

def resolve_characters(graph: Mapping[str, Any], name_to_id: Mapping[str, str]
                       ) -> tuple[dict, list[tuple[str, str]]]:
    """Replace character names in character conditions (values and alternatives) by ids.

    Values already written as ``char_…`` ids are kept.  A name is looked up exactly, then
    ignoring case and surrounding spaces when that is unambiguous.  Returns a new graph (the
    input is not changed) and the names that matched nothing as ``(path, name)``, with paths
    like ``chapters/0/triggers/2/value`` or ``…/alternatives/1``; those stay as they were.
    """
    folded: dict[str, str | None] = {}
    for name, char_id in name_to_id.items():
        key = name.strip().casefold()
        folded[key] = char_id if folded.get(key, char_id) == char_id else None   # ambiguous

    def lookup(value: str) -> str | None:
        if CHARACTER_ID_RE.match(value):
            return value
        return name_to_id[value] if value in name_to_id \
            else folded.get(value.strip().casefold())

    result = copy.deepcopy(dict(graph))
    unknown: list[tuple[str, str]] = []
    for c, chapter in enumerate(result.get("chapters", [])):
        for t, trigger in enumerate(chapter.get("triggers", [])):
            if trigger.get("kind") != "character":
                continue
            slots = [("value", trigger, "value")] + [
                (f"alternatives/{a}", trigger["alternatives"], a)
                for a in range(len(trigger.get("alternatives", [])))]
            for path, holder, key in slots:
                found = lookup(holder[key])
                if found is None:
                    unknown.append((f"chapters/{c}/triggers/{t}/{path}", holder[key]))
                else:
                    holder[key] = found
    return result, unknown


# --- writing -----------------------------------------------------------------------------------

HEADER = "# Chapter graph in ‹chapter-N› form — grammar: resources/samples/chapters/README.md"


def write_chapter_markers(graph: Mapping[str, Any],
                          character_names: Mapping[str, str] | None = None) -> str:
    """Write a chapter graph as ‹chapter-N› text that :func:`parse_chapter_markers` reads back.

    ``character_names`` (``char_…`` id → name) writes those characters by name (map them back
    with :func:`resolve_characters`).  Requires, Status and Divergence are always written, other
    fields only when not at their default.  Multi-line text loses trailing spaces and blank
    edge lines, nothing else.  ValueError: see :func:`index_chapters`; beat priority not 1–5.
    """
    chapters = complete_graph(graph)["chapters"]
    number_of = index_chapters(chapters)
    names = dict(character_names or {})
    out = [HEADER, ""]
    for chapter in chapters:
        number = chapter["number"]
        requires = [str(number_of[p]) for p in chapter["prerequisites"]]
        out += [f"‹chapter-{number}› {escape_value(chapter['title'])}",
                "Requires: " + (", ".join(requires) or "none")]
        if chapter["alternate_of"]:
            out.append(f"Alternate of: {number_of[chapter['alternate_of']]}")
        out.append(f"Status: {chapter['status']}")
        out += _condition_lines(chapter["triggers"], names)
        for kind in _TEXT_FIELDS:
            out += _text_lines(_LABELS[kind], chapter[kind])
        for beat in chapter["beats"]:
            if beat["priority"] not in (1, 2, 3, 4, 5) or type(beat["priority"]) is not int:
                raise ValueError(f"chapter {number}: beat priority {beat['priority']!r} not 1–5")
            out.append(f"Beat: {escape_value(beat['text'])} ({beat['priority']})")
        allowed = "allowed" if chapter["allow_divergence"] else "not allowed"
        out.append(f"Divergence: {allowed}, threshold {format_number(chapter['threshold'])}")
        if chapter["manuscript_chapter"]:
            out.append(f"Manuscript: {chapter['manuscript_chapter']}")
        if chapter["position"] is not None:
            x, y = (format_number(chapter["position"][k]) for k in ("x", "y"))
            out.append(f"Position: {x}, {y}")
        out.append("")
    return "\n".join(out)


def _condition_lines(triggers: list[dict], names: Mapping[str, str]) -> list[str]:
    """One line per run of same-kind conditions, so their order survives a round trip."""
    runs: list[tuple[str, list[str]]] = []
    for trigger in triggers:
        kind = trigger["kind"]
        values = [trigger["value"], *trigger["alternatives"]]
        if kind == "character":
            values = [names.get(v, v) for v in values]
        text = " | ".join(_escape_part(v) for v in values)
        if kind == "key":
            text = f"{escape_value(trigger['key'], ',=')} = {text}"
        if trigger["critical"]:
            text += " !"
        if not runs or runs[-1][0] != kind:
            runs.append((kind, []))
        runs[-1][1].append(text)
    return [f"{_LABELS[kind]}: {', '.join(texts)}" for kind, texts in runs]


def _escape_part(value: str) -> str:
    # "=" separates only a key from its value and "!" counts only at the very end of a
    # condition: inside values both are literal, so only a final "!" needs its backslash.
    text = escape_value(value, ",|")
    return text[:-1] + "\\!" if text.endswith("!") else text


def _text_lines(label: str, text: str) -> list[str]:
    lines = trim_blank_lines([line.rstrip() for line in split_lines(text)])
    written = [_escape_text_line(line) for line in lines]
    return [f"{label}: {written[0]}", *written[1:]] if written else []


def _escape_text_line(line: str) -> str:
    named = _FIELD_RE.match(line)
    if line and (line[0].isspace() or line[0] in "#\\" or _MARKER_LIKE_RE.match(line)
                 or (named and " ".join(named.group(1).lower().split()) in _FIELDS)):
        return "\\" + line
    return line
