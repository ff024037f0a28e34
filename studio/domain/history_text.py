"""The edit history in words: what each recorded change means to the author.

The journal stores changes in the shapes each service wrote them (``{"title": {"old", "new"}}``
for a field update, paragraph lists for prose, counts for imports…).  These pure functions turn
one entry into the labels, one-line summary and before/after pairs the history view shows, and
say whether "restore this" can put the old text back — without a database, so every shape is
tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from studio.domain.manuscript import count_words

#: Keys of a change that describe the change itself, not a field that changed.
RESTORE_NOTE = "restored_from"
FIELD_ACTIONS = ("update", "restore")
FIELD_LABELS = {"title": "Title", "synopsis": "Synopsis", "status": "Status",
                "word_target": "Word target", "logline": "Logline", "genre": "Genre",
                "complete": "Complete", "input": "Notes"}
RESTORABLE_FIELDS = {
    "chapter": ("title", "synopsis", "status", "word_target"),
    "scene": ("title", "synopsis", "status"),
    "story": ("title", "logline", "genre", "complete", "word_target"),
}
TYPE_LABELS = {
    "scene_text": "Scene text", "scene": "Scene", "chapter": "Chapter", "story": "Story",
    "module": "Module", "bible": "Scene bible", "version": "Version",
    "chapter_graph": "Chapter graph", "manuscript": "Manuscript", "metadata": "Metadata",
    "custom_field": "Custom field", "custom_field_value": "Custom field value",
    "emotion": "Emotions", "series": "Series", "playthrough": "Playtest", "branch": "Branch",
}
ACTION_LABELS = {
    "update": "Edited", "create": "Created", "delete": "Deleted", "undelete": "Brought back",
    "move": "Moved", "restore": "Restored", "import": "Imported", "save": "Saved",
    "fork": "Forked", "pull": "Pulled updates", "replace_all": "Replaced everywhere",
    "ai-rewrite": "Rewritten by AI", "seed": "Laid out", "set": "Set", "define": "Defined",
    "join": "Joined", "leave": "Left", "start": "Started", "apply_snapshot": "Restored a snapshot",
    "merge_branch": "Merged a branch", "undo import": "Undid an import",
    "redo import": "Redid an import", "branch": "Branched", "branched": "Made as a branch",
    "merged": "Merged into another", "propose": "Proposed changes",
    "accept_proposal": "Accepted a proposal", "publish_as_editor": "Published as editor",
}
SHORT = 60  # characters of a value quoted in a one-line summary


@dataclass(frozen=True)
class ChangeDetail:
    """One before/after pair the view shows (a paragraph, a field).  ``key`` is what
    ``restore(..., which=key)`` takes to put back only this one; ``kind`` is "text" for prose
    (shown with differences marked) or "value"."""

    label: str
    old: str | None
    new: str | None
    key: str = ""
    kind: str = "value"
    restorable: bool = False
    place: int = -1  # a paragraph's 0-based place (typing sessions order by it); -1: not one


@dataclass(frozen=True)
class HistoryItem:
    """One entry of the edit history as the author reads it."""

    id: int
    at: datetime
    actor: str
    entity_type: str
    entity_id: str
    item: str  # "Scene “The harbour”"
    action: str  # the raw action ("update")
    action_label: str  # "Edited"
    summary: str  # "changed 2 paragraphs, +41 words"
    details: tuple[ChangeDetail, ...] = ()
    restorable: bool = False
    why_not: str = ""  # why "restore this" cannot apply, in words
    item_exists: bool = True
    delta_words: int = 0  # words the change added (negative: removed); prose entries only


@dataclass(frozen=True)
class Choice:
    key: str
    label: str


@dataclass(frozen=True)
class Facets:
    """What the filter menus offer: only what the story's history holds."""

    types: tuple[Choice, ...] = ()
    actors: tuple[str, ...] = ()
    actions: tuple[Choice, ...] = ()


@dataclass
class Described:
    summary: str
    details: list[ChangeDetail] = field(default_factory=list)
    restorable: bool = False
    why_not: str = ""


def type_label(entity_type: str) -> str:
    return TYPE_LABELS.get(entity_type, entity_type.replace("_", " ").capitalize())


def action_label(action: str, entity_type: str = "") -> str:
    if action == "update" and entity_type == "scene_text":
        return "Wrote"
    return ACTION_LABELS.get(action, action.replace("_", " ").replace("-", " ").capitalize())


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def quote(value: Any, limit: int = SHORT) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if not isinstance(value, str):
        value = str(value)
    text = " ".join(value.split())
    return f"“{text if len(text) <= limit else text[:limit - 1].rstrip() + '…'}”"


