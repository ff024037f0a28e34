"""Builds the bible entries of one import (a card and its book, or a lorebook).

The result is a scene-bible-shaped dict (``characters``, ``setting.locations``,
``setting.world_rules``, ``extensions.lorebooks``) that ``services.format_io`` merges into the
open story's bible as one new version.  Within the import every character name and alias
leads to one character only and every location name to one location, so the merge meets a
valid bible; clashes with the story's own characters are the merge's to settle.
"""

from __future__ import annotations

import copy
import secrets
from collections import Counter
from collections.abc import Sequence
from typing import Any

from studio.domain.bible import new_character_id
from studio.formats.lore_entries import (
    CHARACTER, LOCATION, MAX_ALIASES, MAX_RULE, MAX_TEXT, RULE, EntryView, Item, classify,
    clean_name, derived_digests, entry_name, norm,
)

MAX_CHARACTERS, MAX_LOCATIONS, MAX_RULES = 5000, 5000, 500   # the schema's limits


class TooBig(Exception):
    """The import would exceed a limit of the bible schema (the caller names the file)."""


def new_book_id() -> str:
    return "book_" + secrets.token_hex(4)


class Builder:
    """Collects characters, locations, world rules and book records for one preview."""

    def __init__(self) -> None:
        self.characters: list[dict[str, Any]] = []
        self.locations: list[dict[str, Any]] = []
        self.rules: list[str] = []
        self.books: dict[str, dict[str, Any]] = {}
        self.counts: Counter[str] = Counter()
        self.warnings: list[str] = []
        self._claims: dict[str, dict[str, Any]] = {}   # normalised label → character
        self._places: dict[str, dict[str, Any]] = {}   # normalised name → location
        self._rule_keys: set[str] = set()

    # --- characters -------------------------------------------------------------------------

    def free_aliases(self, name: str, labels: list[str]) -> list[str]:
        """``labels`` usable as aliases of a new character called ``name``: cleaned, unique,
        not its own name and not a name or alias of another character of this import."""
        taken = {norm(name)}
        aliases = []
        for label in labels:
            alias = clean_name(label)
            key = norm(alias)
            if alias and key not in taken and key not in self._claims:
                taken.add(key)
                aliases.append(alias)
        return aliases[:MAX_ALIASES]

    def character(self, name: str, aliases: Sequence[str] = (), **fields: Any) -> dict[str, Any]:
        """A new character (fields as in the schema; empty ones left out)."""
        if len(self.characters) >= MAX_CHARACTERS:
            raise TooBig(f"it holds more than {MAX_CHARACTERS} characters")
        char: dict[str, Any] = {"id": new_character_id(c["id"] for c in self.characters),
                                "name": name}
        aliases = self.free_aliases(name, list(aliases))
        if aliases:
            char["aliases"] = aliases
        char.update({k: v for k, v in fields.items() if v not in (None, "", [], {})})
        for label in [name, *aliases]:
            self._claims[norm(label)] = char
        self.characters.append(char)
        return char

    def owner_of(self, name: str) -> dict[str, Any] | None:
        return self._claims.get(norm(name))

    # --- books and their entries ------------------------------------------------------------

    def book(self, fmt: str, name: str, fields: dict[str, Any], owner: str | None = None,
             top: dict[str, Any] | None = None) -> str:
        """A new book record; returns its id (``book_`` + 8 hex digits).  ``fields`` are the
        book's own fields but its entries; ``top`` a file's other top-level fields."""
        book_id = new_book_id()
        while book_id in self.books:
            book_id = new_book_id()
        record: dict[str, Any] = {"format": fmt, "name": name, "fields": copy.deepcopy(fields),
                                  "rules": []}
        if owner:
            record["owner"] = owner
        if top:
            record["top"] = copy.deepcopy(top)
        self.books[book_id] = record
        return book_id

    def entry(self, book_id: str, pos: int, fmt: str, entry: dict[str, Any],
              key: str | None = None) -> str:
        """Turn one lorebook entry into a bible item (or attach it); returns the kind."""
        view = EntryView(entry, fmt)
        kind = classify(view)
        name, from_key = entry_name(view, pos)
        record: dict[str, Any] = {"book": book_id, "pos": pos, "format": fmt,
                                  "entry": copy.deepcopy(entry)}
        if key is not None:
            record["key"] = key
        if kind == RULE:
            self._rule(record, view, name)
        elif kind == CHARACTER:
            self._entry_character(record, view, name, from_key)
        else:
            self._entry_location(record, view, name, from_key)
        return kind

    def _rule(self, record: dict[str, Any], view: EntryView, name: str) -> None:
        rule = view.content.strip() or name
        if len(rule) > MAX_RULE:
            self.warnings.append(f"The entry “{name}” is longer than a world rule can be "
                                 f"({MAX_RULE} characters): the rule shows its beginning; "
                                 "the whole text is kept for export.")
            rule = rule[:MAX_RULE - 1].rstrip() + "…"
        record["rule"] = rule
        if norm(rule) not in self._rule_keys:
            self._rule_keys.add(norm(rule))
            if len(self.rules) >= MAX_RULES:
                raise TooBig(f"more than {MAX_RULES} of its entries would be world rules "
                             "(the most a scene bible holds)")
            self.rules.append(rule)
        self.books[record["book"]]["rules"].append(record)
        self.counts[RULE] += 1

    def _description(self, view: EntryView, name: str) -> str:
        content = view.content
        if len(content) > MAX_TEXT:
            self.warnings.append(f"The entry “{name}” is longer than a description can be "
                                 f"({MAX_TEXT} characters): the bible shows its beginning; "
                                 "the whole text is kept for export.")
            content = content[:MAX_TEXT]
        return content

    @staticmethod
    def _attach(obj: dict[str, Any], record: dict[str, Any]) -> None:
        ext = obj.setdefault("extensions", {})
        ext.setdefault("lore_entries", []).append(record)

    def _entry_character(self, record: dict[str, Any], view: EntryView, name: str,
                         from_key: bool) -> None:
        owner = self.owner_of(name)
        if owner is not None:
            self._attach(owner, record)       # an entry about a character we already have
            self.counts["attached"] += 1
            return
        char = self.character(name, view.labels(),
                              description=self._description(view, name))
        record["derived"] = derived_digests(Item(CHARACTER, char))
        record["name_is_key"] = from_key or norm(name) in {norm(k) for k in view.labels()}
        self._attach(char, record)
        self.counts[CHARACTER] += 1

    def _entry_location(self, record: dict[str, Any], view: EntryView, name: str,
                        from_key: bool) -> None:
        place = self._places.get(norm(name))
        if place is not None:
            self._attach(place, record)
            self.counts["attached"] += 1
            return
        if len(self.locations) >= MAX_LOCATIONS:
            raise TooBig(f"it holds more than {MAX_LOCATIONS} locations")
        loc: dict[str, Any] = {"name": name}
        seen = {norm(name)}
        aliases = []
        for label in view.labels():
            alias = clean_name(label)
            if alias and norm(alias) not in seen:
                seen.add(norm(alias))
                aliases.append(alias)
        if aliases:
            loc["aliases"] = aliases[:MAX_ALIASES]
        description = self._description(view, name)
        if description:
            loc["description"] = description
        record["derived"] = derived_digests(Item(LOCATION, loc))
        record["name_is_key"] = from_key or norm(name) in {norm(k) for k in view.labels()}
        self._attach(loc, record)
        self._places[norm(name)] = loc
        self.locations.append(loc)
        self.counts[LOCATION] += 1

    # --- the result -------------------------------------------------------------------------

    def bible(self) -> dict[str, Any]:
        bible: dict[str, Any] = {}
        if self.characters:
            bible["characters"] = self.characters
        setting: dict[str, Any] = {}
        if self.locations:
            setting["locations"] = self.locations
        if self.rules:
            setting["world_rules"] = self.rules
        if setting:
            bible["setting"] = setting
        if self.books:
            bible["extensions"] = {"lorebooks": self.books}
        return bible

    def entry_summary(self) -> str:
        """"4 lorebook entries: 2 locations, 2 world rules" for the preview."""
        total = sum(self.counts[k] for k in (CHARACTER, LOCATION, RULE, "attached"))
        parts = [f"{self.counts[k]} {label}{'' if self.counts[k] == 1 else 's'}"
                 for k, label in ((CHARACTER, "character"), (LOCATION, "location"),
                                  (RULE, "world rule")) if self.counts[k]]
        if self.counts["attached"]:
            parts.append(f"{self.counts['attached']} kept with a character or place "
                         "of the same name")
        noun = "entry" if total == 1 else "entries"
        return f"{total} lorebook {noun}: " + ", ".join(parts) if parts else \
            f"{total} lorebook {noun}"
