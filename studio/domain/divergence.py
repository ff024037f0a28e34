"""The playtest engine: which chapter starts, how far the story has strayed, how to heal it.

Each turn (``step``): the *available* chapters are those whose prerequisites are completed; the
first by number whose trigger conditions all hold *activates* (one per turn, so the story never
jumps two chapters at once).  Every active chapter gets a *divergence score* in 0..1 — 0.7 × the
share of its trigger conditions that no longer hold + 0.3 × how far the recent text is from the
chapter's summary — with a breakdown in words, because an author told "0.73" must see why.  The
score picks a *tier* of self-healing: proceed; relax the conditions (accept what the player did
instead); adapt the chapter to the current state; or, when a critical condition can never hold
again (a character who must be present has died), an alternate chapter to the same goal.  An
author can forbid divergence for a chapter: it then holds.  The engine only *proposes*
(``apply_proposal`` is the caller's decision); every function is pure, inputs are never mutated.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, replace
from types import MappingProxyType
from typing import Any, Mapping

from studio.domain.chapters import (Beat, Chapter, ChapterGraph, Condition, new_chapter_id,
                                    next_number, normalise)
from studio.domain.similarity import Similarity, content_words, covered

UNMET_WEIGHT = 0.7
SIMILARITY_WEIGHT = 0.3
ADAPT_ABOVE = 0.7       # scores above this are too far for relaxing to help
KEY_BEAT_PRIORITY = 2   # beats of priority 1–2 must happen for a chapter to complete
BEAT_HIT_SHARE = 0.6    # share of a beat's content words the text must contain
MAX_ALTERNATIVES = 50   # the schema's limit
OPTIONAL = "(optional) "
AIM = "Original aim: “"
ADAPTED_HEADER = "Adapted to where the story is now"
ALTERNATE_HEADER = "Another way to the narrative goal"
ANOTHER_WAY = " — another way"

_EMPTY: Mapping[str, str] = MappingProxyType({})


from studio.domain.story_state import (  # noqa: E402,F401  (re-exported)
    ConditionResult, StoryState, World, _Seen, _evaluate, _flag, _held, _met, _num, _present,
    _quoted, _short, describe, evaluate,
)


@dataclass(frozen=True)
class Divergence:
    """How far the story is from a chapter: ``score`` in 0..1 (3 decimals), the share of
    trigger conditions not met, the similarity of intent and recent text (None when there was
    nothing to compare) and the arithmetic in words."""

    score: float
    unmet_share: float
    similarity: float | None
    breakdown: list[str]


def _divergence(chapter: Chapter, state: StoryState, results: list[ConditionResult],
                similarity: Similarity, world: World) -> Divergence:
    lines = [describe(r, state, world) for r in results]
    n = len(results)
    unmet = sum(1 for r in results if not r.met)
    share = unmet / n if n else 0.0
    if n:
        lines.append(f"{unmet} of {n} conditions not met → {_num(UNMET_WEIGHT)} × {_num(share)}"
                     f" = {_num(UNMET_WEIGHT * share)}")
    else:
        lines.append("no trigger conditions → 0")
    sim: float | None = None
    if not chapter.summary.strip():
        lines.append("no summary to compare with the story → 0")
        drift = 0.0
    elif not state.recent_text.strip():
        lines.append("no recent story text to compare with the summary → 0")
        drift = 0.0
    else:
        sim = max(0.0, min(1.0, float(similarity.similarity(chapter.summary, state.recent_text))))
        drift = SIMILARITY_WEIGHT * (1.0 - sim)
        lines.append(f"similarity of intent and recent text {_num(sim)} → "
                     f"{_num(SIMILARITY_WEIGHT)} × {_num(1.0 - sim)} = {_num(drift)}")
    score = round(UNMET_WEIGHT * share + drift, 3)
    lines.append(f"score {_num(score)}")
    return Divergence(score, share, sim, lines)


def divergence(chapter: Chapter, state: StoryState, similarity: Similarity,
               world: World) -> Divergence:
    """score = 0.7 × share of trigger conditions not met (0 without conditions)
    + 0.3 × (1 − similarity of the chapter's summary and the recent text) (0 without a summary
    or without recent text: no evidence of drift is not drift)."""
    return _divergence(chapter, state, evaluate(chapter, state, world), similarity, world)


# --- tiers of self-healing -----------------------------------------------------------------

class Tier(enum.Enum):
    PROCEED = "proceed"      # on course
    RELAX = "relax"          # accept what the player did instead
    ADAPT = "adapt"          # rewrite the chapter for where the story is
    ALTERNATE = "alternate"  # a critical condition is gone for good: another way to the goal
    HOLD = "hold"            # the author forbids divergence here: wait


def choose_tier(chapter: Chapter, divergence: Divergence,
                results: list[ConditionResult]) -> Tier:
    """Impossible critical condition → ALTERNATE (whatever the score: waiting cannot help);
    score below the chapter's threshold → PROCEED; divergence not allowed → HOLD;
    score ≤ 0.7 → RELAX; above → ADAPT."""
    if any(r.impossible and r.condition.critical for r in results):
        return Tier.ALTERNATE
    if divergence.score < chapter.threshold:
        return Tier.PROCEED
    if not chapter.allow_divergence:
        return Tier.HOLD
    return Tier.RELAX if divergence.score <= ADAPT_ABOVE else Tier.ADAPT


def _widen(cond: Condition, values: list[str]) -> Condition:
    have = set(cond.accepted)
    extra: list[str] = []
    for v in values:
        if len(v) <= 500 and normalise(v) not in have:
            have.add(normalise(v))
            extra.append(v)
    room = MAX_ALTERNATIVES - len(cond.alternatives)
    return replace(cond, alternatives=cond.alternatives + tuple(extra[:max(room, 0)]))


def relax(chapter: Chapter, state: StoryState, results: list[ConditionResult],
          world: World | None = None) -> tuple[Chapter, str]:
    """Accept what the player did instead of what the chapter expected.

    Critical conditions are kept untouched.  For each unmet one: an item condition offers the
    items the player now holds as alternatives; a location condition accepts the current
    place; a character condition is dropped; a key condition accepts the flag's current value
    (dropped when the flag is not set).  An item or location condition with nothing to offer
    (empty hands, no named place) is dropped.  Returns the chapter unchanged and "" when there
    is nothing to relax.
    """
    world = world or World()
    triggers: list[Condition] = []
    changes: list[str] = []
    for r in results:
        c = r.condition
        if c.critical or r.met:
            triggers.append(c)
            continue
        offer: list[str] = []
        if c.kind == "item":
            offer = _held(state)
        elif c.kind == "location" and state.location.strip():
            offer = [state.location.strip()]
        elif c.kind == "key" and _flag(state, c.key) is not None:
            offer = [_flag(state, c.key) or ""]
        wider = _widen(c, offer) if offer else c
        added = _quoted(wider.alternatives[len(c.alternatives):])
        if wider == c:
            changes.append(f"{_short(c, world)}: dropped")
        elif c.kind == "item":
            triggers.append(wider)
            changes.append(f"item “{c.value}”: offer items the player now holds as "
                           f"alternatives ({added})")
        else:
            triggers.append(wider)
            what = f"key {c.key} = “{c.value}”" if c.kind == "key" else f"{c.kind} “{c.value}”"
            changes.append(f"{what}: accept {added} as well")
    if not changes:
        return chapter, ""
    kept = sum(1 for c in triggers if c.critical)
    text = "Relaxed: " + "; ".join(changes) + "."
    if kept:
        text += (" 1 critical condition kept as it is." if kept == 1
                 else f" {kept} critical conditions kept as they are.")
    return replace(chapter, triggers=tuple(triggers)), text


def _situation(state: StoryState, world: World) -> tuple[str, str, str]:
    where = f"“{state.location.strip()}”" if state.location.strip() else "no named place"
    return (where, ", ".join(_present(state, world)) or "no known characters",
            _quoted(_held(state)) or "nothing")


def _brief(chapter: Chapter, state: StoryState, world: World, first: str,
           *middle: str) -> str:
    """Instructions for a healed chapter: a first line, the goal, the situation, then the
    author's original instructions quoted as the aim."""
    where, present, held = _situation(state, world)
    aim = _original_aim(chapter.instructions)
    lines = [first, f"Goal: {chapter.summary.strip() or chapter.title}",
             f"The story is at {where}. Present: {present}. The player holds {held}.",
             *middle, *([f"{AIM}{aim}”"] if aim else [])]
    return "\n".join(lines)[:20000]


