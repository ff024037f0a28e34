"""The scene bible: the story's canonical record of who, where, when and what.

A bible is a plain dict shaped by ``resources/schemas/scene_bible.schema.json`` (the schema
checks the shape; this module checks what a schema cannot: ids that must be unique, links that
must point somewhere, aliases that must name one character only).  It also answers the two
questions the rest of the app asks of bibles:

* *which bible does this book see?* — a series bible plus the book's own additions
  (``merge_series``);
* *what did we know by this scene?* — the bible as of a point in the manuscript
  (``as_of``), from the saved versions and the segment each one was caused by.
"""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass
from typing import Any, Iterable

CHARACTER_PREFIX = "char_"
EVENT_PREFIX = "evt_"
THREAD_PREFIX = "thread_"
SECTIONS = ("characters", "setting", "timeline", "plot_threads", "style_guide")
THREAD_STATUSES = ("active", "resolved", "abandoned")
RELATIONSHIP_TYPES = ("parent", "child", "sibling", "spouse", "lover", "friend", "rival",
                      "enemy", "mentor", "student", "ally", "employer", "employee")

Problem = tuple[str, str]  # (path like "characters/2/aliases/0", reason)


def _new_id(prefix: str, existing: Iterable[str]) -> str:
    taken = set(existing)
    while True:
        candidate = prefix + secrets.token_hex(4)
        if candidate not in taken:
            return candidate


def new_character_id(existing: Iterable[str] = ()) -> str:
    """``char_`` + 8 lowercase hex digits, unlike every id in ``existing``."""
    return _new_id(CHARACTER_PREFIX, existing)


def new_event_id(existing: Iterable[str] = ()) -> str:
    return _new_id(EVENT_PREFIX, existing)


def new_thread_id(existing: Iterable[str] = ()) -> str:
    return _new_id(THREAD_PREFIX, existing)


def empty_bible() -> dict[str, Any]:
    return {}


def characters(bible: dict[str, Any]) -> list[dict[str, Any]]:
    return list(bible.get("characters") or [])


def locations(bible: dict[str, Any]) -> list[dict[str, Any]]:
    return list((bible.get("setting") or {}).get("locations") or [])


def events(bible: dict[str, Any]) -> list[dict[str, Any]]:
    return list((bible.get("timeline") or {}).get("events") or [])


def threads(bible: dict[str, Any]) -> list[dict[str, Any]]:
    return list(bible.get("plot_threads") or [])


def _norm(name: str) -> str:
    return " ".join(name.split()).casefold()


def semantic_problems(bible: dict[str, Any],
                      inherited: dict[str, Any] | None = None) -> list[Problem]:
    """What the schema cannot see: duplicate ids, dangling links, aliases shared by two people.

    ``inherited`` is the series bible a book's bible is read with: its characters are valid
    relationship targets and its names and aliases must not be claimed again by the book.
    Assumes ``bible`` already passed the schema.
    """
    problems: list[Problem] = []
    chars = characters(bible)
    series_chars = characters(inherited or {})
    own_ids: dict[str, int] = {}
    for i, ch in enumerate(chars):
        cid = ch["id"]
        if cid in own_ids:
            problems.append((f"characters/{i}/id",
                             f"the id {cid} is already used by character {own_ids[cid] + 1}"))
        else:
            own_ids[cid] = i
    known_ids = set(own_ids) | {c["id"] for c in series_chars}

    # Every name and alias must lead to exactly one character.
    claimed: dict[str, tuple[str, str]] = {}  # normalised name -> (char id, display name)
    for ch in series_chars:
        if ch["id"] in own_ids:
            continue  # the book overrides this series character
        for label in [ch["name"], *ch.get("aliases", [])]:
            claimed.setdefault(_norm(label), (ch["id"], ch["name"]))
    for i, ch in enumerate(chars):
        labels = [("name", ch["name"])] + [(f"aliases/{j}", a)
                                           for j, a in enumerate(ch.get("aliases", []))]
        for where, label in labels:
            key = _norm(label)
            owner = claimed.get(key)
            if owner is not None and owner[0] != ch["id"]:
                what = "name" if where == "name" else "alias"
                problems.append((f"characters/{i}/{where}",
                                 f"the {what} “{label}” already names {owner[1]} ({owner[0]})"))
            else:
                claimed[key] = (ch["id"], ch["name"])
        for j, rel in enumerate(ch.get("relationships", [])):
            target = rel["target"]
            if target == ch["id"]:
                problems.append((f"characters/{i}/relationships/{j}/target",
                                 "a character cannot be related to themselves"))
            elif target not in known_ids:
                problems.append((f"characters/{i}/relationships/{j}/target",
                                 f"no character has the id {target}"))
        if ch.get("active", True) and ch.get("inactive_since"):
            problems.append((f"characters/{i}/inactive_since",
                             "an active character cannot have become inactive; "
                             "untick “active” or clear this"))

    seen_events: set[str] = set()
    for i, ev in enumerate(events(bible)):
        eid = ev.get("id")
        if eid and eid in seen_events:
            problems.append((f"timeline/events/{i}/id", f"the id {eid} is used twice"))
        if eid:
            seen_events.add(eid)
    seen_threads: set[str] = set()
    for i, th in enumerate(threads(bible)):
        if th["id"] in seen_threads:
            problems.append((f"plot_threads/{i}/id", f"the id {th['id']} is used twice"))
        seen_threads.add(th["id"])
        if th.get("resolved_in") and th.get("status", "active") != "resolved":
            problems.append((f"plot_threads/{i}/resolved_in",
                             "only a resolved thread has a segment where it was resolved"))
    seen_places: set[str] = set()
    for i, loc in enumerate(locations(bible)):
        key = _norm(loc["name"])
        if key in seen_places:
            problems.append((f"setting/locations/{i}/name",
                             f"the location “{loc['name']}” is listed twice"))
        seen_places.add(key)
    return problems


