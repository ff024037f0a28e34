"""The story's state at a playtest turn, the scene bible's facts, and whether a chapter's
trigger conditions hold — with each verdict in words for the score's breakdown.

Split from ``divergence`` (which scores and heals) so that module stays readable; the engine
re-exports these names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from studio.domain.chapters import Chapter, Condition, normalise

_EMPTY: Mapping[str, str] = MappingProxyType({})

# --- the story's state and the world's facts -----------------------------------------------

@dataclass(frozen=True)
class StoryState:
    """Where the story is at a turn.  ``characters`` holds scene-bible ids (``char_…``);
    places, items and flag values are compared ignoring case and spacing."""

    location: str = ""
    inventory: frozenset[str] = frozenset()
    characters: frozenset[str] = frozenset()
    turn: int = 0
    recent_text: str = ""
    flags: Mapping[str, str] = field(default_factory=lambda: _EMPTY, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "inventory", frozenset(self.inventory))
        object.__setattr__(self, "characters", frozenset(self.characters))
        object.__setattr__(self, "flags", MappingProxyType(dict(self.flags)))

    def as_dict(self) -> dict[str, Any]:
        return {"location": self.location, "inventory": sorted(self.inventory),
                "characters": sorted(self.characters), "turn": self.turn,
                "recent_text": self.recent_text, "flags": dict(self.flags)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "StoryState":
        return cls(location=d.get("location", ""), inventory=frozenset(d.get("inventory", ())),
                   characters=frozenset(d.get("characters", ())), turn=int(d.get("turn", 0)),
                   recent_text=d.get("recent_text", ""), flags=dict(d.get("flags") or {}))


@dataclass(frozen=True)
class World:
    """Facts from the scene bible the engine needs: who is gone for good, and people's names."""

    inactive_characters: frozenset[str] = frozenset()
    character_names: Mapping[str, str] = field(default_factory=lambda: _EMPTY, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "inactive_characters", frozenset(self.inactive_characters))
        object.__setattr__(self, "character_names", MappingProxyType(dict(self.character_names)))

    @classmethod
    def from_bible(cls, bible: Mapping[str, Any]) -> "World":
        chars = bible.get("characters") or []
        return cls(frozenset(c["id"] for c in chars if not c.get("active", True)),
                   {c["id"]: c["name"] for c in chars})

    def name(self, char_id: str) -> str:
        return self.character_names.get(char_id, char_id)


class _Seen:
    """The state normalised once per turn, so checking a condition is a set lookup."""

    __slots__ = ("location", "items", "characters", "flags")

    def __init__(self, state: StoryState):
        self.location = normalise(state.location)
        self.items = frozenset(normalise(i) for i in state.inventory)
        self.characters = state.characters
        self.flags = {normalise(k): normalise(v) for k, v in state.flags.items()}


def _met(cond: Condition, seen: _Seen) -> bool:
    kind = cond.kind
    if kind == "location":
        return seen.location in cond.accepted
    if kind == "item":
        return not cond.accepted.isdisjoint(seen.items)
    if kind == "character":
        return not cond.accepted.isdisjoint(seen.characters)
    if kind == "key":
        return seen.flags.get(normalise(cond.key)) in cond.accepted
    return False


# --- conditions and the score --------------------------------------------------------------




@dataclass(frozen=True)
class ConditionResult:
    condition: Condition
    met: bool
    impossible: bool  # can never be met again: every character it accepts is gone


def _evaluate(chapter: Chapter, seen: _Seen, world: World) -> list[ConditionResult]:
    out = []
    for c in chapter.triggers:
        met = _met(c, seen)
        impossible = (not met and c.kind == "character"
                      and all(o in world.inactive_characters for o in c.options))
        out.append(ConditionResult(c, met, impossible))
    return out


def evaluate(chapter: Chapter, state: StoryState, world: World) -> list[ConditionResult]:
    """The chapter's trigger conditions against the state, in the chapter's order.  A condition
    is met when the state has its value or one of its alternatives."""
    return _evaluate(chapter, _Seen(state), world)


def _num(x: float) -> str:
    """3 decimals at most, no trailing zeros: 0.667, 0.12, 0."""
    return f"{round(x, 3):.3f}".rstrip("0").rstrip(".")


def _quoted(values: Any) -> str:
    return ", ".join(f"“{v}”" for v in values)


def _held(state: StoryState) -> list[str]:
    return sorted(state.inventory, key=lambda i: (i.casefold(), i))


def _present(state: StoryState, world: World) -> list[str]:
    return sorted((world.name(c) for c in state.characters), key=lambda n: (n.casefold(), n))


def _flag(state: StoryState, key: str) -> str | None:
    """A flag's value; flag names, like their values, ignore case and spacing."""
    if key in state.flags:
        return state.flags[key]
    want = normalise(key)
    return next((v for k, v in state.flags.items() if normalise(k) == want), None)


def _wanted(cond: Condition, world: World) -> str:
    names = [world.name(o) for o in cond.options] if cond.kind == "character" \
        else [f"“{o}”" for o in cond.options]
    return names[0] + (f" (or {' or '.join(names[1:])})" if len(names) > 1 else "")


def _short(cond: Condition, world: World) -> str:
    """A condition in a few words, for reasons and change descriptions."""
    if cond.kind == "key":
        return f"key {cond.key} = {_wanted(cond, world)}"
    return f"{cond.kind} {_wanted(cond, world)}"


def describe(result: ConditionResult, state: StoryState, world: World) -> str:
    """One breakdown line: what the condition wants, what the story has, and the verdict."""
    c = result.condition
    kind = c.kind + (" (critical)" if c.critical else "")
    verdict = "met" if result.met else "impossible" if result.impossible else "not met"
    if c.kind == "location":
        at = f"story is at “{state.location}”" if state.location.strip() \
            else "story is at no named place"
        return f"{kind}: needs {_wanted(c, world)}, {at} — {verdict}"
    if c.kind == "item":
        held = _held(state)
        has = f"player holds {_quoted(held)}" if held else "player holds nothing"
        return f"{kind}: needs {_wanted(c, world)}, {has} — {verdict}"
    if c.kind == "character":
        if result.impossible:
            return f"{kind}: {_wanted(c, world)} is no longer in the story — {verdict}"
        here = "present" if result.met else "not present"
        return f"{kind}: {_wanted(c, world)} {here} — {verdict}"
    value = _flag(state, c.key)
    has = f"flag is “{value}”" if value is not None else "flag is not set"
    return f"{kind}: needs {c.key} = {_wanted(c, world)}, {has} — {verdict}"
