"""Lorebook entries as scene-bible entries and back — shared by character cards and lorebooks.

Two entry formats exist.  SillyTavern's **World Info** entry (``WI``: ``key``, ``keysecondary``,
``order``, ``disable``, ``uid``… keyed by uid in a file's ``entries`` object) and the Character
Card V2/V3 **book** entry (``BOOK``: ``keys``, ``secondary_keys``, ``insertion_order``,
``enabled``, ``id``…, a list in a ``character_book`` or a ``lorebook_v3`` file).

**Into the bible.**  Each entry becomes a character, a location or a world rule, chosen by a
simple heuristic (``classify``), with its keys as aliases.  The whole original entry is kept as
a *record* — on the character or location (``extensions.lore_entries``, a list) or, for world
rules (plain strings in the schema), in the book's own record
(``bible.extensions.lorebooks[book_id].rules``).  A record remembers digests of the bible fields
it produced, so an export can tell what the author changed since: unchanged fields give back
the entry's exact original values, changed ones win.  An entry whose name already belongs to a
character or location of the same import is attached to it (kept, exported as it was) rather
than made into a second one with the same name.

**Out of the bible.**  ``collect`` lists every bible item with its live records; ``to_wi`` and
``to_book`` turn an item (or a record of it) into an entry of either format, converting between
the two the way SillyTavern does (``extensions.position`` ↔ ``position`` and so on).  Items
with no record get fresh entries tagged ``extensions.story_studio.kind`` so a re-import puts
them back in the same section.  World rules are matched to their records by text: a rule whose
text the author edited goes out as a fresh entry (its old keys and settings stay behind).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

WI, BOOK = "world_info", "book"
CHARACTER, LOCATION, RULE = "character", "location", "world_rule"
KINDS = (CHARACTER, LOCATION, RULE)
HINT_KEY = "story_studio"            # entry.extensions.story_studio.kind (our own hint)
MAX_NAME, MAX_TEXT, MAX_RULE, MAX_ALIASES = 200, 20000, 2000, 100

# SillyTavern's defaults for a World Info entry (public/scripts/world-info.js,
# newWorldInfoEntryDefinition); old files lack most of these.  ``uid`` comes from the entry's
# key and ``displayIndex`` from the uid, as SillyTavern fills them when it loads a book.
WI_DEFAULTS: dict[str, Any] = {
    "key": [], "keysecondary": [], "comment": "", "content": "", "constant": False,
    "vectorized": False, "selective": True, "selectiveLogic": 0, "addMemo": False,
    "order": 100, "position": 0, "disable": False, "excludeRecursion": False,
    "preventRecursion": False, "delayUntilRecursion": 0, "probability": 100,
    "useProbability": True, "depth": 4, "group": "", "groupOverride": False,
    "groupWeight": 100, "scanDepth": None, "caseSensitive": None, "matchWholeWords": None,
    "useGroupScoring": None, "automationId": "", "role": 0, "sticky": None,
    "cooldown": None, "delay": None,
}
# World Info field ↔ book entry extension key, as SillyTavern converts between the two.
_WI_TO_BOOK_EXT = {
    "position": "position", "excludeRecursion": "exclude_recursion",
    "displayIndex": "display_index", "probability": "probability",
    "useProbability": "useProbability", "depth": "depth", "selectiveLogic": "selectiveLogic",
    "group": "group", "groupOverride": "group_override", "groupWeight": "group_weight",
    "preventRecursion": "prevent_recursion", "delayUntilRecursion": "delay_until_recursion",
    "scanDepth": "scan_depth", "matchWholeWords": "match_whole_words",
    "useGroupScoring": "use_group_scoring", "caseSensitive": "case_sensitive",
    "automationId": "automation_id", "role": "role", "vectorized": "vectorized",
    "sticky": "sticky", "cooldown": "cooldown", "delay": "delay",
}
_WI_MAIN = {"uid", "key", "keysecondary", "comment", "content", "constant", "selective",
            "order", "disable", "addMemo", "extensions"}

# --- the classification heuristic -----------------------------------------------------------
# An entry is a *location* when the words of its name and keys include a place noun (forest,
# city, tavern…) or its text defines it as one ("X is a small village"); a *character* when
# they include a person noun (king, captain, woman…), its text defines it as one ("…is a
# young woman", "32 years old"), it reads like a character sheet (Age:, Gender:…), or it talks
# about "he"/"she" without being a {{char}} dialogue; otherwise a *world rule* (magic,
# creatures, history, customs).  Ties go to world rules: a fact is the safe place for text.
PLACE_WORDS = frozenset("""
forest forests wood woods glade grove jungle city cities town towns village villages hamlet
capital castle fortress fort citadel keep kingdom realm realms empire province region
territory land lands continent island isle islands mountain mountains peak hill hills valley
canyon lake river sea ocean bay coast shore beach harbor harbour port dock docks desert
swamp marsh bog cave caves cavern dungeon mine tower temple shrine church cathedral abbey
monastery palace manor mansion estate cottage cabin hut lodge hall tavern inn pub shop market
bazaar plaza square street alley road bridge district quarter academy school library guild
camp ruins ruin tomb crypt graveyard cemetery garden gardens park farm meadow plains
prairie haven refuge sanctuary station outpost settlement colony planet moon room chamber
office laboratory prison jail arena wasteland oasis
""".split())
PERSON_WORDS = frozenset("""
man woman girl boy person king queen prince princess lord lady duke duchess baron emperor
empress knight captain general soldier sergeant commander merchant blacksmith innkeeper
priest priestess wizard witch mage sorcerer sorceress warrior hunter thief assassin servant
maid butler mother father brother sister son daughter wife husband uncle aunt cousin
grandmother grandfather mentor teacher student doctor nurse professor detective officer
mr mrs ms miss sir dame
""".split())
_WORD_RE = re.compile(r"[a-z]+")
_DEFINED_RE = re.compile(r"\b(?:is|was)\s+(?:a|an|the)\s+((?:[\w'-]+[ \t]+){0,3}[\w'-]+)")
_AGE_RE = re.compile(r"\b\d{1,3}[- ]years?[- ]old\b")
_SHEET_RE = re.compile(r"(?:^|[\[\n;,{(])\s*(?:age|gender|sex|species|occupation|appearance|"
                       r"personality|likes|dislikes|height|body)\s*[:=(]", re.IGNORECASE)
_PRONOUN_RE = re.compile(r"\b(?:he|she|him|his|her|hers)\b")
_REGEX_KEY_RE = re.compile(r"^/.+/[a-z]*$", re.DOTALL)


def digest(value: Any) -> str:
    """A short fingerprint of a JSON value (field changed since import?)."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:16]


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def clean_name(value: str) -> str:
    return " ".join(value.split())[:MAX_NAME].strip()