# --- series -------------------------------------------------------------------------------

def _merge_by(key: str, base: list[dict], own: list[dict], tag: bool) -> list[dict]:
    own_keys = {item.get(key) for item in own if item.get(key)}
    merged = []
    for item in base:
        if item.get(key) in own_keys:
            continue
        item = copy.deepcopy(item)
        if tag:
            item["_from_series"] = True
        merged.append(item)
    merged.extend(copy.deepcopy(own))
    return merged


def merge_series(series: dict[str, Any] | None, own: dict[str, Any],
                 tag: bool = False) -> dict[str, Any]:
    """The bible a book sees: the series' record with the book's own additions on top.

    The book wins where both speak (a character with the same id, a location with the same
    name, a non-empty setting or style field).  With ``tag`` the items that come from the series
    carry ``"_from_series": True`` (for display only — never saved).
    """
    if not series:
        return copy.deepcopy(own)
    result: dict[str, Any] = {}
    chars = _merge_by("id", characters(series), characters(own), tag)
    if chars:
        result["characters"] = chars
    setting: dict[str, Any] = {}
    s_set, o_set = series.get("setting") or {}, own.get("setting") or {}
    for field in ("primary_location", "time_period"):
        value = o_set.get(field) or s_set.get(field)
        if value:
            setting[field] = value
    rules = list(s_set.get("world_rules") or []) + [
        r for r in o_set.get("world_rules") or [] if r not in (s_set.get("world_rules") or [])]
    if rules:
        setting["world_rules"] = rules
    locs = _merge_by("name", locations(series), locations(own), tag)
    if locs:
        setting["locations"] = locs
    if setting:
        result["setting"] = setting
    timeline: dict[str, Any] = {}
    current = (own.get("timeline") or {}).get("current_point") or (
        series.get("timeline") or {}).get("current_point")
    if current:
        timeline["current_point"] = current
    evs = _merge_by("id", events(series), events(own), tag)
    if evs:
        timeline["events"] = evs
    if timeline:
        result["timeline"] = timeline
    ths = _merge_by("id", threads(series), threads(own), tag)
    if ths:
        result["plot_threads"] = ths
    style = {k: v for k, v in (series.get("style_guide") or {}).items() if v}
    style.update({k: v for k, v in (own.get("style_guide") or {}).items() if v})
    if style:
        result["style_guide"] = style
    extensions = merge_extensions(series.get("extensions"), own.get("extensions"))
    if extensions:
        result["extensions"] = extensions
    return result


