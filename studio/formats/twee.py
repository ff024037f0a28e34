"""Twee 3 (Twine's text format) to and from chapter graphs; Twine 2 HTML import too.

A chapter is a passage named ``"<number>. <title>"``; a link A → B in Twine means that B
requires A (prerequisites are the incoming links).  Exports target Harlowe 3.3.8, Twine 2's
default story format, whose HTML comments hide our machine-readable block from readers::

    :: 2. The Road North [status-draft] {"position":"300,100","size":"100,100"}
    The hero leaves the capital.

    <!-- studio:instructions -->
    Keep it brisk.
    <!-- studio: {"v":1,"title":"The Road North","triggers":[…],"beats":[…],…} -->
    [[3. The Border Fort]]

On import the visible text is authoritative for summary and instructions, links for
prerequisites, the tag for status, the metadata for position; the ``studio`` block restores the
rest exactly (title, description, conditions, beats, divergence, alternate, manuscript chapter,
prerequisite order).  Passages from other Twine stories (no block) become chapters whose summary
is the passage text with its link markup removed (a labelled link leaves its label).

Links that make a cycle are kept as they are: the caller's graph validation refuses cycles and
names them.  Harlowe macros such as ``(link-goto:)`` are not read as links.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from studio.domain.errors import ImportFormatError
from studio.formats.chapter_markers import (
    MAX_NUMBER, STATUSES, blank_chapter, complete_chapter, format_number, new_chapter_ids,
    index_chapters, parse_number, read_text, split_lines, trim_blank_lines,
)

STORY_FORMAT = "Harlowe"
STORY_FORMAT_VERSION = "3.3.8"
PASSAGE_SIZE = "100,100"
BLOCK_VERSION = 1
INSTRUCTIONS_MARK = "<!-- studio:instructions -->"
_BLOCK_RE = re.compile(r"^<!-- studio: (\{.*\}) -->$")
# Passages that are story metadata, not story: Twee 3's two and Twee 1's others.
SPECIAL_PASSAGES = frozenset({"StoryTitle", "StoryData", "StoryAuthor", "StorySubtitle",
                              "StoryIncludes", "StorySettings"})
# Tags whose passages hold code or media, not story (Twine.* are Twine 1's media passages).
SPECIAL_TAGS = frozenset({"script", "stylesheet"})
_STATUS_TAG = "status-"
ALTERNATE_TAG = "alternate"
_TAG_COLORS = {"status-idea": "purple", "status-draft": "yellow", "status-revised": "blue",
               "status-final": "green", ALTERNATE_TAG: "orange"}

_NUMBERED_RE = re.compile(r"^([0-9]+)\.\s+(\S.*)$")
_LINK_RE = re.compile(r"\[\[(.*?)\]\]")
_DOUBLE_BRACKET_RE = re.compile(r"\[(?=\[)")          # "[[" → "[\[" keeps Twine from
_ESCAPED_BRACKET_RE = re.compile(r"\[\\(?=\[)")      # seeing a link in our text
_EXTERNAL_RE = re.compile(r"^\w+:///?\w", re.IGNORECASE)
_TWEE2_POSITION_RE = re.compile(r"^<\s*(-?[0-9.]+)\s*,\s*(-?[0-9.]+)\s*>")
_TWEE2_NAME_POSITION_RE = re.compile(r"^(.*?)\s*<\s*(-?[0-9.]+)\s*,\s*(-?[0-9.]+)\s*>$")
# Kept out of the JSON block's line: characters that end an HTML comment or a line somewhere.
_BLOCK_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                  "\u2029": "\\u2029", "\u0085": "\\u0085"}
_BLOCK_FIELDS = ("description", "triggers", "beats", "allow_divergence", "threshold",
                 "manuscript_chapter")


class TweeError(ImportFormatError):
    """A Twee (or Twine HTML) file that cannot be read as a chapter graph; ``line`` is 1-based."""

    def __init__(self, line: int, reason: str):
        self.line = line
        self.reason = reason
        super().__init__(f"line {line}: {reason}")


@dataclass
class Passage:
    name: str
    tags: list[str] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)
    text: str = ""
    line: int = 1          # the header's line
    text_line: int = 2     # the line where the text starts


# ---------------------------------------------------------------------------------------------
# Reading Twee
# ---------------------------------------------------------------------------------------------

def parse_passages(text: str) -> list[Passage]:
    """The passages of a Twee 3 text, in file order (Twee 2 ``<x,y>`` positions are read too).

    Windows and old Mac line endings, a BOM and trailing whitespace are accepted; text before
    the first ``::`` header is ignored.  Raises TweeError for a malformed header or metadata.
    """
    lines = split_lines(text.removeprefix("\ufeff"))
    passages: list[Passage] = []
    body: list[str] = []

    def close() -> None:
        if passages:
            while body and not body[-1]:
                body.pop()
            passages[-1].text = "\n".join(body)
        body.clear()

    for lineno, raw in enumerate(lines, start=1):
        if raw.startswith("::"):
            close()
            name, tags, metadata = _parse_header(raw[2:].rstrip(), lineno)
            passages.append(Passage(name, tags, metadata, "", lineno, lineno + 1))
        elif passages:
            line = raw.rstrip()
            if line.startswith("\\:\\:") or line.startswith("\\::"):
                line = "::" + line[4 if line.startswith("\\:\\:") else 3:]
            body.append(line)
    close()
    return passages


def _parse_header(rest: str, lineno: int) -> tuple[str, list[str], dict]:
    i, n = 0, len(rest)

    def read_until(stops: str) -> tuple[list[tuple[str, bool]], int]:
        nonlocal i
        chars: list[tuple[str, bool]] = []
        while i < n and rest[i] not in stops:
            if rest[i] == "\\" and i + 1 < n:
                chars.append((rest[i + 1], True))
                i += 2
            else:
                chars.append((rest[i], False))
                i += 1
        return chars, i

    def skip_spaces() -> None:
        nonlocal i
        while i < n and rest[i].isspace():
            i += 1

    chars, _ = read_until("[]{}")
    name = _strip_chars(chars)
    metadata: dict = {}
    twee2 = _TWEE2_NAME_POSITION_RE.match(name) if i == n else None
    if twee2:                                   # Twee 2: ":: Name <x,y>"
        name = twee2.group(1)
        metadata = {"position": f"{twee2.group(2)},{twee2.group(3)}"}
    if not name:
        raise TweeError(lineno, "passage header without a name (“:: Name”)")
    if i < n and rest[i] in "]}":
        raise TweeError(lineno, f"passage “{name}”: unescaped “{rest[i]}” in the header "
                                f"(write \\{rest[i]} inside names and tags)")
    tags: list[str] = []
    tag_block = i < n and rest[i] == "["
    if tag_block:
        i += 1
        chars, _ = read_until("]")
        if i >= n:
            raise TweeError(lineno, f"passage “{name}”: the tag block “[…” is not closed")
        i += 1
        tag, tags = [], []
        for ch, escaped in chars + [(" ", False)]:
            if ch.isspace() and not escaped:
                if tag:
                    tags.append("".join(tag))
                tag = []
            else:
                tag.append(ch)
        skip_spaces()
    if i < n and rest[i] == "{":
        chunk = rest[i:]
        try:
            metadata = json.loads(chunk)
        except json.JSONDecodeError as exc:
            raise TweeError(lineno, f"passage “{name}”: the metadata is not valid JSON "
                                    f"({exc.msg} at column {i + 2 + exc.colno})") from None
        if not isinstance(metadata, dict):
            raise TweeError(lineno, f"passage “{name}”: the metadata must be a JSON object")
        i = n
    elif tag_block and _TWEE2_POSITION_RE.match(rest[i:]):   # Twee 2: ":: Name [tags] <x,y>"
        match = _TWEE2_POSITION_RE.match(rest[i:])
        metadata = {"position": f"{match.group(1)},{match.group(2)}"}
        i += match.end()
        skip_spaces()
    if i < n:
        raise TweeError(lineno, f"passage “{name}”: unexpected “{rest[i:]}” after the "
                                f"{'tags' if tag_block else 'name'}")
    return name, tags, metadata


def _strip_chars(chars: list[tuple[str, bool]]) -> str:
    start, end = 0, len(chars)
    while start < end and not chars[start][1] and chars[start][0].isspace():
        start += 1
    while end > start and not chars[end - 1][1] and chars[end - 1][0].isspace():
        end -= 1
    return "".join(ch for ch, _ in chars[start:end])


def import_twee(text: str) -> tuple[dict, str]:
    """Read a Twee 3 text into ``(chapter graph, story title)``.

    Every passage except StoryTitle/StoryData (and Twee 1's StoryAuthor, StorySubtitle,
    StoryIncludes, StorySettings) and passages tagged ``script``, ``stylesheet`` or
    ``Twine.*`` becomes a chapter (``source`` ``"imported"``, fresh ids).  Raises TweeError (an
    ImportFormatError) with the line for duplicate passage names or chapter numbers, malformed
    metadata or StoryData JSON, links to passages that do not exist, or a file without story
    passages.  Nothing partial is returned.
    """
    return _graph_from_passages(parse_passages(text))


def read_twee(path: str | Path) -> tuple[dict, str]:
    """:func:`import_twee` on a UTF-8 file; unreadable files raise ImportFormatError."""
    return import_twee(read_text(path))


# ---------------------------------------------------------------------------------------------
# Passages → chapters (shared by Twee and Twine HTML)
# ---------------------------------------------------------------------------------------------

def _is_chapter(passage: Passage) -> bool:
    return passage.name not in SPECIAL_PASSAGES and not any(
        tag in SPECIAL_TAGS or tag.startswith("Twine.") for tag in passage.tags)


def _graph_from_passages(passages: list[Passage], title: str | None = None
                         ) -> tuple[dict, str]:
    by_name: dict[str, Passage] = {}
    for passage in passages:
        if passage.name in by_name:
            raise TweeError(passage.line, f"passage “{passage.name}” is defined twice (first on "
                                          f"line {by_name[passage.name].line})")
        by_name[passage.name] = passage
    if title is None:
        title = by_name["StoryTitle"].text.strip() if "StoryTitle" in by_name else ""
    if "StoryData" in by_name:
        _story_data(by_name["StoryData"])
    story = [p for p in passages if _is_chapter(p)]
    if not story:
        raise TweeError(1, "no story passages: the file holds only StoryTitle, StoryData, "
                           "scripts or stylesheets" if passages else "no passages (“:: Name”)")

    numbers = _numbers(story)
    links = {p.name: _links(p, by_name) for p in story}
    incoming: dict[str, list[str]] = {p.name: [] for p in story}
    for passage in story:
        for target in links[passage.name]:
            if passage.name not in incoming[target]:
                incoming[target].append(passage.name)

    ids = new_chapter_ids(len(story))
    id_of = {p.name: chapter_id for p, chapter_id in zip(story, ids)}
    id_of_number = {numbers[p.name][0]: id_of[p.name] for p in story}
    chapters = []
    for passage in story:
        number, name_title = numbers[passage.name]
        chapter = blank_chapter(id_of[passage.name], number, name_title)
        chapter["status"] = next((t[len(_STATUS_TAG):] for t in passage.tags
                                  if t.startswith(_STATUS_TAG)
                                  and t[len(_STATUS_TAG):] in STATUSES), chapter["status"])
        chapter["position"] = _position(passage)
        prerequisites = [numbers[name][0] for name in incoming[passage.name]]
        block, body_end = _block(passage)
        if block is None:
            chapter["summary"] = _without_links(passage.text)
        else:
            body = passage.text.split("\n")[:body_end]
            _apply_block(chapter, block, body, passage, id_of_number)
            order = block.get("prerequisites")
            if isinstance(order, list) \
                    and all(type(n) is int for n in order) \
                    and sorted(order) == sorted(prerequisites):
                prerequisites = order
        chapter["prerequisites"] = [id_of_number[n] for n in prerequisites]
        chapters.append(chapter)
    return {"chapters": chapters}, title


def _story_data(passage: Passage) -> dict:
    try:
        data = json.loads(passage.text or "{}")
    except json.JSONDecodeError as exc:
        raise TweeError(passage.text_line + exc.lineno - 1,
                        f"StoryData is not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise TweeError(passage.text_line, "StoryData must be a JSON object")
    return data


def _numbers(story: list[Passage]) -> dict[str, tuple[int, str]]:
    """Passage name → (chapter number, title): "N. Title" keeps N, the rest get free numbers."""
    result: dict[str, tuple[int, str]] = {}
    owner: dict[int, Passage] = {}
    for passage in story:
        match = _NUMBERED_RE.match(passage.name)
        if match and 1 <= int(match.group(1)) <= MAX_NUMBER:
            number = int(match.group(1))
            if number in owner:
                raise TweeError(passage.line, f"passages “{owner[number].name}” (line "
                                              f"{owner[number].line}) and “{passage.name}” have "
                                              f"the same chapter number {number}")
            owner[number] = passage
            result[passage.name] = (number, match.group(2).strip())
    free = 1
    for passage in story:
        if passage.name not in result:
            while free in owner:
                free += 1
            owner[free] = passage
            result[passage.name] = (free, passage.name)
    return result


def _link_parts(inner: str) -> tuple[str, str | None]:
    """(target, label or None) of a link's inside, the way Twine 2 reads it: a setter after
    “][” is dropped; the rightmost “->”, else the leftmost “<-”, else the rightmost “|” divides."""
    inner = inner.split("][")[0]
    if "->" in inner:
        label, _, target = inner.rpartition("->")
        if target:
            return target.strip(), label
    if "<-" in inner:
        target, _, label = inner.partition("<-")
        if target:
            return target.strip(), label
    if "|" in inner:
        label, _, target = inner.rpartition("|")
        if target:
            return target.strip(), label
    return inner.strip(), None


def _links(passage: Passage, by_name: Mapping[str, Passage]) -> list[str]:
    targets: list[str] = []
    for offset, line in enumerate(passage.text.split("\n")):
        if _BLOCK_RE.match(line.strip()):
            continue
        for match in _LINK_RE.finditer(line):
            target, _ = _link_parts(match.group(1))
            if not target or _EXTERNAL_RE.match(target):
                continue
            where = passage.text_line + offset
            if target not in by_name:
                raise TweeError(where, f"passage “{passage.name}” links to “{target}”, which is "
                                       f"not a passage in this file")
            if not _is_chapter(by_name[target]):
                raise TweeError(where, f"passage “{passage.name}” links to “{target}”, which is "
                                       f"not a story passage")
            if target not in targets:
                targets.append(target)
    return targets


def _without_links(text: str) -> str:
    """Passage text with link markup gone: a labelled link leaves its label, a bare one goes."""
    def replace(match: re.Match) -> str:
        target, label = _link_parts(match.group(1))
        if label is not None and label.strip():
            return label.strip()
        return target if _EXTERNAL_RE.match(target) else ""

    lines = [_LINK_RE.sub(replace, line).rstrip() for line in text.split("\n")]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    return "\n".join(kept)


def _position(passage: Passage) -> dict | None:
    raw = passage.metadata.get("position")
    if raw is None:
        return None
    parts = raw.split(",") if isinstance(raw, str) else []
    numbers = [parse_number(p) for p in parts]
    if len(numbers) != 2 or None in numbers:
        raise TweeError(passage.line, f"passage “{passage.name}”: position “{raw}” is not "
                                      f"“x,y”")
    return {"x": numbers[0], "y": numbers[1]}


def _block(passage: Passage) -> tuple[dict | None, int]:
    """The studio block's JSON and the index of its line (None, 0 without a block)."""
    lines = passage.text.split("\n")
    for index in range(len(lines) - 1, -1, -1):
        match = _BLOCK_RE.match(lines[index].strip())
        if match:
            try:
                block = json.loads(match.group(1))
            except json.JSONDecodeError as exc:
                raise TweeError(passage.text_line + index,
                                f"passage “{passage.name}”: the studio block is not valid JSON "
                                f"({exc.msg})") from None
            if not isinstance(block, dict):
                raise TweeError(passage.text_line + index,
                                f"passage “{passage.name}”: the studio block must be a JSON "
                                f"object")
            return block, index
    return None, 0


def _apply_block(chapter: dict, block: dict, body: list[str], passage: Passage,
                 id_of_number: Mapping[int, str]) -> None:
    where = passage.text_line
    at = next((i for i, line in enumerate(body) if line.strip() == INSTRUCTIONS_MARK), None)
    summary, instructions = (body, []) if at is None else (body[:at], body[at + 1:])
    chapter["summary"] = _unescape_text(summary)
    chapter["instructions"] = _unescape_text(instructions)
    title = block.get("title")
    if isinstance(title, str) and title.strip() and _passage_title(title) == chapter["title"]:
        chapter["title"] = title
    for key in _BLOCK_FIELDS:
        if key in block:
            chapter[key] = block[key]
    alternate = block.get("alternate_of")
    if alternate is not None:
        if isinstance(alternate, bool) or not isinstance(alternate, int) \
                or alternate not in id_of_number:
            raise TweeError(where, f"passage “{passage.name}”: alternate_of {alternate!r} is "
                                   f"not the number of a chapter in this file")
        chapter["alternate_of"] = id_of_number[alternate]


def _unescape_text(lines: list[str]) -> str:
    lines = trim_blank_lines(lines)
    return "\n".join(_ESCAPED_BRACKET_RE.sub("[", line) for line in lines)


# ---------------------------------------------------------------------------------------------
# Twine 2 HTML (import only)
# ---------------------------------------------------------------------------------------------

class _TwineHTML(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.story: dict[str, str] | None = None
        self.passages: list[Passage] = []
        self._current: Passage | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        line = self.getpos()[0]
        if tag == "tw-storydata" and self.story is None:
            self.story = values
        elif tag == "tw-passagedata":
            metadata = {"position": values["position"]} if values.get("position") else {}
            self._current = Passage(values.get("name", "").strip(), values.get("tags", "").split(),
                                    metadata, "", line, line)
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "tw-passagedata" and self._current is not None:
            lines = [line.rstrip() for line in split_lines("".join(self._text))]
            self._current.text = "\n".join(lines).rstrip("\n")
            if not self._current.name:
                raise TweeError(self._current.line, "a passage without a name")
            self.passages.append(self._current)
            self._current = None


def import_twine_html(text: str) -> tuple[dict, str]:
    """Read a published or archived Twine 2 HTML story (``<tw-storydata>``) like a Twee file."""
    parser = _TwineHTML()
    parser.feed(text)
    parser.close()
    if parser.story is None:
        raise TweeError(1, "no <tw-storydata> element: this is not a Twine 2 story file")
    return _graph_from_passages(parser.passages, parser.story.get("name", "").strip())


# ---------------------------------------------------------------------------------------------
# Writing Twee
# ---------------------------------------------------------------------------------------------

def _passage_title(title: str) -> str:
    """A title made safe inside ``[[…]]`` links and on one header line."""
    safe = re.sub(r"\s+", " ", title).strip()
    for old, new in (("->", "→"), ("<-", "←"), ("|", "¦"), ("[", "("), ("]", ")")):
        safe = safe.replace(old, new)
    return safe


def _escape_header(value: str) -> str:
    return re.sub(r"([\\\[\]{}])", r"\\\1", value)


def _escape_text(text: str) -> list[str]:
    lines = trim_blank_lines([line.rstrip() for line in split_lines(text)])
    lines = ["\\::" + line[2:] if line.startswith("::") else line for line in lines]
    return [_DOUBLE_BRACKET_RE.sub(r"[\\", line) for line in lines]


def _block_line(data: dict) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for ch, escaped in _BLOCK_ESCAPES.items():
        text = text.replace(ch, escaped)
    # "[[" can only be inside strings here (the block has no nested arrays): keep Twine from
    # drawing links out of it.
    text = _DOUBLE_BRACKET_RE.sub(r"\\u005b", text)
    return f"<!-- studio: {text} -->"


def export_twee(graph: Mapping[str, Any], title: str, ifid: str | None = None) -> str:
    """Write a chapter graph as a Twee 3 story for Twine (Harlowe 3.3.8), in the graph's order.

    ``ifid`` defaults to a new upper-case UUID4.  :func:`import_twee` reads the result back to
    the same graph (apart from ids and ``source``).  Raises ValueError for a graph that cannot
    be written (missing or duplicate numbers, missing titles, unknown prerequisites).
    """
    chapters = [complete_chapter(c) for c in graph.get("chapters", [])]
    number_of = index_chapters(chapters)
    name_of = {c["number"]: f"{c['number']}. {_passage_title(c['title'])}" for c in chapters}
    followers: dict[int, list[int]] = {c["number"]: [] for c in chapters}
    for chapter in chapters:
        for prerequisite in chapter["prerequisites"]:
            followers[number_of[prerequisite]].append(chapter["number"])

    used_tags: set[str] = set()
    passages: list[str] = []
    for chapter in chapters:
        number = chapter["number"]
        tags = [f"{_STATUS_TAG}{chapter['status']}"]
        if chapter["alternate_of"]:
            tags.append(ALTERNATE_TAG)
        used_tags.update(tags)
        header = f":: {_escape_header(name_of[number])} [{' '.join(map(_escape_header, tags))}]"
        if chapter["position"] is not None:
            position = chapter["position"]
            metadata = {"position": f"{format_number(position['x'])},"
                                    f"{format_number(position['y'])}",
                        "size": PASSAGE_SIZE}
            header += " " + json.dumps(metadata, separators=(",", ":"))
        body = _escape_text(chapter["summary"])
        instructions = _escape_text(chapter["instructions"])
        if instructions:
            body += ([""] if body else []) + [INSTRUCTIONS_MARK, *instructions]
        block = {"v": BLOCK_VERSION, "title": chapter["title"],
                 **{key: chapter[key] for key in _BLOCK_FIELDS},
                 "alternate_of": number_of[chapter["alternate_of"]]
                 if chapter["alternate_of"] else None,
                 "prerequisites": [number_of[p] for p in chapter["prerequisites"]]}
        body.append(_block_line(block))
        body.extend(f"[[{name_of[n]}]]" for n in sorted(followers[number]))
        passages.append("\n".join([header, *body]))

    by_number = sorted(chapters, key=lambda c: c["number"])
    start = next((c for c in by_number if not c["prerequisites"]), by_number[0] if by_number
                 else None)
    story_data: dict[str, Any] = {
        "ifid": (ifid or str(uuid.uuid4())).upper(),
        "format": STORY_FORMAT,
        "format-version": STORY_FORMAT_VERSION,
    }
    if start is not None:
        story_data["start"] = name_of[start["number"]]
    colors = {tag: _TAG_COLORS[tag] for tag in sorted(used_tags) if tag in _TAG_COLORS}
    if colors:
        story_data["tag-colors"] = colors
    story_data["zoom"] = 1
    title_lines = _escape_text(title) or ["Untitled"]
    head = [":: StoryTitle", " ".join(title_lines), "", ":: StoryData",
            json.dumps(story_data, indent=2, ensure_ascii=False)]
    return "\n".join(head) + "\n\n" + "\n\n".join(passages) + "\n"