def norm(value: str) -> str:
    return " ".join(value.split()).casefold()


@dataclass(frozen=True)
class EntryView:
    """What an entry says, in either format, read defensively (any field may be missing)."""

    entry: dict[str, Any]
    fmt: str

    @property
    def keys(self) -> list[str]:
        return strings(self.entry.get("key" if self.fmt == WI else "keys"))

    @property
    def content(self) -> str:
        return text(self.entry.get("content"))

    @property
    def comment(self) -> str:
        return text(self.entry.get("comment")) or (
            text(self.entry.get("name")) if self.fmt == BOOK else "")

    @property
    def regex_keys(self) -> bool:
        return self.fmt == BOOK and self.entry.get("use_regex") is True

    @property
    def hint(self) -> str | None:
        ext = self.entry.get("extensions")
        mine = ext.get(HINT_KEY) if isinstance(ext, dict) else None
        kind = mine.get("kind") if isinstance(mine, dict) else None
        return kind if kind in KINDS else None

    def labels(self) -> list[str]:
        """Keys usable as names (not regular expressions, not blank), original spelling."""
        if self.regex_keys:
            return []
        return [k for k in self.keys if clean_name(k) and not _REGEX_KEY_RE.match(k.strip())]


def classify(view: EntryView) -> str:
    """CHARACTER, LOCATION or RULE for an entry (see the heuristic above)."""
    if view.hint:
        return view.hint
    label_words = set(_WORD_RE.findall(" ".join([view.comment, *view.labels()]).lower()))
    place = len(label_words & PLACE_WORDS)
    person = len(label_words & PERSON_WORDS)
    body = view.content.lower()
    opening = body[:400]
    for phrase in _DEFINED_RE.findall(opening):   # "is a small fishing village"
        noun = next((w for w in phrase.split() if w in PLACE_WORDS or w in PERSON_WORDS), "")
        if noun in PLACE_WORDS:
            place += 2
        elif noun in PERSON_WORDS:
            person += 2
    if _AGE_RE.search(opening):
        person += 2
    if len(_SHEET_RE.findall(view.content)) >= 2:
        person += 2
    if "{{char}}" not in body and len(_PRONOUN_RE.findall(body)) >= 3:
        person += 1
    if place > person:
        return LOCATION
    if person > place:
        return CHARACTER
    return RULE


