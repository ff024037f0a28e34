"""Three-way merge of keyed values: a fork's segments (or JSON parts) against its source.

``base`` is the source as the fork last synced it, ``theirs`` the newer source and ``mine`` the
fork.  Values are compared for equality only, so they may be texts, content hashes or JSON
values; an absent key is a value too (added or removed).  For each key:

- theirs == mine            → that value (both sides agree, possibly both removed it);
- mine == base              → theirs (only the source changed it);
- theirs == base            → mine (only the fork changed it);
- both changed, differently → ``merge_values(base, theirs, mine)`` if given and it succeeds
  (a clean text-level merge), else a :class:`Conflict` left for the user.

A conflict is resolved with ``"theirs"``, ``"mine"``, ``"both"`` or :class:`Custom`. ``"both"``
never loses a text: the source's value keeps the key and the fork's value gets a new key placed
right after it (when one side removed the key, the side that still has it is kept).

Pure Python: diff-match-patch is the only library used (to diff texts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from diff_match_patch import diff_match_patch

class _Absent:
    """The value of a key a side does not have (distinct from a JSON null)."""

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT: Any = _Absent()
Value = Any
MergeValues = Callable[[Value, Value, Value], Value | None]
RESOLUTIONS = ("theirs", "mine", "both")


@dataclass(frozen=True)
class Custom:
    """A resolution giving the value outright (the user's own text)."""

    value: Value


@dataclass(frozen=True)
class Conflict:
    key: str
    base: Value  # ABSENT where that side has no such key
    theirs: Value
    mine: Value


@dataclass
class MergeResult:
    merged: dict[str, Value] = field(default_factory=dict)  # every non-conflicting key kept
    taken_theirs: list[str] = field(default_factory=list)
    kept_mine: list[str] = field(default_factory=list)
    auto_merged: list[str] = field(default_factory=list)
    conflicts: dict[str, Conflict] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.conflicts


@dataclass
class Resolved:
    values: dict[str, Value]
    # key added by a "both" resolution → the key it is placed right after
    placed_after: dict[str, str] = field(default_factory=dict)


class ResolutionError(ValueError):
    """Resolutions that do not match the conflicts: some missing, unknown or malformed."""

    def __init__(self, unresolved: list[str], unknown: list[str], invalid: list[str]):
        self.unresolved, self.unknown, self.invalid = unresolved, unknown, invalid
        parts = []
        if unresolved:
            parts.append("unresolved conflicts: " + ", ".join(unresolved[:20]))
        if unknown:
            parts.append("resolutions for keys that are not in conflict: "
                         + ", ".join(unknown[:20]))
        if invalid:
            parts.append("invalid resolutions (use theirs, mine, both or a custom value) for: "
                         + ", ".join(invalid[:20]))
        super().__init__("; ".join(parts))


Hunk = tuple[int, int, str]  # replace base[start:end] by text


def text_hunks(base: str, other: str) -> list[Hunk]:
    """The edits turning ``base`` into ``other`` (semantic diff: whole words where it can)."""
    dmp = diff_match_patch()
    dmp.Diff_Timeout = 2.0
    diffs = dmp.diff_main(base, other)
    dmp.diff_cleanupSemantic(diffs)
    hunks: list[Hunk] = []
    pos = 0
    current: list | None = None
    for op, text in diffs:
        if op == diff_match_patch.DIFF_EQUAL:
            if current is not None:
                hunks.append(tuple(current))
                current = None
            pos += len(text)
            continue
        if current is None:
            current = [pos, pos, ""]
        if op == diff_match_patch.DIFF_DELETE:
            pos += len(text)
            current[1] = pos
        else:
            current[2] += text
    if current is not None:
        hunks.append(tuple(current))
    return hunks


def merge_text(base: str, theirs: str, mine: str) -> str | None:
    """A text-level merge of two edits of ``base``, or None when they touch the same place.

    Each side's edits are hunks of ``base`` (diff-match-patch, semantic clean-up); when no
    hunk of one side overlaps or touches a hunk of the other (identical hunks count once),
    all are applied — no fuzzy matching, so neither side's text is ever mangled.
    """
    if not all(isinstance(v, str) for v in (base, theirs, mine)):
        return None
    ours, others = text_hunks(base, theirs), text_hunks(base, mine)
    both = set(ours) & set(others)
    for a in ours:
        for b in others:
            if a in both or b in both:
                continue
            if not (a[1] < b[0] or b[1] < a[0]):
                return None
    out, pos = [], 0
    for start, end, text in sorted(set(ours) | set(others)):
        if start < pos:
            return None  # an identical hunk overlapping another (cannot apply both)
        out.append(base[pos:start])
        out.append(text)
        pos = end
    out.append(base[pos:])
    return "".join(out)


def merge_maps(base: Mapping[str, Value], theirs: Mapping[str, Value],
               mine: Mapping[str, Value], merge_values: MergeValues | None = merge_text,
               ) -> MergeResult:
    result = MergeResult()
    for key in _union_keys(theirs, mine, base):
        b, t, m = base.get(key, ABSENT), theirs.get(key, ABSENT), mine.get(key, ABSENT)
        if t == m:
            if t is not ABSENT:
                result.merged[key] = t
        elif m == b:
            result.taken_theirs.append(key)
            if t is not ABSENT:
                result.merged[key] = t
        elif t == b:
            result.kept_mine.append(key)
            if m is not ABSENT:
                result.merged[key] = m
        else:
            combined = None
            if merge_values is not None and ABSENT not in (b, t, m):
                combined = merge_values(b, t, m)
            if combined is not None:
                result.auto_merged.append(key)
                result.merged[key] = combined
            else:
                result.conflicts[key] = Conflict(key, b, t, m)
    return result


def resolve(result: MergeResult, resolutions: Mapping[str, Any],
            new_key: Callable[[str, set[str]], str]) -> Resolved:
    """Apply the user's choices; every conflict must have one, and only conflicts may.

    ``new_key(key, taken)`` names the extra entry a "both" resolution creates.
    """
    unresolved = [k for k in result.conflicts if k not in resolutions]
    unknown = [k for k in resolutions if k not in result.conflicts]
    invalid = [k for k, r in resolutions.items()
               if k in result.conflicts and not (isinstance(r, Custom) or r in RESOLUTIONS)]
    if unresolved or unknown or invalid:
        raise ResolutionError(unresolved, unknown, invalid)
    values = dict(result.merged)
    placed_after: dict[str, str] = {}
    taken = set(values) | set(result.conflicts)
    for key, conflict in result.conflicts.items():
        choice = resolutions[key]
        if isinstance(choice, Custom):
            values[key] = choice.value
        elif choice == "theirs":
            if conflict.theirs is not ABSENT:
                values[key] = conflict.theirs
        elif choice == "mine":
            if conflict.mine is not ABSENT:
                values[key] = conflict.mine
        else:  # both
            if conflict.theirs is ABSENT or conflict.mine is ABSENT:
                values[key] = conflict.mine if conflict.theirs is ABSENT else conflict.theirs
            else:
                values[key] = conflict.theirs
                extra = new_key(key, taken)
                taken.add(extra)
                values[extra] = conflict.mine
                placed_after[extra] = key
    return Resolved(values, placed_after)


def merge_order(theirs_order: list[str], mine_order: list[str], keep: Iterable[str],
                placed_after: Mapping[str, str] | None = None) -> list[str]:
    """Order of the merged keys: the source's order, with keys only the fork has placed after
    their predecessor in the fork (or first), and "both" extras right after their twin."""
    keep = set(keep)
    placed_after = dict(placed_after or {})
    order = [k for k in theirs_order if k in keep]
    placed = set(order)
    followers: dict[str | None, list[str]] = {}
    for extra, twin in placed_after.items():
        followers.setdefault(twin, []).append(extra)
        placed.add(extra)
    # Fork-only keys, in the fork's order, each after the nearest placed key before it.
    anchor: str | None = None
    for key in mine_order:
        if key in placed:
            anchor = key
        elif key in keep:
            followers.setdefault(anchor, []).append(key)
            placed.add(key)
            anchor = key
    out: list[str] = []
    emitted: set[str] = set()

    def emit(key: str) -> None:
        stack = [key]
        while stack:
            current = stack.pop()
            if current in emitted:
                continue
            emitted.add(current)
            out.append(current)
            stack.extend(reversed(followers.pop(current, [])))

    for key in followers.pop(None, []):
        emit(key)
    for key in order:
        emit(key)
    for rest in list(followers.values()):  # followers of keys that were not kept
        for key in rest:
            emit(key)
    return out + sorted(k for k in keep if k not in emitted)


def _union_keys(*maps: Mapping[str, Value]) -> list[str]:
    seen: dict[str, None] = {}
    for m in maps:
        for key in m:
            seen.setdefault(key, None)
    return list(seen)
