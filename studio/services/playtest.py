"""Playtests of the chapter graph: turns, activation, divergence, self-healing, replay.

A playthrough stores the turns the author played (text and state), so it can be resumed and
replayed on the graph as it is now.  Each turn runs ``domain.divergence.step``; proposals to
*adapt* or take an *alternate path* are applied at once (the chapter's earlier form is kept as a
chapter version), while *relaxing conditions* waits for the author's confirmation
(``apply_relaxation``).  Every step is written to the divergence log.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from studio.domain import bible as bible_rules
from studio.domain import chapters as graph_rules
from studio.domain import divergence as engine
from studio.domain.errors import ValidationError
from studio.domain.similarity import EmbeddingSimilarity, Similarity, TfidfSimilarity
from studio.services import bible as bible_service
from studio.services.chapter_graph import check
from studio.store.database import Database
from studio.store.repositories import chapter_graphs as repo
from studio.store.repositories import history
from studio.store.repositories import manuscript as manuscript_repo
from studio.store.repositories import stories as stories_repo

import json

CREATED_BY = {engine.Tier.RELAX: "auto-relax", engine.Tier.ADAPT: "auto-adapt",
              engine.Tier.ALTERNATE: "alternate"}
MAX_TEXT = 100_000


@dataclass
class PlaythroughView:
    uid: str
    name: str
    state: dict[str, Any]
    progress: dict[str, dict[str, Any]]
    turns: list[dict[str, Any]]
    log: list[dict[str, Any]]
    pending: list[dict[str, Any]] = field(default_factory=list)  # relaxations to confirm
    graph: dict[str, Any] = field(default_factory=dict)
    last: dict[str, Any] = field(default_factory=dict)  # what the last turn did


def _progress_to_json(progress: dict[str, engine.ChapterProgress]) -> dict[str, dict]:
    return {cid: {"activated_turn": p.activated_turn, "completed_turn": p.completed_turn,
                  "completion_method": p.completion_method,
                  "divergence_score": p.divergence_score,
                  "adaptation_count": p.adaptation_count}
            for cid, p in progress.items()}


def _progress_from_json(data: dict[str, dict]) -> dict[str, engine.ChapterProgress]:
    return {cid: engine.ChapterProgress(**p) for cid, p in data.items()}


def _world(db: Database, story_id: int) -> engine.World:
    effective = bible_service.effective_bible(db, story_id)
    chars = bible_rules.characters(effective)
    return engine.World(
        inactive_characters=frozenset(c["id"] for c in chars if not c.get("active", True)),
        character_names={c["id"]: c["name"] for c in chars})


def _state(data: dict[str, Any]) -> engine.StoryState:
    try:
        return engine.StoryState.from_dict(data)
    except (TypeError, ValueError, KeyError) as exc:
        raise ValidationError("Playtest", ["state"], f"is not a story state ({exc})") from None


def _check_turn(turn: dict[str, Any]) -> dict[str, Any]:
    text = turn.get("text", "")
    if not isinstance(text, str):
        raise ValidationError("Playtest", ["text"], "must be text")
    if len(text) > MAX_TEXT:
        raise ValidationError("Playtest", ["text"], f"is longer than {MAX_TEXT:,} characters")
    state = dict(turn.get("state") or {})
    _state(state)
    return {"text": text, "state": state}


def _similarity(graph: graph_rules.ChapterGraph, texts: list[str],
                embeddings: Mapping[str, Sequence[float]] | None = None) -> Similarity:
    corpus = [c.summary for c in graph.chapters] + [c.instructions for c in graph.chapters]
    offline = TfidfSimilarity(corpus + texts)
    return EmbeddingSimilarity(embeddings, offline) if embeddings else offline


def embedding_inputs(db: Database, story_id: int, text: str) -> list[str]:
    """The texts a turn compares (every chapter's summary and the turn's text), for an
    embeddings provider to turn into vectors before ``play_turn``."""
    with db.session() as s:
        graph = graph_rules.ChapterGraph.from_dict(repo.graph(s, story_id))
    texts = [c.summary for c in graph.chapters if c.summary.strip()]
    if text.strip():
        texts.append(text)
    return list(dict.fromkeys(texts))


def _view(s, story_id: int, row, pending=None, last=None) -> PlaythroughView:
    return PlaythroughView(row.uid, row.name, json.loads(row.state_json),
                           json.loads(row.progress_json), json.loads(row.turns_json),
                           repo.log(s, row), pending or [], repo.graph(s, story_id),
                           last or {})


def list_playthroughs(db: Database, story_id: int) -> list[tuple[str, str, int]]:
    with db.session() as s:
        return [(r.uid, r.name, len(json.loads(r.turns_json)))
                for r in repo.playthroughs(s, story_id)]


def start(db: Database, story_id: int, name: str = "",
          state: dict[str, Any] | None = None) -> PlaythroughView:
    state = dict(state or {})
    _state(state)
    with db.session() as s:
        stories_repo.get(s, story_id)
        count = len(repo.playthroughs(s, story_id))
        row = repo.add_playthrough(s, story_id, "play_" + secrets.token_hex(6),
                                   (name or "").strip() or f"Playthrough {count + 1}",
                                   state, {}, [])
        history.record(s, story_id, "playthrough", row.uid, "start", {"name": row.name})
        return _view(s, story_id, row)


def open_playthrough(db: Database, story_id: int, uid: str) -> PlaythroughView:
    with db.session() as s:
        return _view(s, story_id, repo.playthrough(s, story_id, uid))


def _run_turn(s, story_id: int, row, world: engine.World, turn: dict[str, Any],
              number: int, embeddings: Mapping[str, Sequence[float]] | None = None
              ) -> tuple[list[dict], dict]:
    """One turn on the stored graph; applies adapt/alternate, returns relaxations to confirm."""
    data = repo.graph(s, story_id)
    graph = graph_rules.ChapterGraph.from_dict(data)
    progress = _progress_from_json(json.loads(row.progress_json))
    turns = json.loads(row.turns_json)
    state_data = dict(json.loads(row.state_json))
    state_data.update(turn["state"])
    state_data["turn"] = number
    state_data["recent_text"] = turn["text"]
    state = _state(state_data)
    texts = {}
    for cid, p in progress.items():
        if p.activated_turn is not None and p.completed_turn is None:
            texts[cid] = "\n".join(t["text"] for t in turns[p.activated_turn - 1:]
                                   if t.get("text")) + "\n" + turn["text"]
    similarity = _similarity(graph, [t["text"] for t in turns] + [turn["text"]], embeddings)
    outcome = engine.step(graph, progress, state, similarity, world, texts)
    progress = dict(outcome.progress)
    pending: list[dict] = []
    for proposal in outcome.proposals:
        if proposal.tier == engine.Tier.RELAX:
            pending.append({"chapter": proposal.chapter_id, "turn": number,
                            "description": proposal.description,
                            "chapter_data": proposal.new_chapter.as_dict()})
            continue
        before = graph.by_id[proposal.chapter_id].as_dict()
        graph, progress = engine.apply_proposal(graph, progress, proposal)
        new_data = proposal.new_chapter.as_dict()
        target = new_data["id"] if proposal.tier == engine.Tier.ALTERNATE else proposal.chapter_id
        repo.add_chapter_version(s, story_id, target, proposal.description,
                                 CREATED_BY[proposal.tier],
                                 {"before": before, "after": new_data})
    new_graph = graph.as_dict()
    if new_graph != graph_rules.ChapterGraph.from_dict(data).as_dict():
        check(new_graph, None)
        repo.write_graph(s, story_id, new_graph)
    for entry in outcome.log:
        repo.add_log(s, row, {"turn": entry.turn, "chapter": entry.chapter_id,
                              "score": entry.score, "strategy": entry.strategy,
                              "breakdown": list(entry.breakdown), "reason": entry.reason,
                              "change": entry.change})
    turns.append(turn)
    repo.save_playthrough(row, state.as_dict(), _progress_to_json(progress), turns)
    last = {"turn": number, "available": outcome.available, "activated": outcome.activated,
            "completed": outcome.completed,
            "tiers": {p.chapter_id: p.tier.name.lower() for p in outcome.proposals}}
    return pending, last


def play_turn(db: Database, story_id: int, uid: str, text: str,
              state: dict[str, Any] | None = None,
              embeddings: Mapping[str, Sequence[float]] | None = None) -> PlaythroughView:
    """Play the next turn: ``text`` is what happened; ``state`` what changed (location…).
    ``embeddings`` (text → vector, from ``embedding_inputs`` and an embeddings provider):
    the similarity of intent and recent text uses them instead of the offline TF-IDF."""
    turn = _check_turn({"text": text, "state": state or {}})
    world = _world(db, story_id)
    with db.session() as s:
        row = repo.playthrough(s, story_id, uid)
        number = len(json.loads(row.turns_json)) + 1
        pending, last = _run_turn(s, story_id, row, world, turn, number, embeddings)
        last["similarity"] = "embeddings" if embeddings else "offline"
        s.flush()
        return _view(s, story_id, row, pending, last)


def apply_relaxation(db: Database, story_id: int, uid: str,
                     pending: dict[str, Any]) -> PlaythroughView:
    """The author confirmed a proposed relaxation: store it and keep the old form."""
    with db.session() as s:
        row = repo.playthrough(s, story_id, uid)
        data = repo.graph(s, story_id)
        new_chapter = pending["chapter_data"]
        before = next((c for c in data["chapters"] if c["id"] == new_chapter["id"]), None)
        if before is None:
            raise ValidationError("Playtest", ["chapter"], "that chapter is no longer in the graph")
        data["chapters"] = [new_chapter if c["id"] == new_chapter["id"] else c
                            for c in data["chapters"]]
        check(data, None)
        repo.write_graph(s, story_id, data)
        repo.add_chapter_version(s, story_id, new_chapter["id"], pending["description"],
                                 "auto-relax", {"before": before, "after": new_chapter})
        progress = json.loads(row.progress_json)
        entry = progress.setdefault(new_chapter["id"], {"activated_turn": None,
                                                        "completed_turn": None,
                                                        "completion_method": None,
                                                        "divergence_score": None,
                                                        "adaptation_count": 0})
        entry["adaptation_count"] = (entry.get("adaptation_count") or 0) + 1
        row.progress_json = json.dumps(progress, sort_keys=True)
        repo.add_log(s, row, {"turn": pending["turn"], "chapter": new_chapter["id"],
                              "score": entry.get("divergence_score") or 0.0,
                              "strategy": "relax", "breakdown": [],
                              "reason": "the author confirmed the relaxation",
                              "change": pending["description"]})
        s.flush()
        return _view(s, story_id, row)


def complete_chapter(db: Database, story_id: int, uid: str, chapter_id: str) -> PlaythroughView:
    with db.session() as s:
        row = repo.playthrough(s, story_id, uid)
        progress = _progress_from_json(json.loads(row.progress_json))
        turn = len(json.loads(row.turns_json))
        progress = dict(engine.complete(progress, chapter_id, turn))
        row.progress_json = json.dumps(_progress_to_json(progress), sort_keys=True)
        s.flush()
        return _view(s, story_id, row)


def replay(db: Database, story_id: int, uid: str,
           initial_state: dict[str, Any] | None = None) -> PlaythroughView:
    """Play every stored turn again, from the start, on the graph as it is now."""
    world = _world(db, story_id)
    with db.session() as s:
        row = repo.playthrough(s, story_id, uid)
        turns = json.loads(row.turns_json)
        repo.clear_log(s, row)
        repo.save_playthrough(row, dict(initial_state or {}), {}, [])
        pending: list[dict] = []
        last: dict = {}
        for number, turn in enumerate(turns, 1):
            pending, last = _run_turn(s, story_id, row, world, turn, number)
        s.flush()
        return _view(s, story_id, row, pending, last)


def manuscript_turns(db: Database, story_id: int, limit: int = 500) -> list[str]:
    """The manuscript's paragraphs as turn texts (to replay the prose as a playthrough)."""
    with db.session() as s:
        return [text for _seg, _c, _sc, text in manuscript_repo.reading_order(s, story_id)][:limit]