def as_text(value: Any) -> str | None:
    """A stored value as the text shown in the before/after pane."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return f"{value:,}"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(value)
    import json

    return json.dumps(value, ensure_ascii=False, indent=2)


def words_delta(delta: int) -> str:
    if delta > 0:
        return f"+{plural(delta, 'word')}"
    if delta < 0:
        return f"−{plural(-delta, 'word')}"
    return "no change in words"


# --- prose -------------------------------------------------------------------------------

def _text_summary(change: dict[str, Any]) -> str:
    replaced = change.get("replaced")
    if replaced is not None:
        changed = sum(1 for r in replaced if r.get("new") is not None)
        removed = sum(1 for r in replaced if r.get("new") is None)
        added = len(change.get("added", ())) + int(change.get("added_more", 0))
    else:  # recorded before the replaced text was kept: counts only
        changed, removed = int(change.get("updated", 0)), int(change.get("deleted", 0))
        added = int(change.get("inserted", 0))
    parts = []
    if changed:
        parts.append(f"changed {plural(changed, 'paragraph')}")
    if added:
        parts.append(f"added {plural(added, 'paragraph')}")
    if removed:
        parts.append(f"removed {plural(removed, 'paragraph')}")
    if not parts:
        parts.append("moved paragraphs")
    parts.append(words_delta(int(change.get("delta", 0))))
    return ", ".join(parts)


def _text_details(change: dict[str, Any]) -> list[ChangeDetail]:
    rows: list[tuple[int, int, ChangeDetail]] = []
    for r in change.get("replaced", ()):
        where = int(r.get("position", 0)) + 1
        if r.get("new") is None:
            label = f"Paragraph {where} (removed)"
        else:
            label = f"Paragraph {where}"
        rows.append((where, 0, ChangeDetail(label, r.get("old", ""), r.get("new"), r["id"],
                                            "text", True, where - 1)))
    for a in change.get("added", ()):
        where = int(a.get("position", 0)) + 1
        text = a.get("text")
        rows.append((where, 1, ChangeDetail(
            f"Paragraph {where} (new)", None,
            text if text is not None else "(a long paragraph, not kept in the history)",
            a["id"], "text", False, where - 1)))
    rows.sort(key=lambda t: (t[0], t[1]))
    return [d for _w, _k, d in rows]


def describe_text(action: str, change: dict[str, Any]) -> Described:
    summary = _text_summary(change)
    note = change.get(RESTORE_NOTE)
    if note and len(note.get("entries") or ()) > 1:  # a typing session restored at once
        ids = sorted(note["entries"])
        named = ", ".join(f"#{i}" for i in ids[:4]) + (f" … #{ids[-1]}" if len(ids) > 4 else "")
        summary = f"{summary} (restoring a typing session of {len(ids)} saves: entries {named})"
    elif note:
        summary = f"{summary} (restoring entry #{note.get('entry')})"
    if change.get("proposal_author"):  # a collaborator's accepted proposal
        summary = f"{summary} (proposed by {change['proposal_author']})"
    details = _text_details(change)
    if change.get("added_more"):
        more = plural(int(change["added_more"]), "more new paragraph")
        details.append(ChangeDetail(f"… and {more}", None, None))
    if "replaced" not in change:
        return Described(summary, [], False, "This edit was saved before Story Studio kept "
                         "the text an edit replaced; a saved version can bring it back.")
    if not change["replaced"]:
        return Described(summary, details, False, "This edit only added text; nothing it "
                         "replaced can be put back (delete the new text, or restore an "
                         "earlier edit).")
    return Described(summary, details, True)


# --- fields ------------------------------------------------------------------------------

def field_pairs(change: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The ``{field: {"old", "new"}}`` pairs of an update (the restore note left out)."""
    return {k: v for k, v in change.items()
            if k != RESTORE_NOTE and isinstance(v, dict) and "old" in v and "new" in v}


def _field_line(label: str, old: Any, new: Any) -> str:
    long = any(isinstance(v, str) and (len(v) > SHORT or "\n" in v) for v in (old, new))
    if long:
        before = count_words(old) if isinstance(old, str) else 0
        after = count_words(new) if isinstance(new, str) else 0
        return f"{label.lower()} rewritten ({before:,} → {after:,} words)"
    return f"{label.lower()} {quote(old)} → {quote(new)}"


def describe_fields(entity_type: str, action: str, change: dict[str, Any]) -> Described:
    pairs = field_pairs(change)
    allowed = RESTORABLE_FIELDS.get(entity_type, ())
    details = [ChangeDetail(FIELD_LABELS.get(k, k.replace("_", " ").capitalize()),
                            as_text(v["old"]), as_text(v["new"]), k,
                            "text" if isinstance(v["old"], str) or isinstance(v["new"], str)
                            else "value", k in allowed)
               for k, v in pairs.items()]
    summary = "; ".join(_field_line(d.label, pairs[d.key]["old"], pairs[d.key]["new"])
                        for d in details) or "no fields changed"
    note = change.get(RESTORE_NOTE)
    if note:
        summary = f"{summary} (restoring entry #{note.get('entry')})"
    ok = any(d.restorable for d in details)
    return Described(summary, details, ok,
                     "" if ok else "Nothing in this change can be put back from here.")