def _spelled(name: str, content: str) -> str:
    """An all-lowercase name as the text spells it ("eldoria" → "Eldoria"), else Title Case."""
    if name != name.lower():
        return name
    match = re.search(r"(?<!\w)" + re.escape(name) + r"(?!\w)", content, re.IGNORECASE)
    spelled = match.group(0) if match else ""
    return spelled if spelled[:1].isupper() else name.title()


def entry_name(view: EntryView, position: int) -> tuple[str, bool]:
    """(display name, whether it came from a key): the comment if it reads as a title, else
    the first key; a lowercase one takes the text's capitals (the original stays in the
    entry)."""
    comment = view.comment.strip()
    if comment and "\n" not in comment and len(" ".join(comment.split())) <= MAX_NAME:
        return clean_name(_spelled(clean_name(comment), view.content)), False
    for key in view.labels():
        return clean_name(_spelled(clean_name(key), view.content)), True
    first_line = next((ln.strip() for ln in view.content.splitlines() if ln.strip()), "")
    return clean_name(first_line[:60]) or f"Entry {position + 1}", False


def compose(description: str, traits: list[str]) -> str:
    """A character's text for an entry: the description, then the traits on a line."""
    if not traits:
        return description
    line = "Traits: " + ", ".join(traits)
    return f"{description}\n\n{line}" if description else line


# --- World Info defaults and conversions --------------------------------------------------

def fill_wi_defaults(entry: dict[str, Any], uid_key: str) -> dict[str, Any]:
    """``entry`` with SillyTavern's defaults for every field it lacks (the entry is kept)."""
    filled = copy.deepcopy(entry)
    for name, default in WI_DEFAULTS.items():
        if name not in filled:
            filled[name] = copy.deepcopy(default)
    if "uid" not in filled:
        filled["uid"] = int(uid_key) if uid_key.isascii() and uid_key.isdigit() else uid_key
    if "displayIndex" not in filled:
        filled["displayIndex"] = filled["uid"]
    return filled


def book_to_wi(entry: dict[str, Any], uid: int, index: int) -> dict[str, Any]:
    """A character_book / lorebook_v3 entry as a World Info entry (as SillyTavern imports)."""
    ext = entry.get("extensions") if isinstance(entry.get("extensions"), dict) else {}
    wi = fill_wi_defaults({}, str(uid))
    wi.update({
        "uid": uid, "key": strings(entry.get("keys")),
        "keysecondary": strings(entry.get("secondary_keys")),
        "comment": text(entry.get("comment")) or text(entry.get("name")),
        "content": text(entry.get("content")), "constant": entry.get("constant") is True,
        "selective": entry.get("selective") is True,
        "order": entry.get("insertion_order", 100), "disable": entry.get("enabled") is False,
        "addMemo": bool(entry.get("comment")), "displayIndex": index,
    })
    wi["position"] = ext.get("position", 0 if entry.get("position") != "after_char" else 1)
    for wi_name, ext_name in _WI_TO_BOOK_EXT.items():
        if ext_name in ext and wi_name != "position":
            wi[wi_name] = ext[ext_name]
    if "case_sensitive" in entry and "case_sensitive" not in ext:
        wi["caseSensitive"] = entry["case_sensitive"]
    rest = {k: v for k, v in ext.items() if k not in _WI_TO_BOOK_EXT.values()}
    known = {"keys", "secondary_keys", "comment", "content", "constant", "selective",
             "insertion_order", "enabled", "position", "extensions", "id", "case_sensitive"}
    rest.update({k: v for k, v in entry.items() if k not in known})
    if rest:
        wi["extensions"] = copy.deepcopy(rest)
    return wi


