"""novelWriter's project notes into a scene bible (``scene_bible.schema.json``).

novelWriter defines a character, place or thing by a heading followed by ``@tag:`` — one note
file may define several (the sample's “John and Bob Smith” file holds two characters), and a
heading without a tag belongs to the entry above it (a “## Motivation” under a character).  So
entries are cut at tagged headings, not at files:

- a file with no tag at all is one entry named by its first heading (or the item's name);
- text before the first tagged heading of a file that has tags is kept as a story note;
- the entry's name is its heading (“Jane Smith”); the tag (“Jane”), its display name
  (``@tag: Bob | Robert Smith``) and any further tag values become aliases;
- ``%Short:`` and ``%Synopsis:`` open the description, the prose follows (sub-headings as their
  own lines); other comments are the author's working notes and are left out.

By root class: CHARACTER → ``characters`` (``@char`` between two characters becomes a
"related" relationship); WORLD → ``setting.locations`` (a place's ``@location`` becomes a
“Part of: …” line); PLOT → ``plot_threads`` (tags as keywords); TIMELINE → ``timeline.events``;
OBJECT, ENTITY, CUSTOM and unknown classes → ``setting.world_rules`` as “Name (kind): text”.
The schema caps text (20,000 characters for descriptions, 2,000 for threads, events and rules):
a longer entry is shortened with “…” and its whole text kept among the story's notes, so
nothing is lost.  Names stay unique (a second “Alice” becomes “Alice (2)”) and an alias
already owned by someone else is dropped, so the bible always passes its own checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.domain.bible import new_character_id, new_event_id, new_thread_id
from studio.formats.novelwriter_text import (
    Block, Comment, Heading, Keyword, NwdDocument, Paragraph, blocks_text, split_tag,
)

MAX_NAME = 200
MAX_DESCRIPTION = 20000
MAX_SHORT_TEXT = 2000
MAX_ALIASES = 100
MAX_KEYWORDS = 50
MAX_RELATIONSHIPS = 500
# The schema's list limits: entries past them are kept among the story's notes instead.
LIMITS = {"characters": 5000, "locations": 5000, "world_rules": 500, "events": 10000,
          "plot_threads": 2000}
KIND_OF = {"CHARACTER": "character", "WORLD": "location", "PLOT": "plot thread",
           "TIMELINE": "timeline event", "OBJECT": "object", "ENTITY": "entity",
           "CUSTOM": "custom note"}


@dataclass
class NoteSource:
    """One note document with the class of the root it sits under."""

    handle: str
    name: str            # the item's name in the project tree
    root_class: str
    root_name: str
    doc: NwdDocument


@dataclass
class Entry:
    root_class: str
    source: str          # the item's name, for messages
    name: str
    tag: str = ""
    aliases: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    refs: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class BibleResult:
    bible: dict[str, Any]
    names: dict[str, str]                 # tag (casefolded) → the entry's name
    notes: list[dict[str, Any]]           # kept in the story's metadata
    shortened: int = 0
    overflow: int = 0                     # entries past the schema's list limits, kept as notes
    renamed: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _sections(doc: NwdDocument) -> list[tuple[Heading | None, list[Block]]]:
    sections: list[tuple[Heading | None, list[Block]]] = [(None, [])]
    for block in doc.blocks:
        if isinstance(block, Heading):
            sections.append((block, []))
        else:
            sections[-1][1].append(block)
    return [s for s in sections if s[0] is not None or s[1]]


def _tag_of(blocks: list[Block]) -> Keyword | None:
    for block in blocks:
        if isinstance(block, Keyword) and block.key == "tag" and block.values:
            return block
    return None


def entries_of(note: NoteSource) -> tuple[list[Entry], list[dict[str, Any]]]:
    """The bible entries one note file defines, and its untagged preamble as a kept note."""
    sections = _sections(note.doc)
    kept: list[dict[str, Any]] = []
    if not any(_tag_of(blocks) for _, blocks in sections):
        first = next((h.title for h, _ in sections if h is not None and h.title), "")
        entry = Entry(note.root_class, note.name, first or note.name or "Untitled")
        for heading, blocks in sections:
            if heading is not None and heading.title != entry.name:
                entry.blocks.append(heading)
            _absorb(entry, blocks)
        if entry.blocks or entry.refs or first:
            return [entry], kept
        return [], kept
    entries: list[Entry] = []
    preamble: list[Block] = []
    for heading, blocks in sections:
        tag = _tag_of(blocks)
        if tag is not None:
            key, display = split_tag(tag.values[0])
            name = (heading.title if heading is not None else "") or display or key
            entry = Entry(note.root_class, note.name, name or note.name or "Untitled", key)
            entry.aliases = [key, display, *(split_tag(v)[0] for v in tag.values[1:])]
            entries.append(entry)
            _absorb(entry, blocks)
        elif entries:
            if heading is not None:
                entries[-1].blocks.append(heading)
            _absorb(entries[-1], blocks)
        else:
            if heading is not None:
                preamble.append(heading)
            preamble.extend(blocks)
    if any(isinstance(b, Paragraph) for b in preamble):
        kept.append({"title": note.name, "kind": KIND_OF.get(note.root_class, "note"),
                     "text": note_text(preamble)})
    return entries, kept


def _absorb(entry: Entry, blocks: list[Block]) -> None:
    for block in blocks:
        if isinstance(block, Keyword):
            if block.key != "tag":
                entry.refs.setdefault(block.key, []).extend(
                    split_tag(v)[0] for v in block.values)
        else:
            entry.blocks.append(block)


def note_text(blocks: list[Block]) -> str:
    """A note's text: short description and synopsis first, then its prose."""
    lead = [b.text for b in blocks if isinstance(b, Comment)
            and b.kind in ("short", "synopsis") and b.text]
    body = blocks_text(blocks)
    return "\n\n".join([*lead, body] if body else lead)


