"""Module assist: ask the default text provider for ideas built on what the author wrote.

Suggestions are returned, never saved: the UI shows them beside the author's text and inserts
one (with undo) through ``studio.domain.assist.insert`` and the normal module save.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.domain import assist as rules
from studio.providers.base import Capability
from studio.services import stories
from studio.services.ai_calls import RunDb, call
from studio.store.database import Database


@dataclass(frozen=True)
class Suggestions:
    module: str
    what: str
    items: list[str]
    provider: str
    raw: str


def assist_context(db: Database, story_id: int) -> tuple[str, dict[str, dict[str, Any]]]:
    detail = stories.open_story(db, story_id)
    return detail.fields.title, {k: dict(m.output) for k, m in detail.modules.items()}


async def suggest(run_db: RunDb, db: Database, story_id: int, module: str,
                  modules: dict[str, dict[str, Any]] | None = None,
                  title: str | None = None) -> Suggestions:
    """``modules``/``title``: the editor's current (maybe unsaved) text; else what is saved."""
    if modules is None or title is None:
        saved_title, saved = await run_db(assist_context, db, story_id)
        modules = saved if modules is None else modules
        title = saved_title if title is None else title
    kind = rules.KINDS[module]
    prompt = rules.messages(module, title, modules)
    result, config = await call(
        run_db, db, Capability.TEXT,
        lambda p: p.generate_text(prompt, max_tokens=kind.max_tokens, temperature=0.9),
        story_id=story_id, purpose=f"assist:{module}", offline_ok=False)
    return Suggestions(module, kind.what, rules.parse(result.text, module), config.name,
                       result.text)
