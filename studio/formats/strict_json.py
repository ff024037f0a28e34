"""JSON as other tools' files carry it, read strictly enough to become a scene bible.

``json.loads`` accepts what a bible must not hold: NaN and Infinity (not JSON; the store's
JSON would break), unpaired surrogates (they cannot be written as UTF-8) and nesting deep
enough to exhaust the stack later (copying, validating).  ``load_json`` refuses each with a
reason the caller puts next to the file name.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 100


class JsonProblem(Exception):
    """Why the bytes are not usable JSON (no file name: the caller adds it)."""


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def check_json(value: Any, max_depth: int = MAX_DEPTH) -> None:
    """Refuse deep nesting and unpaired surrogates anywhere in ``value``."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            raise JsonProblem(f"its JSON is nested more than {max_depth} levels deep")
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise JsonProblem("its JSON holds an invalid character (an unpaired "
                                  "surrogate)") from None
        elif isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def load_json(raw: bytes, what: str) -> Any:
    """Parse UTF-8 JSON bytes (``what`` names the thing in messages: "card", "lorebook")."""
    try:
        source = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise JsonProblem(f"the {what}'s JSON is not UTF-8 text (byte {exc.start})") from None
    try:
        value = json.loads(source, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        reason = exc.msg.removesuffix(" at")   # "Invalid control character at"
        raise JsonProblem(f"the {what}'s JSON is broken ({reason} at line {exc.lineno}, "
                          f"column {exc.colno})") from None
    except ValueError as exc:
        raise JsonProblem(f"the {what}'s JSON is broken ({exc})") from None
    except RecursionError:
        raise JsonProblem(f"the {what}'s JSON is nested too deeply") from None
    check_json(value)
    return value