class _Names:
    """Names and aliases already taken, normalised, so the bible never has two owners."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def unique(self, name: str) -> str:
        name = _clip(name, MAX_NAME) or "Untitled"
        candidate, n = name, 1
        while _norm(candidate) in self.taken:
            n += 1
            candidate = f"{name[:MAX_NAME - 8]} ({n})"
        self.taken.add(_norm(candidate))
        return candidate

    def aliases(self, name: str, aliases: list[str]) -> list[str]:
        out: list[str] = []
        for alias in aliases:
            alias = _clip(alias, MAX_NAME)
            if alias and _norm(alias) not in self.taken and _norm(alias) != _norm(name):
                self.taken.add(_norm(alias))
                out.append(alias)
            if len(out) >= MAX_ALIASES:
                break
        return out


def build_bible(notes: list[NoteSource]) -> BibleResult:
    """Every note's entries as one bible, with the tag → name table the scenes' references
    are resolved with."""
    entries: list[Entry] = []
    result = BibleResult({}, {}, [])
    for note in notes:
        found, kept = entries_of(note)
        entries.extend(found)
        result.notes.extend(kept)
    characters: list[dict[str, Any]] = []
    char_ids: dict[str, str] = {}          # tag (casefolded) → character id
    locations: list[dict[str, Any]] = []
    threads: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    rules: list[str] = []
    char_names, place_names = _Names(), _Names()
    ids: set[str] = set()                  # every id given so far (kept as a set: fast)
    pending_links: list[tuple[dict[str, Any], list[str]]] = []
    for entry in entries:
        text = note_text(entry.blocks)
        kind = KIND_OF.get(entry.root_class, "note")
        name = entry.name
        if entry.root_class == "CHARACTER":
            name = char_names.unique(entry.name)
            item: dict[str, Any] = {"id": _fresh(new_character_id, ids), "name": name}
            aliases = char_names.aliases(name, entry.aliases)
            if aliases:
                item["aliases"] = aliases
            if text:
                item["description"] = _fit(text, MAX_DESCRIPTION, entry, result)
            characters.append(item)
            for tag in [entry.tag, *entry.aliases]:
                if tag:
                    char_ids.setdefault(_norm(tag), item["id"])
            if entry.refs.get("char"):
                pending_links.append((item, entry.refs["char"]))
        elif entry.root_class == "WORLD":
            name = place_names.unique(entry.name)
            parents = [p for p in entry.refs.get("location", []) if _norm(p) != _norm(
                entry.tag)]
            if parents:
                text = "\n\n".join(filter(None, [text, "Part of: " + ", ".join(parents)]))
            item = {"name": name}
            aliases = place_names.aliases(name, entry.aliases)
            if aliases:
                item["aliases"] = aliases
            if text:
                item["description"] = _fit(text, MAX_DESCRIPTION, entry, result)
            locations.append(item)
        elif entry.root_class == "PLOT":
            item = {"id": _fresh(new_thread_id, ids),
                    "description": _fit(f"{name}: {text}" if text else name, MAX_SHORT_TEXT,
                                        entry, result),
                    "status": "active"}
            keywords = _keywords([name, entry.tag, *entry.aliases])
            if keywords:
                item["keywords"] = keywords
            threads.append(item)
        elif entry.root_class == "TIMELINE":
            events.append({"id": _fresh(new_event_id, ids),
                           "event": _fit(f"{entry.name}: {text}" if text else entry.name,
                                         MAX_SHORT_TEXT, entry, result)})
        else:
            rule = f"{entry.name} ({kind})" + (f": {text}" if text else "")
            rules.append(_fit(rule, MAX_SHORT_TEXT, entry, result))
        if entry.root_class in ("CHARACTER", "WORLD") and name != _clip(entry.name, MAX_NAME):
            result.renamed.append(f"“{entry.name}” ({entry.source}) → “{name}”")
        for tag in [entry.tag, *entry.aliases]:
            if tag:
                result.names.setdefault(_norm(tag), name)
    characters = _cap(characters, "characters", "character", result)
    locations = _cap(locations, "locations", "location", result)
    rules = _cap(rules, "world_rules", "world rule", result)
    events = _cap(events, "events", "timeline event", result)
    threads = _cap(threads, "plot_threads", "plot thread", result)
    kept_ids = {c["id"] for c in characters}
    for item, targets in pending_links:
        seen: set[str] = set()
        for tag in targets:
            target = char_ids.get(_norm(tag))
            if target and target in kept_ids and target != item["id"] and target not in seen \
                    and len(seen) < MAX_RELATIONSHIPS and item["id"] in kept_ids:
                seen.add(target)
                item.setdefault("relationships", []).append(
                    {"target": target, "type": "related",
                     "note": f"linked with @char: {_clip(tag, MAX_NAME)} in novelWriter"})
    bible: dict[str, Any] = {}
    if characters:
        bible["characters"] = characters
    setting: dict[str, Any] = {}
    if rules:
        setting["world_rules"] = rules
    if locations:
        setting["locations"] = locations
    if setting:
        bible["setting"] = setting
    if events:
        bible["timeline"] = {"events": events}
    if threads:
        bible["plot_threads"] = threads
    result.bible = bible
    result.counts = {"characters": len(characters), "locations": len(locations),
                     "plot threads": len(threads), "timeline events": len(events),
                     "world rules": len(rules)}
    return result


def _fresh(make: Any, ids: set[str]) -> str:
    new = make(ids)
    ids.add(new)
    return new


def _cap(items: list[Any], section: str, kind: str, result: BibleResult) -> list[Any]:
    """``items`` within the schema's limit for ``section``; the rest become story notes."""
    limit = LIMITS[section]
    for extra in items[limit:]:
        result.overflow += 1
        if isinstance(extra, str):
            title, text = extra.partition(" (")[0], extra
        else:
            title = extra.get("name") or extra.get("event") or extra.get("description", "")
            text = extra.get("description") or extra.get("event") or ""
        result.notes.append({"title": title[:MAX_NAME], "kind": kind, "text": text})
    return items[:limit]


def _keywords(values: list[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        value = _clip(value, MAX_NAME)
        if value and _norm(value) not in {_norm(v) for v in out}:
            out.append(value)
    return out[:MAX_KEYWORDS]


def _fit(text: str, limit: int, entry: Entry, result: BibleResult) -> str:
    """``text`` within the schema's limit; a longer one is shortened and kept whole as a note."""
    if len(text) <= limit:
        return text
    result.shortened += 1
    result.notes.append({"title": entry.name, "kind": KIND_OF.get(entry.root_class, "note"),
                         "text": text})
    return text[:limit - 1].rstrip() + "…"


def kept_note(note: NoteSource) -> dict[str, Any]:
    """A note with no bible place (a note among the novel's documents) as a story note."""
    return {"title": note.name, "kind": "note", "text": note_text(note.doc.blocks)}