def wi_to_book(entry: dict[str, Any], entry_id: int, v3: bool) -> dict[str, Any]:
    """A World Info entry as a character_book entry (as SillyTavern exports a card's book)."""
    position = entry.get("position", 0)
    ext = {ext_name: copy.deepcopy(entry[wi_name])
           for wi_name, ext_name in _WI_TO_BOOK_EXT.items() if wi_name in entry}
    own = entry.get("extensions")
    if isinstance(own, dict):
        ext.update(copy.deepcopy(own))
    ext.update({k: copy.deepcopy(v) for k, v in entry.items()
                if k not in _WI_MAIN and k not in _WI_TO_BOOK_EXT})
    book = {"id": entry_id, "keys": strings(entry.get("key")),
            "secondary_keys": strings(entry.get("keysecondary")),
            "comment": text(entry.get("comment")), "content": text(entry.get("content")),
            "constant": entry.get("constant") is True, "selective": entry.get("selective") is True,
            "insertion_order": entry.get("order", 100), "enabled": entry.get("disable") is not True,
            "position": "before_char" if position == 0 else "after_char", "extensions": ext}
    if v3:
        book["use_regex"] = False
    return book


def convert(entry: dict[str, Any], src: str, dst: str, number: int, v3: bool) -> dict[str, Any]:
    """``entry`` (format ``src``) in format ``dst``; ``number`` is the uid / id to give."""
    if src == dst:
        out = copy.deepcopy(entry)
        if dst == BOOK and v3 and "use_regex" not in out:
            out["use_regex"] = False
        return out
    return book_to_wi(entry, number, number) if dst == WI else wi_to_book(entry, number, v3)


# --- items of the bible and their records -------------------------------------------------

@dataclass
class Item:
    """A bible character, location or world rule, with the lorebook records that describe it."""

    kind: str
    obj: Any                                     # the character / location dict, or rule text
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.obj if self.kind == RULE else text(self.obj.get("name"))

    @property
    def aliases(self) -> list[str]:
        return [] if self.kind == RULE else strings(self.obj.get("aliases"))

    @property
    def description(self) -> str:
        if self.kind == RULE:
            return self.obj
        desc = text(self.obj.get("description"))
        return compose(desc, strings(self.obj.get("traits"))) if self.kind == CHARACTER else desc

    def fields(self) -> dict[str, Any]:
        """The bible values a record's digests are compared with."""
        return {"name": self.name, "aliases": self.aliases, "description": self.description}


def derived_digests(item: Item) -> dict[str, str]:
    return {k: digest(v) for k, v in item.fields().items()}


def records_of(obj: dict[str, Any]) -> list[dict[str, Any]]:
    ext = obj.get("extensions")
    found = ext.get("lore_entries") if isinstance(ext, dict) else None
    return [r for r in found if isinstance(r, dict) and isinstance(r.get("entry"), dict)] \
        if isinstance(found, list) else []


def books_of(bible: dict[str, Any]) -> dict[str, dict[str, Any]]:
    ext = bible.get("extensions")
    books = ext.get("lorebooks") if isinstance(ext, dict) else None
    return {k: v for k, v in books.items() if isinstance(v, dict)} \
        if isinstance(books, dict) else {}


def collect(bible: dict[str, Any]) -> list[Item]:
    """Every character, location and world rule of ``bible`` with its live records."""
    items = [Item(CHARACTER, c, records_of(c)) for c in bible.get("characters") or []
             if isinstance(c, dict)]
    setting = bible.get("setting") or {}
    items += [Item(LOCATION, loc, records_of(loc)) for loc in setting.get("locations") or []
              if isinstance(loc, dict)]
    rule_records: dict[str, list[dict[str, Any]]] = {}
    for book_id, book in books_of(bible).items():
        for rec in book.get("rules") or []:
            if isinstance(rec, dict) and isinstance(rec.get("entry"), dict):
                rule_records.setdefault(norm(text(rec.get("rule"))), []).append(
                    dict(rec, book=book_id))
    seen: set[str] = set()
    for rule in setting.get("world_rules") or []:   # matched as the bible merge does
        if isinstance(rule, str) and norm(rule) not in seen:
            seen.add(norm(rule))
            items.append(Item(RULE, rule, rule_records.get(norm(rule), [])))
    return items


