"""Merging imported bible entries (a character card, a lorebook, a project's notes) into an
author's scene bible without ever overwriting what the author wrote.

An imported character or location whose name (or an alias) is already in the bible is the same
entry: it only fills the fields the author left empty, and adds aliases and traits not already
there.  Everything else is appended.  World rules, events and threads are appended unless the
same text is already there.  ``extensions`` (other tools' data: a card's fields, lorebook
entries) are merged, never replaced: the book's entries a character already has stay, new ones
are added.  Pure Python: no Qt, SQL, network or files.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from studio.domain import bible as rules

IMPORT_ONLY = ("custom", "portrait_data")   # keys the service takes off before validating


@dataclass
class MergeReport:
    """What a merge did, in words for the preview and the undo step."""

    added: list[str] = field(default_factory=list)      # "character Seraphina"
    updated: list[str] = field(default_factory=list)    # "character Mara (traits, aliases)"
    unchanged: list[str] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)   # imported id or name → stored char id


def _key(name: Any) -> str:
    return " ".join(str(name).split()).casefold() if isinstance(name, str) else ""


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _fill(target: dict[str, Any], incoming: dict[str, Any], taken_aliases: set[str],
          skip: tuple[str, ...] = ("id", "name")) -> list[str]:
    """Fill ``target``'s empty fields from ``incoming``; returns the fields changed."""
    changed = []
    for key, value in incoming.items():
        if key in skip or key in IMPORT_ONLY or _empty(value):
            continue
        current = target.get(key)
        if key in ("aliases", "traits", "keywords") and isinstance(value, list):
            have = {_key(v) for v in current or []} | (taken_aliases if key == "aliases"
                                                       else set())
            new = [v for v in value if isinstance(v, str) and _key(v) not in have
                   and _key(v) != _key(target.get("name"))]
            new = list(dict.fromkeys(new))
            if new:
                target[key] = list(current or []) + new
                if key == "aliases":
                    taken_aliases.update(_key(v) for v in new)
                changed.append(key)
        elif key == "extensions" and isinstance(value, dict):
            merged = merge_extensions(current, value)
            if merged != current:
                target[key] = merged
                changed.append(key)
        elif key == "assets" and isinstance(value, dict):
            assets = dict(current or {})
            missing = {k: v for k, v in value.items() if _empty(assets.get(k))}
            if missing:
                assets.update(missing)
                target[key] = assets
                changed.append(key)
        elif _empty(current):
            target[key] = copy.deepcopy(value)
            changed.append(key)
    return changed


def merge_extensions(current: Any, incoming: dict[str, Any]) -> dict[str, Any]:
    """Other tools' data (``extensions``) of an import added to what is stored: new keys are
    added, objects merge key by key, lists gain the items they lack (a character's lorebook
    entries from a second book); the stored value wins where both hold a plain value."""
    result: dict[str, Any] = copy.deepcopy(current) if isinstance(current, dict) else {}
    for key, value in incoming.items():
        have = result.get(key)
        if key not in result:
            result[key] = copy.deepcopy(value)
        elif isinstance(have, dict) and isinstance(value, dict):
            result[key] = merge_extensions(have, value)
        elif isinstance(have, list) and isinstance(value, list):
            result[key] = have + [copy.deepcopy(v) for v in value if v not in have]
    return result