def merge_extensions(base: Any, own: Any) -> dict[str, Any]:
    """Two ``extensions`` objects as one: objects merge key by key, ``own`` wins elsewhere.

    Extensions hold other tools' data (lorebooks by id, …); a merge must not drop a book
    because another object also has books, so it recurses instead of replacing.
    """
    result: dict[str, Any] = copy.deepcopy(base) if isinstance(base, dict) else {}
    for key, value in (own or {}).items() if isinstance(own, dict) else ():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge_extensions(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def strip_series_tags(bible: dict[str, Any]) -> dict[str, Any]:
    """Drop the items ``merge_series(tag=True)`` marked as coming from the series."""
    result = copy.deepcopy(bible)

    def keep(items: list[dict]) -> list[dict]:
        return [i for i in items if not i.get("_from_series")]

    if "characters" in result:
        result["characters"] = keep(result["characters"])
    if "plot_threads" in result:
        result["plot_threads"] = keep(result["plot_threads"])
    if "locations" in result.get("setting", {}):
        result["setting"]["locations"] = keep(result["setting"]["locations"])
    if "events" in result.get("timeline", {}):
        result["timeline"]["events"] = keep(result["timeline"]["events"])
    return result


# --- "as of" a point in the manuscript ----------------------------------------------------

@dataclass(frozen=True)
class BibleVersionInfo:
    number: int
    cause_segment: str | None
    note: str
    created_at: Any  # datetime; kept loose so the domain needs no clock


def version_positions(versions: list[BibleVersionInfo],
                      order: dict[str, int]) -> list[int]:
    """The manuscript position each version belongs to.

    A version caused by a segment sits at that segment.  A version with no cause (a manual
    edit) — or whose segment has since been deleted — sits where the author last was: at the
    position of the nearest earlier version, or before the first segment (-1).
    """
    positions: list[int] = []
    last = -1
    for info in sorted(versions, key=lambda v: v.number):
        pos = order.get(info.cause_segment) if info.cause_segment else None
        if pos is None:
            pos = last
        positions.append(pos)
        last = pos
    return positions


def version_as_of(versions: list[BibleVersionInfo], order: dict[str, int],
                  position: int) -> int | None:
    """Number of the latest version (in save order) that belongs at or before ``position``."""
    chosen = None
    ordered = sorted(versions, key=lambda v: v.number)
    for info, pos in zip(ordered, version_positions(ordered, order)):
        if pos <= position:
            chosen = info.number
    return chosen


def as_of(bible: dict[str, Any], order: dict[str, int], position: int) -> dict[str, Any]:
    """``bible`` as it stood at ``position`` in the manuscript.

    Whatever the prose has not reached yet is hidden: characters introduced later, events that
    happen later, threads opened later.  A character who becomes inactive later is still
    active, and a thread resolved later is still active.  Anchors to segments that no longer
    exist are treated as unanchored (always known).
    """
    def later(seg: str | None) -> bool:
        return bool(seg) and order.get(seg, -1) > position

    result = copy.deepcopy(bible)
    chars = []
    for ch in characters(result):
        if later(ch.get("introduced_in")):
            continue
        if not ch.get("active", True) and later(ch.get("inactive_since")):
            ch["active"] = True
            ch.pop("inactive_since", None)
            ch.pop("inactive_reason", None)
        chars.append(ch)
    if "characters" in result:
        result["characters"] = chars
    if "events" in result.get("timeline", {}):
        result["timeline"]["events"] = [e for e in events(result)
                                        if not later(e.get("segment"))]
    if "plot_threads" in result:
        kept = []
        for th in threads(result):
            if later(th.get("opened_in")):
                continue
            if th.get("status") == "resolved" and later(th.get("resolved_in")):
                th["status"] = "active"
                th.pop("resolved_in", None)
            kept.append(th)
        result["plot_threads"] = kept
    return result


def summarise_change(old: dict[str, Any], new: dict[str, Any]) -> str:
    """A one-line account of what a save changed, for the version list."""
    parts: list[str] = []

    def by_id(items: list[dict], key: str) -> dict[str, dict]:
        return {i.get(key): i for i in items}

    for label, get, key in (("character", characters, "id"), ("location", locations, "name"),
                            ("event", events, "id"), ("thread", threads, "id")):
        before, after = by_id(get(old), key), by_id(get(new), key)
        added = [k for k in after if k not in before]
        removed = [k for k in before if k not in after]
        changed = [k for k in after if k in before and after[k] != before[k]]
        name_of = (lambda k, d: d[k].get("name") or d[k].get("event")
                   or d[k].get("description") or str(k))
        if added:
            parts.append(f"added {label} " + ", ".join(name_of(k, after) for k in added[:3])
                         + ("…" if len(added) > 3 else ""))
        if removed:
            parts.append(f"removed {label} " + ", ".join(name_of(k, before) for k in removed[:3])
                         + ("…" if len(removed) > 3 else ""))
        if changed:
            parts.append(f"edited {label} " + ", ".join(name_of(k, after) for k in changed[:3])
                         + ("…" if len(changed) > 3 else ""))
    for section in ("setting", "style_guide"):
        o = {k: v for k, v in (old.get(section) or {}).items() if k != "locations"}
        n = {k: v for k, v in (new.get(section) or {}).items() if k != "locations"}
        if o != n:
            parts.append("edited " + section.replace("_", " "))
    if (old.get("timeline") or {}).get("current_point") != (
            new.get("timeline") or {}).get("current_point"):
        parts.append("moved the current point")
    return "; ".join(parts) or "no change"