def _original_aim(instructions: str) -> str:
    """The author's own instructions, even when the chapter was adapted before (no nesting)."""
    if instructions.startswith((ADAPTED_HEADER, ALTERNATE_HEADER)) and AIM in instructions:
        return instructions.split(AIM, 1)[1].rstrip().removesuffix("”")
    return instructions.strip()


def adapt(chapter: Chapter, state: StoryState, world: World) -> tuple[Chapter, str]:
    """Rewrite the chapter for where the story is (an offline template, deterministic).

    The goal (summary) stays; the instructions say where the story is, who is present and
    what the player holds, and quote the original instructions as the aim.  Beats of priority
    1–2 stay; the others become optional.  Critical conditions stay, unmet others are dropped.
    """
    results = evaluate(chapter, state, world)
    where, present, held = _situation(state, world)
    instructions = _brief(chapter, state, world, f"{ADAPTED_HEADER} (turn {state.turn}).",
                          "Steer from here toward the goal; do not force the original setup "
                          "back into the story.")
    beats: list[Beat] = []
    softened = 0
    for b in chapter.beats:
        if b.priority <= KEY_BEAT_PRIORITY:
            beats.append(b)
        else:
            text = b.text if b.text.startswith(OPTIONAL) else OPTIONAL + b.text
            softened += (text, 5) != (b.text, b.priority)
            beats.append(Beat(text[:2000], 5))
    dropped = [r.condition for r in results if not r.met and not r.condition.critical]
    triggers = tuple(r.condition for r in results if r.met or r.condition.critical)
    new = replace(chapter, instructions=instructions, beats=tuple(beats), triggers=triggers)
    text = f"Instructions rewritten for the current state (at {where}; present: {present}; " \
           f"holding {held})"
    if softened:
        text += f"; {softened} beat{'s' if softened > 1 else ''} made optional"
    if dropped:
        text += "; dropped unmet conditions: " + ", ".join(_short(c, world) for c in dropped)
    return new, text + "."


