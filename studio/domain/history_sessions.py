"""Typing sessions: a run of autosaves of one scene shown as one entry of the edit history.

The editor saves after every pause of a second or two, and each save of a scene's prose is an
entry of its own, so an evening's writing floods the history with "Wrote" rows.  Here those runs
become one ``TypingSession``: consecutive prose saves of the SAME scene by the SAME person, each
within ``SESSION_GAP`` of the previous one, with no other entry of that scene in between (a
title change, a restore, someone else's save all end the run; an edit of another scene does
not — each scene keeps its own runs).  Its before/after pairs are, per paragraph the session
touched, the text before the session (the ``old`` of the earliest save that replaced it) and the
text after it (the latest ``new``).  Pure functions over ``HistoryItem``s: no database, so the
rules are tested on their own and the widget only draws what comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

from studio.domain.history_text import ChangeDetail, HistoryItem, plural, words_delta

#: The longest pause between two saves of one typing session.
SESSION_GAP = timedelta(minutes=10)


@dataclass(frozen=True)
class TypingSession(HistoryItem):
    """Several saves of one scene's prose as one entry.  ``id``/``at`` are the newest save's
    (the list keeps its newest-first order and its selection by id); ``entries`` holds the
    saves, newest first."""

    entries: tuple[HistoryItem, ...] = ()

    @property
    def entry_ids(self) -> tuple[int, ...]:
        return tuple(e.id for e in self.entries)

    @property
    def started(self) -> datetime:
        return self.entries[-1].at if self.entries else self.at

    @property
    def saves(self) -> int:
        return len(self.entries)


def is_save(item: HistoryItem) -> bool:
    """A save of typed prose that keeps what it replaced (older entries kept only counts: their
    before-text is unknown, so they never join a session)."""
    return item.entity_type == "scene_text" and item.action == "update" and bool(item.details)


def _scene_of(item: HistoryItem) -> str | None:
    return item.entity_id if item.entity_type in ("scene", "scene_text") else None


def group_sessions(items: Sequence[HistoryItem],
                   gap: timedelta = SESSION_GAP) -> list[HistoryItem]:
    """``items`` (newest first, as the history query returns them) with every typing session of
    two or more saves replaced by one ``TypingSession`` at the place of its newest save.

    Only what is given is seen: a session cut by a page boundary of the list shows as two rows
    (one per page), and filters that hide a scene's other entries let its saves run on."""
    slots: list[HistoryItem | list[HistoryItem]] = []
    open_runs: dict[str, list[HistoryItem]] = {}  # scene uid → its current run, newest first
    for item in items:
        scene = _scene_of(item)
        if scene is not None and is_save(item):
            run = open_runs.get(scene)
            if run and run[-1].actor == item.actor and run[-1].at - item.at <= gap:
                run.append(item)
                continue
            run = [item]
            slots.append(run)
            open_runs[scene] = run
            continue
        slots.append(item)
        if scene is not None:  # any other entry of that scene ends its run
            open_runs.pop(scene, None)
    return [slot if isinstance(slot, HistoryItem) else
            slot[0] if len(slot) == 1 else session_of(slot) for slot in slots]


def session_details(run: Sequence[HistoryItem]) -> list[ChangeDetail]:
    """Per paragraph the saves touched: before the first save vs after the last one.

    A paragraph replaced by the session is restorable to its before-session text.  A paragraph
    the session itself added has no before (it is shown as new and left alone by a restore),
    even when a later save of the session rewrote it; added and then removed again, it is not
    shown at all.  Paragraphs back to their starting text by the end are left out."""
    first_old: dict[str, ChangeDetail] = {}
    last: dict[str, ChangeDetail] = {}
    inserted: set[str] = set()
    more_added = False
    for entry in reversed(run):  # oldest first
        for d in entry.details:
            if not d.key:  # "… and N more new paragraphs" (not listed one by one)
                more_added = True
                continue
            if d.restorable and d.key not in inserted:
                first_old.setdefault(d.key, d)
            elif not d.restorable and d.key not in first_old:
                inserted.add(d.key)
            last[d.key] = d
    rows: list[tuple[int, int, ChangeDetail]] = []
    for key, d in last.items():
        place = max(d.place, 0)
        if key in inserted:
            if d.restorable and d.new is None:
                continue  # written and deleted again within the session
            rows.append((place, 1, ChangeDetail(f"Paragraph {place + 1} (new)", None, d.new,
                                                key, "text", False, place)))
            continue
        before, after = first_old[key].old, d.new
        if before == after:
            continue
        label = f"Paragraph {place + 1}" + (" (removed)" if after is None else "")
        rows.append((place, 0, ChangeDetail(label, before, after, key, "text", True, place)))
    rows.sort(key=lambda r: (r[0], r[1]))
    details = [d for _p, _k, d in rows]
    if more_added:
        details.append(ChangeDetail("… and more new paragraphs, not listed in the history",
                                    None, None))
    return details


def session_summary(details: Sequence[ChangeDetail], delta: int) -> str:
    """“changed 2 paragraphs, added 1 paragraph, +120 words” over the whole session."""
    changed = sum(1 for d in details if d.restorable and d.new is not None)
    removed = sum(1 for d in details if d.restorable and d.new is None)
    added = sum(1 for d in details if d.key and not d.restorable)
    parts = [f"{verb} {plural(n, 'paragraph')}" for verb, n in
             (("changed", changed), ("added", added), ("removed", removed)) if n]
    return ", ".join((parts or ["no paragraph changed in the end"]) + [words_delta(delta)])


def session_of(run: Sequence[HistoryItem]) -> TypingSession:
    """One ``TypingSession`` from its saves (newest first)."""
    newest = run[0]
    details = session_details(run)
    delta = sum(e.delta_words for e in run)
    restorable = newest.item_exists and any(d.restorable for d in details)
    if not newest.item_exists:
        why = (f"{newest.item}: it is no longer in the story, so there is nothing to put the "
               "text back into. Bring it back first (Undo or a saved version).")
    elif not restorable:
        why = ("This typing session only added text, or its changes cancel out: nothing it "
               "replaced can be put back (switch off “Group typing sessions” to see each save).")
    else:
        why = ""
    return TypingSession(
        newest.id, newest.at, newest.actor, newest.entity_type, newest.entity_id, newest.item,
        newest.action, f"{newest.action_label} · {plural(len(run), 'save')}",
        session_summary(details, delta), tuple(details), restorable, why, newest.item_exists,
        delta, tuple(run))
