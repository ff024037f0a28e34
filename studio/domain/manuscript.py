"""The manuscript's prose as segments: paragraph-sized units with ids that survive edits.

The author types a scene as plain text; on save it is split into segments, one per paragraph
(a non-empty line), each remembering how many blank lines stood before it so the text comes back
exactly as typed.  ``assign_ids`` lines the new paragraphs up with the old segments so that every
paragraph the author did not touch — and every paragraph they only edited — keeps its id.  Later
features (bibles, forks, merges, narrations) point at those ids.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import unicodedata
import secrets
from dataclasses import dataclass

SEGMENT_PREFIX = "seg_"
CHAPTER_PREFIX = "chap_"
SCENE_PREFIX = "scene_"
STATUSES = ("idea", "draft", "revised", "final")
SCENE_BREAK_RE = re.compile(r"^\s*(\*\s*\*\s*\*|-{3,}|#)\s*$")
# A word: letters/digits, with inner apostrophes or hyphens (don't, keeper’s, well-known).
WORD_RE = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*", re.UNICODE)


def new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(6)


@dataclass(frozen=True)
class Segment:
    id: str
    text: str
    gap: int = 0  # blank lines before this paragraph

    def as_dict(self) -> dict:
        return {"id": self.id, "text": self.text, "gap": self.gap}


def count_words(text: str) -> int:
    return sum(1 for _ in WORD_RE.finditer(text))


def split_paragraphs(text: str) -> list[tuple[int, str]]:
    """(blank lines before, paragraph) for every non-empty line of ``text``."""
    result: list[tuple[int, str]] = []
    gap = 0
    for line in text.split("\n"):
        if line.strip():
            result.append((gap, line))
            gap = 0
        else:
            gap += 1
    return result


def join_segments(segments: list[Segment]) -> str:
    parts: list[str] = []
    for i, seg in enumerate(segments):
        parts.append("\n" * (seg.gap + (1 if i else 0)) + seg.text)
    return "".join(parts)


def assign_ids(old: list[Segment], text: str) -> list[Segment]:
    """Split ``text`` into segments, reusing the ids of ``old`` wherever a paragraph survived.

    Paragraphs the author did not touch keep their id wherever they moved.  Within a run of
    changed paragraphs, the rest are paired in order: an edited paragraph keeps its id; a split
    keeps the id on its first part; new paragraphs get new ids.
    """
    paragraphs = split_paragraphs(text)
    new_texts = [p for _, p in paragraphs]
    old_texts = [s.text for s in old]
    ids: list[str | None] = [None] * len(paragraphs)
    used: set[int] = set()
    replace_blocks: list[tuple[int, int, int, int]] = []
    matcher = difflib.SequenceMatcher(a=old_texts, b=new_texts, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                ids[j1 + k] = old[i1 + k].id
                used.add(i1 + k)
        elif tag == "replace":
            replace_blocks.append((i1, i2, j1, j2))
    # Unchanged paragraphs that moved: same text, an old id nobody took yet.
    unused_by_text: dict[str, list[int]] = {}
    for i, t in enumerate(old_texts):
        if i not in used:
            unused_by_text.setdefault(t, []).append(i)
    for j, t in enumerate(new_texts):
        if ids[j] is None and unused_by_text.get(t):
            i = unused_by_text[t].pop(0)
            ids[j] = old[i].id
            used.add(i)
    # Edited paragraphs: within each changed run, the most similar pairs first (an inserted
    # paragraph before an edited one must not take its id), then what is left, in order.
    for i1, i2, j1, j2 in replace_blocks:
        free_old = [i for i in range(i1, i2) if i not in used]
        free_new = [j for j in range(j1, j2) if ids[j] is None]
        if len(free_old) * len(free_new) <= 2500:
            pairs = []
            for i in free_old:
                for j in free_new:
                    sm = difflib.SequenceMatcher(a=old_texts[i], b=new_texts[j], autojunk=False)
                    if sm.real_quick_ratio() >= 0.5 and sm.quick_ratio() >= 0.5:
                        ratio = sm.ratio()
                        if ratio >= 0.5:
                            pairs.append((-ratio, i, j))
            for _neg, i, j in sorted(pairs):
                if i not in used and ids[j] is None:
                    ids[j] = old[i].id
                    used.add(i)
            free_old = [i for i in free_old if i not in used]
            free_new = [j for j in free_new if ids[j] is None]
        for i, j in zip(free_old, free_new):
            ids[j] = old[i].id
            used.add(i)
    result = []
    seen: set[str] = set()
    for (gap, para), seg_id in zip(paragraphs, ids):
        if seg_id is None or seg_id in seen:
            seg_id = new_id(SEGMENT_PREFIX)
        seen.add(seg_id)
        result.append(Segment(seg_id, para, gap))
    return result


def content_hash(segments: list[Segment]) -> str:
    """A fingerprint of a scene's prose and segment ids (unchanged scenes share snapshots)."""
    payload = json.dumps([s.as_dict() for s in segments], ensure_ascii=False,
                         separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fts_query(user_query: str) -> str:
    """Turn what an author types into an FTS5 query: words are ANDed, "quoted text" is a
    phrase, and nothing the author types can break the query syntax."""
    parts: list[str] = []
    for match in re.finditer(r'"([^"]*)"|(\S+)', user_query):
        phrase, word = match.group(1), match.group(2)
        if phrase is not None:
            words = WORD_RE.findall(phrase)
            if words:
                parts.append('"' + " ".join(words) + '"')
        else:
            for w in WORD_RE.findall(word):
                parts.append(f'"{w}"')
    return " AND ".join(parts)


def _fold(word: str) -> str:
    """Case- and accent-folded, as SQLite FTS5's default tokenizer compares words."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _query_parts(user_query: str) -> list[list[str]]:
    parts: list[list[str]] = []
    for match in re.finditer(r'"([^"]*)"|(\S+)', user_query):
        phrase, word = match.group(1), match.group(2)
        if phrase is not None:
            words = [_fold(w) for w in WORD_RE.findall(phrase)]
            if words:
                parts.append(words)
        else:
            parts.extend([_fold(w)] for w in WORD_RE.findall(word))
    return parts


def fts_spans(text: str, user_query: str) -> list[tuple[int, int]] | None:
    """Where ``text`` matches the query with the rules of :func:`fts_query` (every word or
    "phrase" present, whole words, case and accents folded), or None when it does not.  Used
    for prose that is not in the full-text index (forked scenes still shared with their
    reference)."""
    parts = _query_parts(user_query)
    if not parts:
        return None
    tokens = [(_fold(m.group()), m.start(), m.end()) for m in WORD_RE.finditer(text)]
    words = [t[0] for t in tokens]
    spans: list[tuple[int, int]] = []
    for part in parts:
        n = len(part)
        hits = [i for i in range(len(words) - n + 1) if words[i:i + n] == part]
        if not hits:
            return None
        spans.extend((tokens[i][1], tokens[i + n - 1][2]) for i in hits)
    return sorted(set(spans))


def snippet(text: str, spans: list[tuple[int, int]], start_mark: str, end_mark: str,
            radius: int = 80) -> str:
    """A piece of ``text`` around its first match with every match in it marked."""
    lo = max(0, spans[0][0] - radius)
    hi = min(len(text), spans[0][1] + radius)
    out, pos = [], lo
    for a, b in spans:
        if a < lo or b > hi:
            continue
        out += [text[pos:a], start_mark, text[a:b], end_mark]
        pos = b
    out.append(text[pos:hi])
    return ("…" if lo else "") + "".join(out) + ("…" if hi < len(text) else "")