def alternate(chapter: Chapter, graph: ChapterGraph, state: StoryState,
              world: World) -> tuple[Chapter, str]:
    """A new chapter that pursues the same goal from the current state: same prerequisites and
    summary, the beats copied, only the conditions that hold now, ``alternate_of`` the original
    (completing it completes the original)."""
    results = evaluate(chapter, state, world)
    gone = ", ".join(_short(r.condition, world) for r in results if r.impossible)
    instructions = _brief(chapter, state, world, f"{ALTERNATE_HEADER} of chapter "
                          f"{chapter.label()}, from where the story is now.",
                          *([f"No longer possible: {gone}."] if gone else []))
    pos = chapter.position
    new = Chapter(
        id=new_chapter_id(graph.by_id), number=next_number(graph),
        title=chapter.title[:500 - len(ANOTHER_WAY)] + ANOTHER_WAY,
        description=f"An alternate path for chapter {chapter.label()}.",
        summary=chapter.summary, status="draft", prerequisites=chapter.prerequisites,
        triggers=tuple(r.condition for r in results if r.met),
        instructions=instructions, beats=chapter.beats,
        allow_divergence=chapter.allow_divergence, threshold=chapter.threshold,
        source="manual", alternate_of=chapter.id,
        position=None if pos is None else (pos[0], pos[1] + 110.0))
    kept = len(new.triggers)
    text = f"New chapter {new.label()} as an alternate path"
    if gone:
        text += f" because {gone} can no longer be met"
    text += ("; it keeps the 1 condition that holds now." if kept == 1
             else f"; it keeps the {kept} conditions that hold now.")
    return new, text


# --- the engine ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ChapterProgress:
    activated_turn: int | None = None
    completed_turn: int | None = None
    completion_method: str | None = None  # natural | adapted | diverged-alternate | manual…
    divergence_score: float | None = None
    adaptation_count: int = 0

    @property
    def active(self) -> bool:
        return self.activated_turn is not None and self.completed_turn is None

    @property
    def completed(self) -> bool:
        return self.completed_turn is not None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "ChapterProgress":
        return cls(**{k: d[k] for k in asdict(cls()) if k in d})


