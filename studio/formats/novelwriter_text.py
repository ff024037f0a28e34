"""novelWriter's document format (``content/<handle>.nwd``) read into blocks.

A ``.nwd`` file is plain text, one meaning per line, the way novelWriter's own tokenizer and
index read it (we follow their rules, not their code):

- ``%%~name:`` / ``%%~path:`` / ``%%~kind:`` / ``%%~hash:`` / ``%%~date:`` — file meta, kept in
  ``NwdDocument.meta`` and otherwise ignored;
- ``# `` / ``#! `` / ``## `` / ``##! `` / ``### `` / ``###! `` / ``#### `` — headings of level 1
  to 4 (``!`` marks a title page, an unnumbered chapter or an alternative scene).  Any other line
  starting with ``#`` is text, as in novelWriter;
- ``%`` — comments: ``%~`` is ignored text (dropped), ``%Synopsis:`` / ``%Short:`` (no key),
  ``%Note.key:`` (optional key), ``%Story.key:`` and ``%Footnote.key:`` (key required), else a
  plain comment.  The modifier is case-insensitive;
- ``@key: value, value`` — keyword lines (``@tag: Jane | Jane Smith`` gives a tag and its
  display name); a line starting with ``@`` is never prose, an unknown key is dropped;
- ``[newpage]``, ``[new page]``, ``[vspace]``, ``[vspace:n]`` alone on a line — layout, dropped;
- anything else is prose: consecutive non-blank lines form one paragraph whose lines are kept
  as line breaks, and ``[br]`` breaks a line too.  Alignment and indent markers (``>>``, ``<<``,
  ``>``, ``<`` at the ends of a line) are layout and are removed.

Inline formatting becomes Story Studio's light formatting: ``**bold**`` and ``[b]…[/b]`` →
``**strong**``; ``_italic_`` and ``[i]…[/i]`` → ``*emphasis*`` (both → ``***both***``).
Strike-through, underline, highlight, superscript and subscript have no equivalent: their
markers are removed and the text kept.  ``[footnote:key]`` markers are removed (the footnote's
text, from its ``%Footnote.key:`` comment, travels in the scene's metadata); ``[field:…]``
shortcodes (build-time counters) are kept literally.

``NovelWriterError`` lives here because this is the lowest of the three novelWriter modules;
``studio.formats.novelwriter`` re-exports it.  Parsing text never fails: any string is a
document (the hypothesis fuzz test holds us to that).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Union

from studio.domain.errors import ImportFormatError


class NovelWriterError(ImportFormatError):
    """A novelWriter project that cannot be imported; the message names the file and why."""


# --- blocks --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Heading:
    level: int          # 1 partition/title, 2 chapter, 3 scene, 4 section
    title: str
    marked: bool        # the "!" form: title page, unnumbered chapter, alternative scene


@dataclass(frozen=True)
class Paragraph:
    lines: tuple[str, ...]          # light-formatted lines; each boundary is a line break
    footnotes: tuple[str, ...] = ()  # keys of the [footnote:key] markers that were removed


@dataclass(frozen=True)
class Comment:
    kind: str           # synopsis, short, note, story, footnote, plain
    key: str
    text: str


@dataclass(frozen=True)
class Keyword:
    key: str            # tag, pov, focus, char, plot, time, location, object, entity, custom,
    values: tuple[str, ...]  # story, mention — without the "@"


Block = Union[Heading, Paragraph, Comment, Keyword]


@dataclass
class NwdDocument:
    meta: dict[str, str] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)

    def headings(self) -> list[Heading]:
        return [b for b in self.blocks if isinstance(b, Heading)]


KEYWORDS = frozenset({"tag", "pov", "focus", "char", "plot", "time", "location", "object",
                      "entity", "custom", "story", "mention"})
_HEADINGS = (("#### ", 4, False), ("###! ", 3, True), ("### ", 3, False),
             ("##! ", 2, True), ("## ", 2, False), ("#! ", 1, True), ("# ", 1, False))
_COMMENT_KEYS = {"synopsis": 0, "short": 0, "note": 1, "footnote": 2, "story": 2}  # 0 none,
#                                                        1 optional, 2 required
_LAYOUT_LINE = re.compile(r"\[(?:newpage|new page|vspace(?::[^\]]*)?)\]")


def parse_nwd(text: str, auto_replace: dict[str, str] | None = None) -> NwdDocument:
    """Read one ``.nwd`` document into headings, paragraphs, comments and keywords.

    ``auto_replace`` is the project's auto-replace table: ``<A>`` in the text becomes its
    value, as in novelWriter's builds (only for keys the table has).
    """
    doc = NwdDocument()
    if auto_replace:
        table = {f"<{k}>": v for k, v in auto_replace.items() if k}
        if table:
            pattern = re.compile("|".join(re.escape(k) for k in sorted(table, key=len,
                                                                       reverse=True)))
            text = pattern.sub(lambda m: table[m.group(0)], text)
    pending: list[str] = []

    def flush() -> None:
        if pending:
            lines, notes = convert_lines(pending)
            if lines:
                doc.blocks.append(Paragraph(tuple(lines), tuple(notes)))
            pending.clear()

    for raw in text.splitlines():
        line = raw.rstrip("\r")
        if line.startswith("%%~"):
            key, sep, value = line[3:].partition(":")
            if sep and key.strip():
                doc.meta.setdefault(key.strip().lower(), value.strip())
            continue
        if not line.strip():
            flush()
            continue
        if line.startswith("[") and _LAYOUT_LINE.fullmatch(line.strip().lower()):
            flush()
            continue
        if line.startswith("%"):
            flush()
            comment = parse_comment(line)
            if comment is not None:
                doc.blocks.append(comment)
            continue
        if line.startswith("@"):
            flush()
            keyword = parse_keyword(line)
            if keyword is not None:
                doc.blocks.append(keyword)
            continue
        heading = parse_heading(line)
        if heading is not None:
            flush()
            doc.blocks.append(heading)
            continue
        pending.append(line)
    flush()
    return doc


def parse_heading(line: str) -> Heading | None:
    for prefix, level, marked in _HEADINGS:
        if line.startswith(prefix):
            title = " ".join(convert_lines([line[len(prefix):]])[0])
            return Heading(level, title.strip(), marked)
    return None


def parse_comment(line: str) -> Comment | None:
    """A ``%`` line as a comment, or None for ``%~`` ignored text."""
    if line.startswith("%~"):
        return None
    body = line[1:].strip()
    head, sep, content = body.partition(":")
    modifier, _, key = head.rstrip().partition(".")
    kind = modifier.strip().lower()
    need = _COMMENT_KEYS.get(kind)
    if sep and content.strip() and need is not None:
        key_ok = (need < 2) if key == "" else (need > 0 and key.replace("_", "").isalnum())
        if key_ok:
            return Comment(kind, key, _inline_text(content.strip()))
    return Comment("plain", "", _inline_text(body)) if body else None


def parse_keyword(line: str) -> Keyword | None:
    """``@key: a, b`` → Keyword("key", ("a", "b")); None for an unknown or empty key."""
    head, _, values = line.rstrip().partition(":")
    key = head.strip()[1:].strip().lower()
    if key not in KEYWORDS:
        return None
    parts = tuple(v.strip() for v in values.split(",") if v.strip())
    return Keyword(key, parts)


def split_tag(value: str) -> tuple[str, str]:
    """``"Jane | Jane Smith"`` → ``("Jane", "Jane Smith")``; no display name → ``(tag, "")``."""
    name, _, display = value.partition("|")
    return name.strip(), display.strip()


def _inline_text(text: str) -> str:
    lines, _ = convert_lines([text])
    return " ".join(lines)


# --- inline formatting ---------------------------------------------------------------------

_BREAK = re.compile(r"(?i)(?<!\\)\[br\]")
_MARKDOWN = (  # (pattern, style): style None = markers removed, text kept
    (re.compile(r"(?<![\w\\])(_)(?![\s_])(.+?)(?<![\s\\])(\1)(?!\w)", re.S), "i"),
    (re.compile(r"(?<![\w\\])(\*{2})(?![\s*])(.+?)(?<![\s\\])(\1)(?!\w)", re.S), "b"),
    (re.compile(r"(?<![\w\\])(~{2})(?![\s~])(.+?)(?<![\s\\])(\1)(?!\w)", re.S), None),
    (re.compile(r"(?<![\w\\])(={2})(?![\s=])(.+?)(?<![\s\\])(\1)(?!\w)", re.S), None),
)
_SHORTCODE = re.compile(r"(?i)(?<!\\)\[(/?)(b|i|s|u|m|sup|sub)\]")
_FOOTNOTE = re.compile(r"(?i)(?<!\\)\[footnote:(.+?)(?<!\\)\]")
_SHORTCODE_STYLE = {"b": "b", "i": "i"}
_MARK = {"b": "**", "i": "*"}
_MAYBE_MARKUP = re.compile(r"[_*~=\[]")


def _strip_alignment(line: str) -> str:
    if line.startswith(">>"):
        line = line[2:].lstrip(" ")
    elif line.startswith(">"):
        line = line[1:].lstrip(" ")
    if line.endswith("<<"):
        line = line[:-2].rstrip(" ")
    elif line.endswith("<"):
        line = line[:-1].rstrip(" ")
    return line


def convert_lines(lines: list[str]) -> tuple[list[str], list[str]]:
    """Source lines of one paragraph → light-formatted lines (empty ones dropped) and the keys
    of the footnote markers removed from them."""
    out: list[str] = []
    notes: list[str] = []
    for line in lines:
        parts, keys = _convert_line(_strip_alignment(line))
        out.extend(p for p in parts if p)
        notes.extend(keys)
    return out, notes


def _convert_line(line: str) -> tuple[list[str], list[str]]:
    """One source line → its parts (split at ``[br]``), formatted, and its footnote keys.

    Works on the runs of text between formatting boundaries (not character by character),
    so a million-word novel converts in seconds; a line without any marker character takes a
    fast path."""
    text = _BREAK.sub("\n", line)
    if not _MAYBE_MARKUP.search(text):
        return [part.strip() for part in text.split("\n")], []
    n = len(text)
    cuts = {0, n}
    depth_at: dict[int, int] = {}          # deletion coverage: +1 at a start, -1 at an end
    events: list[tuple[int, int, str, bool]] = []  # (position, order, style, opens)
    footnotes: list[str] = []

    def delete(a: int, b: int) -> None:
        if b > a:
            depth_at[a] = depth_at.get(a, 0) + 1
            depth_at[b] = depth_at.get(b, 0) - 1
            cuts.update((a, b))

    for pattern, style in _MARKDOWN:
        for m in pattern.finditer(text):
            delete(m.start(1), m.end(1))
            delete(m.start(3), m.end(3))
            if style:
                events.append((m.start(2), 1, style, True))
                events.append((m.end(2), 0, style, False))
    for m in _SHORTCODE.finditer(text):
        delete(m.start(), m.end())
        style = _SHORTCODE_STYLE.get(m.group(2).lower())
        if style:
            events.append((m.start(), 0 if m.group(1) else 1, style, not m.group(1)))
    for m in _FOOTNOTE.finditer(text):
        delete(m.start(), m.end())
        footnotes.append(m.group(1).strip())
    events.sort(key=lambda e: (e[0], e[1]))
    cuts.update(e[0] for e in events)
    pos = text.find("\n")
    while pos >= 0:
        cuts.update((pos, pos + 1))
        pos = text.find("\n", pos + 1)
    bounds = sorted(cuts)
    state = {"b": False, "i": False}
    depth = e = 0
    parts: list[list[tuple[str, bool, bool]]] = [[]]
    for a, b in zip(bounds, bounds[1:]):
        depth += depth_at.get(a, 0)
        while e < len(events) and events[e][0] <= a:
            state[events[e][2]] = events[e][3]
            e += 1
        if depth > 0:
            continue
        piece = text[a:b]
        if piece == "\n":
            parts.append([])
        else:
            parts[-1].append((piece, state["b"], state["i"]))
    return [_emit(p).strip() for p in parts], footnotes


def _emit(pieces: list[tuple[str, bool, bool]]) -> str:
    """Runs of text with (bold, italic) flags → text with ``**``/``*`` markers, properly nested
    where the spans nest, never opening before or closing after white space."""
    runs: list[tuple[str, list[bool]]] = []
    for text, bold, italic in pieces:  # styled runs: white space at their ends on its own
        if not (bold or italic):
            runs.append((text, [False, False]))
            continue
        core = text.strip()
        if not core:
            runs.append((text, [bold, italic]))
            continue
        lead, trail = text[:len(text) - len(text.lstrip())], text[len(text.rstrip()):]
        for part in (lead, core, trail):
            if part:
                runs.append((part, [bold, italic]))
    n = len(runs)
    blank = [not text.strip() for text, _ in runs]
    for k in (0, 1):  # a styled span never starts or ends with white space
        j = 0
        while j < n:
            if not runs[j][1][k]:
                j += 1
                continue
            end = j
            while end < n and runs[end][1][k]:
                end += 1
            a, z = j, end - 1
            while a <= z and blank[a]:
                runs[a][1][k] = False
                a += 1
            while z >= a and blank[z]:
                runs[z][1][k] = False
                z -= 1
            j = end

    def span_length(start: int, k: int) -> int:
        end = start
        while end < n and runs[end][1][k]:
            end += 1
        return sum(len(runs[i][0]) for i in range(start, end))

    out: list[str] = []
    stack: list[str] = []
    for idx, (text, flags) in enumerate(runs):
        want = {s for s, k in (("b", 0), ("i", 1)) if flags[k]}
        stale = [pos for pos, s in enumerate(stack) if s not in want]
        if stale:  # close down to the first style that ends here; the others reopen below
            out.extend(_MARK[s] for s in reversed(stack[stale[0]:]))
            del stack[stale[0]:]
        if blank[idx]:  # nothing opens before white space: a reopen waits for the text
            out.append(text)
            continue
        new = [s for s in ("b", "i") if s in want and s not in stack]
        new.sort(key=lambda s: -span_length(idx, 0 if s == "b" else 1))  # longest first
        for s in new:
            stack.append(s)
            out.append(_MARK[s])
        out.append(text)
    out.extend(_MARK[s] for s in reversed(stack))
    return "".join(out)


# --- notes as text -------------------------------------------------------------------------

def blocks_text(blocks: list[Block], headings: bool = True) -> str:
    """Prose of some blocks as plain light-formatted text: paragraphs separated by a blank
    line, line breaks kept, headings as their own line (when ``headings``), comments other
    than synopses and short descriptions left out."""
    parts: list[str] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            parts.append("\n".join(block.lines))
        elif isinstance(block, Heading) and headings and block.title:
            parts.append(block.title)
    return "\n\n".join(parts)
