"""The marketplace's content format, as the studio reads and writes it.

A published version holds::

    {"modules": {...}, "manuscript": {"chapters": [{"id", "title", "meta"?, "scenes": [
        {"id", "title", "meta"?, "segments": [{"id", "text"}]}]}]},
     "scene_bible": {...}, "chapter_graph": {...}}

What the studio keeps beyond ids, titles and texts travels in ``meta`` (only when it differs
from the default, so a plain story's content has no meta at all):

- chapter: ``synopsis``, ``status``, ``word_target``, ``metadata`` (the key → value metadata);
- scene: ``synopsis``, ``status``, ``metadata`` and ``gaps`` — ``{segment id: blank lines
  before it}`` for the segments whose gap is not the usual one (none before the first
  paragraph, one before every other), so the prose comes back laid out exactly as written.

Meta keys the studio does not know (from another client) are kept, as metadata entries.
``modules`` is ``{module key: {"input": text, "output": {...}}}``; ``scene_bible`` is the bible
record (``scene_bible.schema.json``); ``chapter_graph`` is ``{"chapters": [...]}``.

Pure Python: no Qt, SQL, network or files.
"""

from __future__ import annotations

from typing import Any, Mapping

from studio.domain.manuscript import STATUSES, Segment, count_words
from studio.domain.modules import MODULE_KEYS, normalise_output

PARTS = ("modules", "scene_bible", "chapter_graph")
CONTENT_PARTS = ("modules", "manuscript", "scene_bible", "chapter_graph")
KNOWN_META = ("synopsis", "status", "word_target", "metadata", "gaps")


def _text(value: Any, limit: int | None = None) -> str:
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return text[:limit] if limit else text


def read_attrs(container: Mapping[str, Any], chapter: bool) -> dict[str, Any]:
    """A content chapter or scene's fields (title and meta) as the studio stores them."""
    meta = container.get("meta") or {}
    if not isinstance(meta, dict):
        meta = {}
    status = meta.get("status", "draft")
    target = meta.get("word_target") if chapter else None
    if not isinstance(target, int) or isinstance(target, bool) or target < 0:
        target = None
    metadata = dict(meta.get("metadata") or {}) if isinstance(meta.get("metadata"), dict) \
        else {}
    for key, value in meta.items():  # another client's meta: kept as metadata entries
        if key not in KNOWN_META:
            metadata.setdefault(key, value)
    return {"title": _text(container.get("title"), 500),
            "synopsis": _text(meta.get("synopsis")),
            "status": status if status in STATUSES else "draft",
            "word_target": target, "metadata": metadata}


def write_meta(attrs: Mapping[str, Any], gaps: Mapping[str, int] | None = None) -> dict:
    """The ``meta`` of a content chapter or scene (empty when everything is default)."""
    meta: dict[str, Any] = {}
    if attrs.get("synopsis"):
        meta["synopsis"] = attrs["synopsis"]
    if attrs.get("status", "draft") != "draft":
        meta["status"] = attrs["status"]
    if attrs.get("word_target") is not None:
        meta["word_target"] = attrs["word_target"]
    if attrs.get("metadata"):
        meta["metadata"] = dict(attrs["metadata"])
    if gaps:
        meta["gaps"] = dict(gaps)
    return meta


def default_gap(index: int) -> int:
    return 0 if index == 0 else 1


def unusual_gaps(segments: list[Segment]) -> dict[str, int]:
    return {seg.id: seg.gap for i, seg in enumerate(segments) if seg.gap != default_gap(i)}


def read_segments(scene: Mapping[str, Any]) -> list[Segment]:
    """A content scene's segments, with the blank lines its meta records (or the usual)."""
    meta = scene.get("meta") or {}
    gaps = meta.get("gaps") if isinstance(meta, dict) else None
    gaps = gaps if isinstance(gaps, dict) else {}
    out = []
    for i, seg in enumerate(scene.get("segments") or []):
        gap = gaps.get(seg["id"], default_gap(i))
        if not isinstance(gap, int) or isinstance(gap, bool) or not 0 <= gap <= 1000:
            gap = default_gap(i)
        out.append(Segment(seg["id"], _text(seg.get("text")), gap))
    return out


def scene_content(uid: str, attrs: Mapping[str, Any], segments: list[Segment]) -> dict:
    scene: dict[str, Any] = {"id": uid, "title": attrs.get("title", "")}
    meta = write_meta(attrs, unusual_gaps(segments))
    if meta:
        scene["meta"] = meta
    scene["segments"] = [{"id": s.id, "text": s.text} for s in segments]
    return scene


def chapter_content(uid: str, attrs: Mapping[str, Any], scenes: list[dict]) -> dict:
    chapter: dict[str, Any] = {"id": uid, "title": attrs.get("title", "")}
    meta = write_meta(attrs)
    if meta:
        chapter["meta"] = meta
    chapter["scenes"] = scenes
    return chapter


def words_of(segments: list[Segment]) -> int:
    return sum(count_words(s.text) for s in segments)


def normalise_modules(raw: Any) -> dict[str, dict[str, Any]]:
    """The five modules of a content's ``modules`` part, every field present (unknown module
    keys and malformed entries are left out: a fork can only hold the five)."""
    out: dict[str, dict[str, Any]] = {}
    if not isinstance(raw, dict):
        return out
    for key in MODULE_KEYS:
        value = raw.get(key)
        if not isinstance(value, dict):
            continue
        output = value.get("output")
        out[key] = {"input": _text(value.get("input")),
                    "output": normalise_output(key, output if isinstance(output, dict)
                                               else None)}
    return out


def normalise_graph(raw: Any) -> dict[str, Any]:
    """A content's chapter graph in the canonical form the studio stores (empty if none)."""
    from studio.domain.chapters import ChapterGraph

    if not isinstance(raw, dict) or not raw.get("chapters"):
        return {"chapters": []}
    return ChapterGraph.from_dict(raw).as_dict()


def normalise_bible(raw: Any) -> dict[str, Any]:
    return dict(raw) if isinstance(raw, dict) else {}
