"""Typing sessions: runs of autosaves of one scene by one person, each within ten minutes of
the last, read as one entry — and everything that ends a run keeps its saves apart."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from studio.domain.history_sessions import TypingSession, group_sessions
from studio.domain.history_text import ChangeDetail, HistoryItem

T0 = datetime(2026, 3, 1, 20, 0, tzinfo=timezone.utc)


def save(id_, minute, scene="sc_a", actor="ann", replaced=(), added=(), delta=1):
    """A prose save as the service reads it: replaced paragraphs (id, old, new, place) and
    added ones (id, text, place)."""
    details = [ChangeDetail(f"Paragraph {p + 1}", old, new, key, "text", True, p)
               for key, old, new, p in replaced]
    details += [ChangeDetail(f"Paragraph {p + 1} (new)", None, text, key, "text", False, p)
                for key, text, p in added]
    return HistoryItem(id_, T0 + timedelta(minutes=minute), actor, "scene_text", scene,
                       f"Scene “{scene}”", "update", "Wrote", "…", tuple(details),
                       bool(replaced), "", True, delta)


def other(id_, minute, entity_type="scene", entity_id="sc_a", action="update"):
    return HistoryItem(id_, T0 + timedelta(minutes=minute), "ann", entity_type, entity_id,
                       "Scene", action, "Edited", "title", ())


def newest_first(*items):
    return sorted(items, key=lambda i: (i.at, i.id), reverse=True)


def shape(rows):
    return [(r.id, r.entry_ids if isinstance(r, TypingSession) else None) for r in rows]


def test_saves_of_one_scene_by_one_person_close_together_are_one_session():
    rows = group_sessions(newest_first(
        save(1, 0, replaced=[("p1", "Rain.", "Rain fell.", 0)]),
        save(2, 4, replaced=[("p1", "Rain fell.", "Rain fell hard.", 0),
                             ("p2", "Wind.", "Wind rose.", 1)], added=[("p3", "Dark.", 2)]),
        save(3, 13, replaced=[("p3", "Dark.", "Dark now.", 2), ("p2", "Wind rose.", "Wind.", 1)],
             delta=-2)))
    assert shape(rows) == [(3, (3, 2, 1))]
    session = rows[0]
    assert session.action_label == "Wrote · 3 saves" and session.saves == 3
    assert session.started == T0 and session.at == T0 + timedelta(minutes=13)
    # p1: before the first save vs after the last; p2 is back where it began; p3 was new.
    assert [(d.label, d.old, d.new, d.restorable) for d in session.details] == [
        ("Paragraph 1", "Rain.", "Rain fell hard.", True),
        ("Paragraph 3 (new)", None, "Dark now.", False)]
    assert session.summary == "changed 1 paragraph, added 1 paragraph, no change in words"
    assert session.restorable


def test_a_long_pause_another_person_or_another_entry_of_the_scene_end_a_session():
    a = [("p1", "x", "y", 0)]
    gap = group_sessions(newest_first(save(1, 0, replaced=a), save(2, 5, replaced=a),
                                      save(3, 15.5, replaced=a), save(4, 16, replaced=a)))
    assert shape(gap) == [(4, (4, 3)), (2, (2, 1))]  # 5 → 15½ is more than ten minutes

    people = group_sessions(newest_first(save(1, 0, replaced=a), save(2, 1, replaced=a),
                                         save(3, 2, replaced=a, actor="mara")))
    assert shape(people) == [(3, None), (2, (2, 1))]

    renamed = group_sessions(newest_first(save(1, 0, replaced=a), other(2, 1),
                                          save(3, 2, replaced=a), save(4, 3, replaced=a)))
    assert shape(renamed) == [(4, (4, 3)), (2, None), (1, None)]
    restored = group_sessions(newest_first(save(1, 0, replaced=a),
                                           other(2, 1, "scene_text", action="restore"),
                                           save(3, 2, replaced=a)))
    assert shape(restored) == [(3, None), (2, None), (1, None)]


def test_another_scene_keeps_its_own_sessions_and_does_not_join_this_one():
    a, b = [("p1", "x", "y", 0)], [("q1", "u", "v", 0)]
    rows = group_sessions(newest_first(
        save(1, 0, replaced=a), save(2, 1, "sc_b", replaced=b), save(3, 2, replaced=a),
        save(4, 3, "sc_b", replaced=b), other(5, 4, "chapter", "ch_1")))
    assert shape(rows) == [(5, None), (4, (4, 2)), (3, (3, 1))]
    assert {r.entity_id for r in rows[1:]} == {"sc_a", "sc_b"}


def test_a_session_that_only_added_text_cannot_be_restored_and_says_why():
    rows = group_sessions(newest_first(save(1, 0, added=[("p9", "New.", 3)], delta=1),
                                       save(2, 1, replaced=[("p9", "New.", "Newer.", 3)])))
    session = rows[0]
    assert isinstance(session, TypingSession) and not session.restorable
    assert [(d.old, d.new, d.restorable) for d in session.details] == [(None, "Newer.", False)]
    assert "only added text" in session.why_not
    assert session.summary == "added 1 paragraph, +2 words"
