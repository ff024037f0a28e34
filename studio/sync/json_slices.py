"""JSON bodies of any size without holding the event loop: a 1M-word story's content is ~7 MB
of JSON, and ``json.loads``/``json.dumps`` of the whole would hold the interpreter for 20-100 ms
(more on a busy machine).  A worker thread would not help: the C codec does not release the GIL.
So a large body is decoded — and a request body encoded — a slice of a few milliseconds at a
time on the loop, which runs between the slices.  Results and errors are ``json``'s.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import time
from typing import Any


def _json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


# --- large bodies: decoded in slices, the event loop running between them ----------------------

LARGE_BODY = 256 * 1024  # bytes; a smaller body is decoded in one go (about a millisecond)
SLICE_SECONDS = 0.003  # decoding work between two turns of the event loop
_UTF8_STEP = 256 * 1024  # bytes decoded to text per step
_WINDOW = 32 * 1024  # characters: an object or array ending within them is one C call
_DECODER = json.JSONDecoder()
_WS = json.decoder.WHITESPACE.match
_scanstring = json.decoder.scanstring
_VALUE, _KEY, _AFTER = range(3)


async def _json_body(body: Any) -> bytes:
    """``body`` as httpx's ``json=`` sends it (compact, UTF-8, no NaN), encoded by
    ``json``'s iterative encoder a slice of ``SLICE_SECONDS`` at a time: a small body at once,
    a 1M-word story's ~7 MB with the event loop running every few milliseconds."""
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    chunks: list[bytes] = []
    parts: list[str] = []
    deadline = time.perf_counter() + SLICE_SECONDS
    for count, part in enumerate(encoder.iterencode(body), 1):
        parts.append(part)
        if not count & 1023 and time.perf_counter() > deadline:
            chunks.append("".join(parts).encode("utf-8"))
            parts.clear()
            await asyncio.sleep(0)
            deadline = time.perf_counter() + SLICE_SECONDS
    chunks.append("".join(parts).encode("utf-8"))
    return b"".join(chunks)


async def _json_sliced(raw: bytes) -> Any:
    """``_json(raw)`` that never holds the event loop for more than a few milliseconds:
    a large body is turned into text and parsed in slices of ``SLICE_SECONDS``, awaiting
    ``asyncio.sleep(0)`` between them (cancelling the awaiting task stops it there)."""
    if len(raw) < LARGE_BODY:
        return _json(raw)
    try:
        text = await _utf8_text(raw)
        if text is None:  # UTF-16/32 or a BOM (never the marketplace's): json.loads decides
            return _json(raw)
        parser = _SlicedParser(text)
        while not parser.run(time.perf_counter() + SLICE_SECONDS):
            await asyncio.sleep(0)
        return parser.value
    except (ValueError, UnicodeDecodeError):
        return None


async def _utf8_text(raw: bytes) -> str | None:
    """``raw`` as text, as ``json.loads`` decodes it (UTF-8, ``surrogatepass``), a step at a
    time; None when it is not plain UTF-8."""
    if json.detect_encoding(raw[:4]) != "utf-8":
        return None
    decoder = codecs.getincrementaldecoder("utf-8")("surrogatepass")
    view, parts = memoryview(raw), []
    deadline = time.perf_counter() + SLICE_SECONDS
    for start in range(0, len(raw), _UTF8_STEP):
        end = start + _UTF8_STEP
        parts.append(decoder.decode(view[start:end], final=end >= len(raw)))
        if time.perf_counter() > deadline:
            await asyncio.sleep(0)
            deadline = time.perf_counter() + SLICE_SECONDS
    return "".join(parts)


class _SlicedParser:
    """One JSON document parsed a slice at a time: ``run(deadline)`` works until the deadline
    and says whether the document is done (then ``value`` holds it).  The value and the errors
    (``ValueError``) are ``json.loads``'s: every object or array that ends within ``_WINDOW``
    characters of its start is parsed by the C decoder in one call (a scene of a story, ~7 kB);
    a larger one is walked here member by member, and its scalars go to the C scanner."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.state = _VALUE
        self.stack: list[list[Any]] = []  # [container, key] (key None for an array)
        self.value: Any = None

    def run(self, deadline: float) -> bool:
        s, n, stack = self.text, len(self.text), self.stack
        pos, state, steps = self.pos, self.state, 0
        clock = time.perf_counter
        while True:
            steps += 1
            if not steps & 31 and clock() > deadline:
                self.pos, self.state = pos, state
                return False
            pos = _WS(s, pos).end()
            if state == _KEY:
                if s[pos:pos + 1] != '"':
                    raise json.JSONDecodeError(
                        "Expecting property name enclosed in double quotes", s, pos)
                key, pos = _scanstring(s, pos + 1)
                pos = _WS(s, pos).end()
                if s[pos:pos + 1] != ":":
                    raise json.JSONDecodeError("Expecting ':' delimiter", s, pos)
                stack[-1][1] = key
                pos, state = pos + 1, _VALUE
                continue
            if state == _AFTER:
                container = stack[-1][0]
                is_list = type(container) is list
                char = s[pos:pos + 1]
                if char == ",":
                    pos, state = pos + 1, _VALUE if is_list else _KEY
                    continue
                if char != ("]" if is_list else "}"):
                    raise json.JSONDecodeError("Expecting ',' delimiter", s, pos)
                pos += 1
                stack.pop()
                value = container
            else:  # _VALUE
                char = s[pos:pos + 1]
                if char == "{" or char == "[":
                    value = None
                    if n - pos <= _WINDOW:
                        value, pos = _DECODER.raw_decode(s, pos)
                    else:
                        try:
                            value, used = _DECODER.raw_decode(s[pos:pos + _WINDOW])
                            pos += used
                        except ValueError:  # longer than the window (or malformed): walk it
                            pass
                    if value is None:
                        closing = "}" if char == "{" else "]"
                        pos = _WS(s, pos + 1).end()
                        if s[pos:pos + 1] == closing:
                            pos, value = pos + 1, ({} if char == "{" else [])
                        else:
                            stack.append([{} if char == "{" else [], None])
                            state = _KEY if char == "{" else _VALUE
                            continue
                else:
                    try:
                        value, pos = _DECODER.scan_once(s, pos)
                    except StopIteration as exc:
                        raise json.JSONDecodeError("Expecting value", s, exc.value) from None
            # a value is complete: into its container, or it is the document
            if not stack:
                end = _WS(s, pos).end()
                if end != n:
                    raise json.JSONDecodeError("Extra data", s, end)
                self.value, self.pos = value, end
                return True
            frame = stack[-1]
            if type(frame[0]) is list:
                frame[0].append(value)
            else:
                frame[0][frame[1]] = value
            state = _AFTER