@dataclass(frozen=True)
class Proposal:
    chapter_id: str
    tier: Tier
    divergence: Divergence
    new_chapter: Chapter | None
    description: str


@dataclass(frozen=True)
class LogEntry:
    turn: int
    chapter_id: str
    score: float
    breakdown: list[str]
    reason: str
    strategy: str
    change: str


@dataclass
class TurnOutcome:
    """``available``: chapters that could start but did not (this turn's activation is in
    ``activated``); ``completed``: chapters completed by this step, including originals
    completed by their alternate; ``progress``: the new progress of every chapter."""

    available: list[str]
    activated: list[str]
    completed: list[str]
    proposals: list[Proposal]
    log: list[LogEntry]
    progress: dict[str, ChapterProgress]


def _propagate_alternates(graph: ChapterGraph, prog: dict[str, ChapterProgress]) -> list[str]:
    """An alternate's completion completes the chapter it stands in for (transitively)."""
    done: list[str] = []
    changed = bool(graph.alternates)
    while changed:
        changed = False
        for original, alts in graph.alternates.items():
            p = prog.get(original, ChapterProgress())
            if p.completed:
                continue
            finished = [prog[a].completed_turn for a in alts if a in prog and prog[a].completed]
            if finished:
                prog[original] = replace(p, completed_turn=min(finished),  # type: ignore[type-var]
                                         completion_method="diverged-alternate")
                done.append(original)
                changed = True
    return done


def _reason(chapter: Chapter, div: Divergence, results: list[ConditionResult], tier: Tier,
            world: World) -> str:
    if tier is Tier.ALTERNATE:
        gone = [_short(r.condition, world) for r in results
                if r.impossible and r.condition.critical]
        return "a critical condition can never be met again: " + ", ".join(gone) + \
               " is no longer in the story"
    if tier is Tier.PROCEED:
        return f"on course: score {_num(div.score)} is below the threshold " \
               f"{_num(chapter.threshold)}"
    unmet = [r.condition for r in results if not r.met]
    drift = SIMILARITY_WEIGHT * (1 - div.similarity) if div.similarity is not None else 0.0
    if unmet and UNMET_WEIGHT * div.unmet_share >= drift:
        cause = f"{len(unmet)} of {len(results)} trigger conditions not met (" + \
                ", ".join(_short(c, world) for c in unmet) + ")"
    else:
        cause = "the story has drifted from the chapter's intent (similarity " \
                f"{_num(div.similarity or 0.0)})"
    return f"divergence is not allowed here, holding: {cause}" if tier is Tier.HOLD else cause


def beat_hit(beat: Beat, text_words: frozenset[str]) -> bool:
    """A beat happened when ≥ 60 % of its content words appear in the text."""
    return covered(beat.text, text_words, BEAT_HIT_SHARE)