def describe_module(action: str, change: dict[str, Any],
                    field_labels: dict[str, str]) -> Described:
    details: list[ChangeDetail] = []
    if isinstance(change.get("input"), dict):
        pair = change["input"]
        details.append(ChangeDetail("Notes", as_text(pair.get("old")), as_text(pair.get("new")),
                                    "input", "text", True))
    for key, pair in (change.get("output") or {}).items():
        details.append(ChangeDetail(field_labels.get(key, key.replace("_", " ").capitalize()),
                                    as_text(pair.get("old")), as_text(pair.get("new")),
                                    f"output.{key}", "text", True))
    names = [d.label for d in details]
    if not names:
        summary = "no fields changed"
    elif len(names) <= 3:
        summary = ", ".join(names) + " changed"
    else:
        summary = f"{', '.join(names[:3])} and {len(names) - 3} more changed"
    note = change.get(RESTORE_NOTE)
    if note:
        summary = f"{summary} (restoring entry #{note.get('entry')})"
    return Described(summary, details, bool(details),
                     "" if details else "Nothing in this change can be put back.")


# --- everything else ---------------------------------------------------------------------

def _fact(key: str, value: Any) -> str:
    """One recorded fact in words: “3 chapters”, “from manuscript: 1”, ““The Salt Road””."""
    name = key.replace("_", " ")
    if isinstance(value, bool):
        return f"{name}: {'yes' if value else 'no'}"
    if isinstance(value, int) and key.endswith("s"):
        return f"{value:,} {name[:-1] if value == 1 else name}"
    if isinstance(value, (int, float)):
        return f"{name}: {value:,}"
    return quote(value, 40) if key in ("title", "name") else f"{name}: {quote(value, 30)}"


def describe_other(entity_type: str, action: str, change: dict[str, Any]) -> Described:
    """Entries that record that something happened (create, move, import…), not old text."""
    title = change.get("title") or change.get("name")
    if action == "create" and title is not None:
        summary = quote(title)
    elif action == "delete" and title is not None:
        summary = f"{quote(title)} moved to the trash"
    elif action == "move" and entity_type == "chapter":
        summary = f"from place {int(change.get('from', 0)) + 1} to {int(change.get('to', 0)) + 1}"
    elif action == "move":
        summary = f"to place {int((change.get('to') or [0, 0])[1]) + 1} of a chapter"
    elif entity_type == "chapter_graph" and action == "seed":
        chapters = plural(int(change.get("from_manuscript", 0)), "chapter")
        summary = f"from the manuscript’s {chapters}"
    elif entity_type == "version" and action == "save":
        label = change.get("label")
        summary = " — ".join(p for p in (quote(label) if label else "", change.get("summary", ""))
                             if p)
    elif entity_type == "version" and action == "restore":
        summary = f"version {change.get('from')} brought back"
    elif entity_type == "manuscript" and action == "replace_all":
        summary = (f"{quote(change.get('find'))} → {quote(change.get('replacement'))} in "
                   f"{plural(int(change.get('segments', 0)), 'paragraph')}")
    elif entity_type == "bible" and "version" in change:
        summary = f"bible version {change['version']}"
        if change.get("cause"):
            summary += " (from a paragraph)"
    elif "old" in change and "new" in change:
        summary = f"{quote(change['old'])} → {quote(change['new'])}"
    elif field_pairs(change):
        pairs = field_pairs(change)
        summary = "; ".join(_field_line(FIELD_LABELS.get(k, k.replace("_", " ")), v["old"],
                                        v["new"]) for k, v in pairs.items())
        return Described(summary, [ChangeDetail(FIELD_LABELS.get(k, k.replace("_", " ")
                                                                 .capitalize()),
                                                as_text(v["old"]), as_text(v["new"]), k, "text")
                                   for k, v in pairs.items()], False,
                         "Change this where it is edited; the history cannot put it back.")
    else:
        summary = ", ".join(_fact(k, v) for k, v in change.items()
                            if v is not None and not isinstance(v, (dict, list)))
    details = []
    if "old" in change and "new" in change:
        details.append(ChangeDetail("Value", as_text(change["old"]), as_text(change["new"])))
    why = {
        "delete": "Bring a deleted chapter or scene back with Undo (Ctrl+Z) or from a saved "
                  "version.",
        "bible": "The scene bible keeps versions of its own: open its history in the Bible "
                 "panel.",
    }.get(action if action == "delete" else entity_type,
          "This entry records that something happened; it holds no replaced text to put back.")
    return Described(summary, details, False, why)


def describe(entity_type: str, action: str, change: dict[str, Any],
             module_fields: dict[str, str] | None = None) -> Described:
    """Summary, before/after pairs and restorability of one entry."""
    if entity_type == "scene_text":
        return describe_text(action, change)
    if entity_type == "module" and action in FIELD_ACTIONS:
        return describe_module(action, change, module_fields or {})
    if entity_type in RESTORABLE_FIELDS and action in FIELD_ACTIONS and field_pairs(change):
        return describe_fields(entity_type, action, change)
    return describe_other(entity_type, action, change)
