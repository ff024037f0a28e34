"""The ``---`` block at the top of a Markdown file (Jekyll, Hugo, Pandoc, Obsidian): read and
written without a YAML library.

What authors actually put there is flat: ``key: value`` lines, lists (``[a, b]`` or indented
``- item`` lines), at most one level of ``sub: value`` under a key.  That subset is read here;
anything deeper is refused with the line it is on rather than half understood.  Values are
written as JSON scalars, lists and objects, which every YAML reader reads too.
"""

from __future__ import annotations

import json
import re
from typing import Any

from studio.domain.errors import ImportFormatError

OPEN = "---"
CLOSE = ("---", "...")
_KEY_RE = re.compile(r"^([^\s:#\-][^:]*?|-[^\s:][^:]*?)\s*:(?:\s+(.*?))?\s*$")
_ITEM_RE = re.compile(r"^(\s+)-(?:\s+(.*?))?\s*$")
_SUB_RE = re.compile(r"^(\s+)([^\s:#][^:]*?)\s*:(?:\s+(.*?))?\s*$")
_INT_RE = re.compile(r"^[-+]?\d{1,15}$")


def _scalar(raw: str, where: str, error: type[ImportFormatError]) -> Any:
    raw = raw.strip()
    if raw.startswith(("\"", "[", "{")):
        try:
            return json.loads(raw)
        except ValueError:
            if raw.startswith("["):  # YAML's own flow list: [a, b, "c d"]
                inner = raw[1:-1] if raw.endswith("]") else None
                if inner is not None and "[" not in inner and "{" not in inner:
                    return [_scalar(part, where, error) for part in inner.split(",")
                            if part.strip()]
            raise error(f"{where}: the value {raw[:40]!r} is not closed or not valid.") \
                from None
    if raw.startswith("'"):
        if len(raw) < 2 or not raw.endswith("'"):
            raise error(f"{where}: the quoted value {raw[:40]!r} is not closed.")
        return raw[1:-1].replace("''", "'")
    if " #" in raw:  # a YAML comment after the value
        raw = raw.split(" #", 1)[0].rstrip()
    if raw in ("true", "True", "yes"):
        return True
    if raw in ("false", "False", "no"):
        return False
    if raw in ("null", "~", ""):
        return None
    if _INT_RE.match(raw):
        return int(raw)
    return raw


def split(text: str, name: str, error: type[ImportFormatError] = ImportFormatError,
          strict: bool = True) -> tuple[dict[str, Any], str, int]:
    """(front matter, the text after it, how many lines it took).  No ``---`` on the first
    line: no front matter.  A block that is never closed or does not parse is refused with
    ``error`` naming the file and line — unless ``strict`` is false (plain text, where a
    first ``---`` is more likely a scene break): then the text is returned as it was."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != OPEN:
        return {}, text, 0
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in CLOSE), None)
    try:
        if end is None:
            raise error(f"{name}: the front matter that opens with --- on line 1 is never "
                        "closed (there is no second --- line).")
        data = parse(lines[1:end], name, error)
    except ImportFormatError:
        if strict:
            raise
        return {}, text, 0
    return data, "\n".join(lines[end + 1:]), end + 1


def parse(lines: list[str], name: str,
          error: type[ImportFormatError] = ImportFormatError) -> dict[str, Any]:
    data: dict[str, Any] = {}
    current: str | None = None   # a key whose value is the indented lines below it
    for number, line in enumerate(lines, start=2):
        where = f"{name}, line {number} of the front matter"
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0] in " \t":
            if current is None:
                raise error(f"{where} is indented but belongs to no key.")
            item, sub = _ITEM_RE.match(line), _SUB_RE.match(line)
            value = data[current]
            if item and (value is None or isinstance(value, list)):
                data[current] = (value or []) + [_scalar(item.group(2) or "", where, error)]
            elif sub and not item and (value is None or isinstance(value, dict)):
                nested = value or {}
                nested[sub.group(2)] = _scalar(sub.group(3) or "", where, error)
                data[current] = nested
            else:
                raise error(f"{where} is nested deeper than Story Studio reads (a list of "
                            "values or one level of “key: value” under a key).")
            continue
        match = _KEY_RE.match(line)
        if not match:
            raise error(f"{where} is not “key: value”: {line.strip()[:40]!r}.")
        key, raw = match.group(1).strip(), match.group(2)
        if raw in (None, "", "|", ">"):
            if raw in ("|", ">"):
                raise error(f"{where}: multi-line text (| or >) is not supported; put the "
                            "value on one line.")
            data[key] = None
            current = key
        else:
            data[key] = _scalar(raw, where, error)
            current = None
    return data


def dump(data: dict[str, Any]) -> str:
    """The block, ``---`` lines included (empty string for no data)."""
    if not data:
        return ""
    lines = [OPEN]
    for key, value in data.items():
        safe_key = re.sub(r"[:\n#]", "_", str(key)).strip().lstrip("-") or "key"
        lines.append(f"{safe_key}: {json.dumps(value, ensure_ascii=False)}")
    lines.append(OPEN)
    return "\n".join(lines) + "\n"