def entry_for(item: Item, record: dict[str, Any] | None) -> tuple[dict[str, Any], str]:
    """(entry, its format) for an item: the record's original with the author's edits applied
    (only fields changed since import), or a fresh BOOK entry when there is no record."""
    if record is None:
        return fresh_entry(item), BOOK
    fmt = record.get("format") if record.get("format") in (WI, BOOK) else BOOK
    entry = copy.deepcopy(record["entry"])
    seen = record.get("derived")
    if not isinstance(seen, dict) or item.kind == RULE:
        return entry, fmt                     # attached, or a rule (matched by its text)
    now = item.fields()
    view = EntryView(entry, fmt)
    if digest(now["name"]) != seen.get("name"):
        entry["comment"] = now["name"]
        if fmt == WI:
            entry["addMemo"] = True
    if digest(now["aliases"]) != seen.get("aliases") or digest(now["name"]) != seen.get("name"):
        labels = ([now["name"]] if record.get("name_is_key") else []) + now["aliases"]
        wanted = {norm(x) for x in labels}
        old_labels = {norm(x) for x in view.labels()}
        keys = [k for k in view.keys if norm(k) in wanted or norm(k) not in old_labels]
        keys += [x for x in labels if norm(x) not in {norm(k) for k in keys}]
        entry["key" if fmt == WI else "keys"] = keys
    if digest(now["description"]) != seen.get("description"):
        entry["content"] = now["description"]
    return entry, fmt


def book_entries(chosen: list[tuple[Item, dict[str, Any] | None]],
                 v3: bool) -> list[dict[str, Any]]:
    """Book entries for ``chosen`` (item, record or None), in order.  Kept entries keep their
    ``id`` as it was (or its absence); an id another book's entry already has, and every new
    or converted entry, get the next free number, so entries from different books never share
    an id (SillyTavern keys a card's book by it) while one book comes back exactly."""
    owners: dict[str, Any] = {}       # id as JSON (a book may use strings) → its book
    highest = -1
    entries = []
    for item, rec in chosen:
        entry, fmt = entry_for(item, rec)
        if fmt == BOOK and rec is not None and "id" not in entry:
            entries.append(convert(entry, BOOK, BOOK, 0, v3))   # it had no id: none now
            continue
        number = entry.get("id" if fmt == BOOK else "uid")
        book = rec.get("book") if rec is not None else None
        if rec is None or owners.get(json.dumps(number), book) != book or (
                fmt != BOOK and type(number) is not int):
            number = highest + 1
            while json.dumps(number) in owners:
                number += 1
        owners.setdefault(json.dumps(number), book)
        if type(number) is int:
            highest = max(highest, number)
        out = convert(entry, fmt, BOOK, number if type(number) is int else 0, v3)
        out["id"] = number
        entries.append(out)
    return entries


def fresh_entry(item: Item) -> dict[str, Any]:
    """A BOOK entry for a bible item no lorebook described."""
    rule = item.kind == RULE
    name = clean_name(item.name[:60]) if rule else item.name
    return {"keys": [] if rule else [item.name, *item.aliases], "content": item.description,
            "extensions": {HINT_KEY: {"kind": item.kind}}, "enabled": True,
            "insertion_order": 100, "constant": rule, "selective": False,
            "secondary_keys": [], "comment": name, "position": "before_char"}


def mentioned(text_: str, item: Item) -> bool:
    """Whether ``text_`` names ``item`` (its name or an alias, as whole words, any case)."""
    for label in [item.name, *item.aliases]:
        label = label.strip()
        if label and re.search(r"(?<!\w)" + re.escape(label) + r"(?!\w)", text_, re.IGNORECASE):
            return True
    return False