def step(graph: ChapterGraph, progress: Mapping[str, ChapterProgress], state: StoryState,
         similarity: Similarity, world: World,
         texts_since_activation: Mapping[str, str] | None = None) -> TurnOutcome:
    """One turn (``state.turn``): activate, score, propose, log, complete.

    ``texts_since_activation`` maps an active chapter's id to the story text written since it
    activated (for its beats).  Proposals of chapters that complete in this same turn are
    dropped: they would heal a chapter that is over.
    """
    turn = state.turn
    by_id = graph.by_id
    prog = dict(progress)
    completed_now = _propagate_alternates(graph, prog)
    seen = _Seen(state)
    done = {cid for cid, p in prog.items() if p.completed_turn is not None}

    # 1–2: available chapters, and the first of them (by number) whose triggers all hold.
    available: list[str] = []
    activated: list[str] = []
    for ch in graph.ordered():
        p = prog.get(ch.id)
        if p is not None and (p.activated_turn is not None or p.completed_turn is not None):
            continue
        if ch.alternate_of and ch.alternate_of in done:
            continue
        for pre in ch.prerequisites:
            if pre not in done:
                break
        else:
            if not activated and all(_met(c, seen) for c in ch.triggers):
                prog[ch.id] = replace(p or ChapterProgress(), activated_turn=turn)
                activated.append(ch.id)
            else:
                available.append(ch.id)

    # 3–5: score every active chapter, choose a tier, propose, log.
    active = sorted((by_id[cid] for cid, p in prog.items() if p.active and cid in by_id),
                    key=lambda c: (c.number, c.id))
    proposals: list[Proposal] = []
    log: list[LogEntry] = []
    scores: dict[str, float] = {}
    numbering = graph  # alternates proposed in one turn get distinct ids and numbers
    for ch in active:
        results = _evaluate(ch, seen, world)
        div = _divergence(ch, state, results, similarity, world)
        scores[ch.id] = div.score
        prog[ch.id] = replace(prog[ch.id], divergence_score=div.score)
        tier = choose_tier(ch, div, results)
        new: Chapter | None = None
        change = ""
        if tier is Tier.ALTERNATE and graph.alternates.get(ch.id):
            alt = by_id[graph.alternates[ch.id][-1]]
            change = f"waiting on the alternate path {alt.label()}"
        elif tier is Tier.RELAX:
            new, change = relax(ch, state, results, world)
            if not change:
                new, change = None, ""
        elif tier is Tier.ADAPT:
            new, change = adapt(ch, state, world)
        elif tier is Tier.ALTERNATE:
            new, change = alternate(ch, numbering, state, world)
            numbering = numbering.with_chapter(new)
        if new is not None:
            proposals.append(Proposal(ch.id, tier, div, new, change))
        log.append(LogEntry(turn, ch.id, div.score, div.breakdown,
                            _reason(ch, div, results, tier, world), tier.name.lower(), change))

    # 6: natural completion — the key beats happened, or (without key beats) the story is on
    # course at a later turn than the one the chapter started in.
    texts = texts_since_activation or {}
    words_of: dict[str, frozenset[str]] = {}
    for ch in active:
        p = prog[ch.id]
        key_beats = [b for b in ch.beats if b.priority <= KEY_BEAT_PRIORITY]
        if key_beats:
            text = texts.get(ch.id, "")
            if text not in words_of:
                words_of[text] = content_words(text)
            finished = all(beat_hit(b, words_of[text]) for b in key_beats)
        else:
            finished = turn > (p.activated_turn or 0) and scores[ch.id] < ch.threshold
        if finished:
            prog[ch.id] = replace(p, completed_turn=turn, completion_method="adapted"
                                  if p.adaptation_count else "natural")
            completed_now.append(ch.id)
    completed_now += _propagate_alternates(graph, prog)
    over = set(completed_now)
    proposals = [pr for pr in proposals if pr.chapter_id not in over]
    return TurnOutcome(available, activated, completed_now, proposals, log, prog)


def apply_proposal(graph: ChapterGraph, progress: Mapping[str, ChapterProgress],
                   proposal: Proposal) -> tuple[ChapterGraph, dict[str, ChapterProgress]]:
    """Accept a proposal: RELAX / ADAPT replace the chapter (its adaptation count goes up, so a
    completion is recorded as "adapted"); ALTERNATE adds the new chapter to the graph."""
    prog = dict(progress)
    new = proposal.new_chapter
    if new is None:
        return graph, prog
    if proposal.tier in (Tier.RELAX, Tier.ADAPT):
        p = prog.get(proposal.chapter_id, ChapterProgress())
        prog[proposal.chapter_id] = replace(p, adaptation_count=p.adaptation_count + 1)
    return graph.with_chapter(new), prog


def complete(progress: Mapping[str, ChapterProgress], chapter_id: str, turn: int,
             method: str = "natural") -> dict[str, ChapterProgress]:
    """Mark a chapter completed by hand (an author's or a game master's decision).  If it is an
    alternate, the next ``step`` completes its original too."""
    prog = dict(progress)
    p = prog.get(chapter_id, ChapterProgress())
    prog[chapter_id] = replace(p, completed_turn=turn, completion_method=method)
    return prog


__all__ = ["ChapterProgress", "ConditionResult", "Divergence", "LogEntry", "Proposal",
           "StoryState", "Tier", "TurnOutcome", "World", "adapt", "alternate", "apply_proposal",
           "beat_hit", "choose_tier", "complete", "describe", "divergence", "evaluate", "relax",
           "step"]
