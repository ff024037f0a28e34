"""Emotion states: validation, prompt words, arcs."""

from __future__ import annotations

import pytest

from studio.domain.emotions import arc, parse_state, prompt_modifiers
from studio.domain.errors import ValidationError


def state(scene, primary="fear", intensity=0.5, **kw):
    return parse_state({"character_id": "char_a", "scene_uid": scene, "primary": primary,
                        "intensity": intensity, **kw})


def test_parse_checks_every_field_with_its_path():
    with pytest.raises(ValidationError) as err:
        state("s1", intensity=1.4)
    assert err.value.path == ["intensity"] and "from 0 to 1" in err.value.reason
    with pytest.raises(ValidationError) as err:
        state("s1", secondary={"sadness": "lots"})
    assert err.value.path == ["secondary", "sadness"]
    with pytest.raises(ValidationError) as err:
        state("s1", secondary={"Fear": 0.2})
    assert "already the primary" in err.value.reason
    with pytest.raises(ValidationError) as err:
        state("s1", transition="slowly")
    assert err.value.path == ["transition"]
    ok = state("s1", primary=" Deep  Grief ", secondary={"Anger": 0.25}, triggers=["the letter", ""])
    assert ok.primary == "deep grief" and ok.secondary == {"anger": 0.25}
    assert ok.triggers == ("the letter",)
    assert parse_state(ok.as_dict()) == ok


def test_prompt_modifiers_follow_intensity_and_weights():
    s = state("s1", "fear", 0.8, secondary={"sadness": 0.3, "anger": 0.6, "hope": 0.05},
              transition="triggered", transition_cause="the lamp going out")
    assert prompt_modifiers(s) == ["intense fear", "a strong undercurrent of anger",
                                   "hints of sadness", "a trace of hope",
                                   "shaken by the lamp going out"]
    assert prompt_modifiers(state("s1", "joy", 0.1)) == ["faint joy"]
    assert prompt_modifiers(state("s1", "joy", 0.95, transition="sudden")) == [
        "overwhelming joy", "sudden shift"]


def test_arc_orders_by_manuscript_and_flags_unexplained_jumps():
    states = [state("s3", "anger", 0.9), state("s1", "calm", 0.1),
              state("s2", "calm", 0.3, transition="gradual"),
              parse_state({"character_id": "char_b", "scene_uid": "s1", "primary": "joy",
                           "intensity": 0.5}),
              state("s_deleted", "joy", 0.5)]
    steps = arc("char_a", ["s1", "s2", "s3"], states)
    assert [st.scene_uid for st in steps] == ["s1", "s2", "s3"]
    assert [st.delta for st in steps] == [None, 0.2, 0.6]
    assert [st.abrupt_unexplained for st in steps] == [False, False, True]
    explained = [state("s1", "calm", 0.1), state("s2", "anger", 0.9, transition="sudden")]
    assert not arc("char_a", ["s1", "s2"], explained)[1].abrupt_unexplained
