"""Chapter healing with a text model: adaptation (tier 2) and alternate paths (tier 3).

The engine heals offline first — ``domain.divergence.adapt``/``alternate`` write a
deterministic brief (goal, where the story is, who is present, what the player holds, the
author's original aim).  When a text provider is set, the desktop then asks it to turn that
brief into storyteller instructions (``rewrite_messages``) and stores the answer with
``apply_rewrite``: the chapter's previous form is kept as a chapter version (``ai-adapt`` /
``ai-alternate``), as every healing step is, so nothing the engine or the author wrote is lost.
"""

from __future__ import annotations

from typing import Any

from studio.domain import chapters as graph_rules
from studio.domain.divergence import ADAPTED_HEADER, AIM, ALTERNATE_HEADER
from studio.domain.errors import ValidationError
from studio.providers.base import Capability
from studio.services import bible as bible_service
from studio.services.ai_calls import RunDb, call
from studio.services.chapter_graph import check
from studio.store.database import Database
from studio.store.repositories import chapter_graphs as repo
from studio.store.repositories import history

MAX_INSTRUCTIONS = 20000
SYSTEM = ("You are the narrative designer of an interactive story. You rewrite a chapter's "
          "instructions for the storyteller so that the chapter still reaches its goal from "
          "where the story is now. Keep the goal and the author's original aim; do not force "
          "the original setup back. Answer with the instructions only, at most 200 words.")


def _chapter(data: dict[str, Any], chapter_id: str) -> dict[str, Any]:
    found = next((c for c in data.get("chapters") or [] if c.get("id") == chapter_id), None)
    if found is None:
        raise ValidationError("Chapter", [chapter_id], "is no longer in the chapter graph")
    return found


def healing_kind(instructions: str) -> str | None:
    """"adapt" / "alternate" for instructions the offline healer wrote, else None."""
    if instructions.startswith(ADAPTED_HEADER):
        return "adapt"
    if instructions.startswith(ALTERNATE_HEADER):
        return "alternate"
    return None


def rewrite_messages(db: Database, story_id: int, chapter_id: str) -> list[dict[str, str]]:
    with db.session() as s:
        chapter = _chapter(repo.graph(s, story_id), chapter_id)
    style = bible_service.effective_bible(db, story_id).get("style_guide") or {}
    style_text = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in style.items()
                           if isinstance(v, str) and v.strip())
    beats = "\n".join(f"- {b.get('text', '')}" for b in chapter.get("beats") or [])
    kind = healing_kind(chapter.get("instructions") or "") or "adapt"
    task = ("This chapter must be adapted to where the story is now." if kind == "adapt" else
            "A condition of this chapter can no longer be met: write instructions for an "
            "alternate path to the same goal.")
    user = (f"{task}\n\nChapter: {chapter.get('title', '')}\n"
            f"Goal: {chapter.get('summary', '')}\n\n"
            f"The engine's brief:\n{chapter.get('instructions', '')}\n\n"
            + (f"Beats:\n{beats}\n\n" if beats else "")
            + (f"Style guide: {style_text}\n" if style_text else ""))
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user[:12000]}]


def apply_rewrite(db: Database, story_id: int, chapter_id: str, text: str,
                  provider: str) -> None:
    """Store the model's instructions (the brief's original aim kept at the end, so a later
    healing still knows what the author wanted)."""
    text = text.strip()
    if not text:
        raise ValidationError("Chapter", ["instructions"], "the provider's answer was empty")
    with db.session() as s:
        data = repo.graph(s, story_id)
        chapter = _chapter(data, chapter_id)
        before = dict(chapter)
        old = chapter.get("instructions") or ""
        kind = healing_kind(old) or "adapt"
        header = ADAPTED_HEADER if kind == "adapt" else ALTERNATE_HEADER
        aim = old[old.index(AIM):] if AIM in old else ""
        chapter["instructions"] = "\n".join(
            p for p in (f"{header} (written by {provider}).", text, aim) if p
        )[:MAX_INSTRUCTIONS]
        check(data, None)
        graph_rules.ChapterGraph.from_dict(data)
        repo.write_graph(s, story_id, data)
        repo.add_chapter_version(s, story_id, chapter_id,
                                 f"Instructions rewritten by {provider}", f"ai-{kind}",
                                 {"before": before, "after": dict(chapter)})
        history.record(s, story_id, "chapter", chapter_id, "ai-rewrite", {"provider": provider})


async def rewrite(run_db: RunDb, db: Database, story_id: int, chapter_id: str) -> str:
    """Ask the default text provider to rewrite a healed chapter and store the answer;
    returns the provider's name.  Raises NoProvider / ProviderError (nothing stored)."""
    messages = await run_db(rewrite_messages, db, story_id, chapter_id)
    result, config = await call(
        run_db, db, Capability.TEXT, lambda p: p.generate_text(messages, max_tokens=500,
                                                                temperature=0.7),
        story_id=story_id, purpose="chapter-healing", offline_ok=False)
    await run_db(apply_rewrite, db, story_id, chapter_id, result.text, config.name)
    return config.name