def _names_of(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for e in entries:
        for label in [e.get("name"), *(e.get("aliases") or [])]:
            if _key(label):
                found.setdefault(_key(label), e)
    return found


def merge_entries(bible: dict[str, Any], incoming: dict[str, Any]) -> tuple[dict, MergeReport]:
    """``bible`` with ``incoming`` (a partial bible in the schema's shape, characters'
    ``id`` optional, import-only keys allowed) merged in; neither argument is changed.

    Characters and locations that are new keep their import-only keys (``custom``,
    ``portrait_data``); a matched character has them under ``custom``/``portrait_data`` only
    when it lacked them — the service decides, knowing what is stored.
    """
    result = copy.deepcopy(bible) if isinstance(bible, dict) else {}
    report = MergeReport()
    chars = result.setdefault("characters", [])
    by_name = _names_of(chars)
    aliases = {_key(a) for c in chars for a in [c.get("name"), *(c.get("aliases") or [])]}
    taken_ids = {c["id"] for c in chars}
    pending_rel: list[tuple[dict, list]] = []
    for c in incoming.get("characters") or []:
        if not isinstance(c, dict) or not _key(c.get("name")):
            continue
        match = by_name.get(_key(c["name"]))
        if match is None:
            for a in c.get("aliases") or []:
                match = by_name.get(_key(a))
                if match:
                    break
        rels = c.get("relationships") or []
        if match is not None:
            changed = _fill(match, {k: v for k, v in c.items() if k != "relationships"},
                            aliases)
            if "custom" in c:
                match["custom"] = copy.deepcopy(c["custom"])  # stored values win (service)
            if "portrait_data" in c and not (match.get("assets") or {}).get("portrait"):
                match["portrait_data"] = c["portrait_data"]
            (report.updated if changed else report.unchanged).append(
                f"character {match['name']}" + (f" ({', '.join(changed)})" if changed else ""))
            target = match
        else:
            target = copy.deepcopy({k: v for k, v in c.items() if k != "relationships"})
            old_id = target.get("id")
            target["id"] = _new_char_id(old_id, taken_ids)
            taken_ids.add(target["id"])
            target["aliases"] = [a for a in dict.fromkeys(target.get("aliases") or [])
                                 if _key(a) not in aliases and _key(a) != _key(target["name"])]
            if not target["aliases"]:
                target.pop("aliases")
            aliases.update(_key(a) for a in [target["name"], *target.get("aliases", [])])
            chars.append(target)
            for label in [target["name"], *target.get("aliases", [])]:
                by_name.setdefault(_key(label), target)
            report.added.append(f"character {target['name']}")
        if isinstance(c.get("id"), str):
            report.ids[c["id"]] = target["id"]
        report.ids.setdefault(c["name"], target["id"])
        if rels:
            pending_rel.append((target, rels))
    for target, rels in pending_rel:
        have = {(r.get("target"), r.get("type")) for r in target.get("relationships", [])}
        for r in rels:
            if not isinstance(r, dict):
                continue
            dest = report.ids.get(r.get("target"), r.get("target"))
            if dest not in taken_ids or dest == target["id"] or (dest, r.get("type")) in have:
                continue
            target.setdefault("relationships", []).append(dict(r, target=dest))
            have.add((dest, r.get("type")))
    if not chars:
        result.pop("characters")
    _merge_setting(result, incoming.get("setting") or {}, report)
    _merge_timeline(result, incoming.get("timeline") or {}, report)
    _merge_threads(result, incoming.get("plot_threads") or [], report)
    if isinstance(incoming.get("extensions"), dict) and incoming["extensions"]:
        result["extensions"] = merge_extensions(result.get("extensions"),
                                                incoming["extensions"])
    style = incoming.get("style_guide") or {}
    if isinstance(style, dict) and style:
        guide = result.setdefault("style_guide", {})
        changed = _fill(guide, style, set(), skip=())
        if changed:
            report.updated.append(f"style guide ({', '.join(changed)})")
        if not guide:
            result.pop("style_guide")
    return result, report


def _new_char_id(old: Any, taken: set[str]) -> str:
    if isinstance(old, str) and re.fullmatch(r"char_[a-z0-9]+", old) and old not in taken:
        return old
    return rules.new_character_id(taken)


def _merge_setting(result: dict, setting: dict, report: MergeReport) -> None:
    if not isinstance(setting, dict) or not setting:
        return
    target = result.setdefault("setting", {})
    for key in ("primary_location", "time_period"):
        if setting.get(key) and not target.get(key):
            target[key] = setting[key]
            report.updated.append(key.replace("_", " "))
    rules_have = {_key(r) for r in target.get("world_rules", [])}
    for rule in setting.get("world_rules") or []:
        if isinstance(rule, str) and rule.strip() and _key(rule) not in rules_have:
            target.setdefault("world_rules", []).append(rule)
            rules_have.add(_key(rule))
            report.added.append(f"world rule “{rule[:40]}”")
    locations = target.setdefault("locations", [])
    by_name = _names_of(locations)
    for loc in setting.get("locations") or []:
        if not isinstance(loc, dict) or not _key(loc.get("name")):
            continue
        match = by_name.get(_key(loc["name"]))
        if match is not None:
            changed = _fill(match, loc, set(), skip=("name",))
            if "custom" in loc:
                match["custom"] = copy.deepcopy(loc["custom"])
            (report.updated if changed else report.unchanged).append(
                f"location {match['name']}" + (f" ({', '.join(changed)})" if changed else ""))
        else:
            new = copy.deepcopy(loc)
            locations.append(new)
            for label in [new["name"], *new.get("aliases", [])]:
                by_name.setdefault(_key(label), new)
            report.added.append(f"location {new['name']}")
    if not locations:
        target.pop("locations")
    if not target:
        result.pop("setting")


def _merge_timeline(result: dict, timeline: dict, report: MergeReport) -> None:
    if not isinstance(timeline, dict) or not timeline:
        return
    target = result.setdefault("timeline", {})
    if timeline.get("current_point") and not target.get("current_point"):
        target["current_point"] = timeline["current_point"]
    events = target.setdefault("events", [])
    have = {_key(e.get("event")) for e in events}
    ids = {e.get("id") for e in events}
    for e in timeline.get("events") or []:
        if isinstance(e, dict) and _key(e.get("event")) and _key(e["event"]) not in have:
            new = copy.deepcopy(e)
            if not new.get("id") or new["id"] in ids:
                new["id"] = rules.new_event_id(ids)
            ids.add(new["id"])
            events.append(new)
            have.add(_key(e["event"]))
            report.added.append(f"event “{e['event'][:40]}”")
    if not events:
        target.pop("events")
    if not target:
        result.pop("timeline")


def _merge_threads(result: dict, threads: list, report: MergeReport) -> None:
    if not isinstance(threads, list) or not threads:
        return
    target = result.setdefault("plot_threads", [])
    have = {_key(t.get("description")) for t in target}
    ids = {t.get("id") for t in target}
    for t in threads:
        if isinstance(t, dict) and _key(t.get("description")) and \
                _key(t["description"]) not in have:
            new = copy.deepcopy(t)
            if not new.get("id") or new["id"] in ids:
                new["id"] = rules.new_thread_id(ids)
            ids.add(new["id"])
            target.append(new)
            have.add(_key(t["description"]))
            report.added.append(f"plot thread “{t['description'][:40]}”")
    if not target:
        result.pop("plot_threads")
