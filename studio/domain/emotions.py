"""Character emotions per scene, the arc they draw, and the prompt words they imply.

An emotional state belongs to one character in one scene.  Intensity is 0–1; secondary emotions
carry weights 0–1.  The transition says how the character got here from their previous scene
(gradual, sudden, triggered — with a cause).  Later features (narration, illustration) ask
``prompt_modifiers`` for words such as "intense fear, hints of sadness" so that a voice or an
image matches the scene; the panel shows those words so the author sees what will be used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.domain.errors import ValidationError

EMOTIONS = ("joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation",
            "love", "calm", "guilt", "shame", "pride", "hope", "despair", "curiosity")
TRANSITIONS = ("gradual", "sudden", "triggered")
MAX_TEXT = 2000


@dataclass(frozen=True)
class EmotionState:
    character_id: str
    scene_uid: str
    primary: str
    intensity: float
    secondary: dict[str, float] = field(default_factory=dict)
    triggers: tuple[str, ...] = ()
    facial_expression: str = ""
    body_language: str = ""
    transition: str = ""          # "", or one of TRANSITIONS
    transition_cause: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"character_id": self.character_id, "scene_uid": self.scene_uid,
                "primary": self.primary, "intensity": self.intensity,
                "secondary": dict(self.secondary), "triggers": list(self.triggers),
                "facial_expression": self.facial_expression,
                "body_language": self.body_language, "transition": self.transition,
                "transition_cause": self.transition_cause}


def _number(value: Any, where: list, label: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError("Emotion", where, f"{label} must be a number from 0 to 1")
    if not 0.0 <= float(value) <= 1.0:
        raise ValidationError("Emotion", where, f"{label} must be from 0 to 1, not {value}")
    return round(float(value), 3)


def _text(value: Any, where: list) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError("Emotion", where, "must be text")
    if len(value) > MAX_TEXT:
        raise ValidationError("Emotion", where, f"is longer than {MAX_TEXT} characters")
    return value.strip()


def _emotion_name(value: Any, where: list) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("Emotion", where, "name an emotion (e.g. fear, joy, sadness)")
    name = " ".join(value.split()).lower()
    if len(name) > 40:
        raise ValidationError("Emotion", where, "an emotion's name is at most 40 characters")
    return name


def parse_state(data: Any) -> EmotionState:
    """An EmotionState from a dict (an edit, an import): every field checked, path in errors."""
    if not isinstance(data, dict):
        raise ValidationError("Emotion", [], "must be an object")
    for key in ("character_id", "scene_uid"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise ValidationError("Emotion", [key], "is missing")
    primary = _emotion_name(data.get("primary"), ["primary"])
    intensity = _number(data.get("intensity", 0.5), ["intensity"], "intensity")
    secondary_in = data.get("secondary") or {}
    if not isinstance(secondary_in, dict):
        raise ValidationError("Emotion", ["secondary"], "must map emotions to weights")
    secondary: dict[str, float] = {}
    for name, weight in secondary_in.items():
        key = _emotion_name(name, ["secondary", name])
        if key == primary:
            raise ValidationError("Emotion", ["secondary", name],
                                  "is already the primary emotion")
        secondary[key] = _number(weight, ["secondary", name], "a weight")
    triggers = data.get("triggers") or []
    if not isinstance(triggers, list):
        raise ValidationError("Emotion", ["triggers"], "must be a list")
    transition = _text(data.get("transition"), ["transition"])
    if transition and transition not in TRANSITIONS:
        raise ValidationError("Emotion", ["transition"],
                              f"must be one of {', '.join(TRANSITIONS)}")
    return EmotionState(
        character_id=data["character_id"], scene_uid=data["scene_uid"], primary=primary,
        intensity=intensity, secondary=secondary,
        triggers=tuple(t for t in (_text(x, ["triggers", i]) for i, x in enumerate(triggers))
                       if t),
        facial_expression=_text(data.get("facial_expression"), ["facial_expression"]),
        body_language=_text(data.get("body_language"), ["body_language"]),
        transition=transition,
        transition_cause=_text(data.get("transition_cause"), ["transition_cause"]))


def intensity_word(intensity: float) -> str:
    if intensity >= 0.85:
        return "overwhelming"
    if intensity >= 0.65:
        return "intense"
    if intensity >= 0.4:
        return "clear"
    if intensity >= 0.2:
        return "mild"
    return "faint"


def prompt_modifiers(state: EmotionState) -> list[str]:
    """Words a narration or illustration prompt should carry for this state.

    ["intense fear", "hints of sadness", "a strong undercurrent of anger", "sudden shift"]:
    the primary emotion qualified by intensity, each secondary emotion by its weight, and the
    kind of transition when it is not gradual.
    """
    words = [f"{intensity_word(state.intensity)} {state.primary}"]
    for name, weight in sorted(state.secondary.items(), key=lambda kv: -kv[1]):
        if weight >= 0.5:
            words.append(f"a strong undercurrent of {name}")
        elif weight >= 0.2:
            words.append(f"hints of {name}")
        elif weight > 0:
            words.append(f"a trace of {name}")
    if state.transition == "sudden":
        words.append("sudden shift")
    elif state.transition == "triggered":
        words.append("shaken by " + (state.transition_cause or "what just happened"))
    return words


@dataclass(frozen=True)
class ArcStep:
    scene_uid: str
    state: EmotionState
    #: change of intensity from the character's previous recorded scene (None for the first)
    delta: float | None
    #: the author said gradual, but intensity jumped by more than half the scale
    abrupt_unexplained: bool


def arc(character_id: str, scene_order: list[str],
        states: list[EmotionState]) -> list[ArcStep]:
    """The character's states in manuscript order, with the jumps between them.

    A jump of more than 0.5 intensity or a change of primary emotion marked "gradual" (or not
    explained at all) is flagged, because readers feel such a jump as a continuity slip.
    """
    position = {uid: i for i, uid in enumerate(scene_order)}
    mine = sorted((s for s in states
                   if s.character_id == character_id and s.scene_uid in position),
                  key=lambda s: position[s.scene_uid])
    steps: list[ArcStep] = []
    previous: EmotionState | None = None
    for state in mine:
        delta = None if previous is None else round(state.intensity - previous.intensity, 3)
        abrupt = (previous is not None and state.transition in ("", "gradual")
                  and (abs(delta or 0) > 0.5
                       or (state.primary != previous.primary and state.transition == "")))
        steps.append(ArcStep(state.scene_uid, state, delta, abrupt))
        previous = state
    return steps
