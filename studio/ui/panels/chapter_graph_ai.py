"""The chapter graph's use of AI providers during a playtest (a mixin of ChapterGraphPanel).

When the author set an embeddings provider, a turn's "similarity of intent and recent text"
uses its vectors (fetched first, on the Qt loop); when they set a text provider, chapters the
engine adapted (tier 2) or gave an alternate path (tier 3) get their instructions rewritten by
it afterwards.  Without providers — or when a provider fails — the offline engine's result
stands and the playtest says so: a turn never fails because a service did.
"""

from __future__ import annotations

import asyncio
import logging

from studio.domain.errors import StudioError
from studio.providers.base import Capability
from studio.services import ai_calls, chapter_ai, playtest
from studio.services import providers as provider_service

log = logging.getLogger(__name__)


def _loop_running() -> bool:
    try:
        return asyncio.get_event_loop().is_running()
    except RuntimeError:
        return False


class ChapterGraphAi:
    """Mixed into ChapterGraphPanel: needs ``document``, ``play``, ``playtest``, ``_run``,
    ``_show_play``, ``_play_error`` and ``_show_message``."""

    _ai_task: asyncio.Task | None = None

    def play_turn(self, text: str, state: dict) -> None:
        if self.play is None:
            return
        self.playtest.set_busy(True, "Playing…")
        if not _loop_running():  # no qasync loop (some tests): the offline engine only
            self._run(playtest.play_turn, self.play.uid, text, state, then=self._show_play,
                      on_error=self._play_error)
            return
        self._ai_task = asyncio.ensure_future(self._play_with_providers(text, state))

    async def _play_with_providers(self, text: str, state: dict) -> None:
        doc = self.document
        if doc is None or self.play is None:
            return
        run_db = doc.runner.future
        uid, notes = self.play.uid, []
        embeddings = None
        try:
            found = await run_db(provider_service.provider_for, doc.db,
                                 Capability.EMBEDDINGS.value)
            if found is not None and found[0].id:
                self.playtest.set_busy(True, f"Asking {found[0].name} for embeddings…")
                texts = await run_db(playtest.embedding_inputs, doc.db, doc.story_id, text)
                result, _ = await ai_calls.call(
                    run_db, doc.db, Capability.EMBEDDINGS, lambda p: p.embed(texts),
                    story_id=doc.story_id, purpose="chapter-divergence", offline_ok=False)
                embeddings = dict(zip(texts, result.vectors))
        except StudioError as exc:
            notes.append(f"Embeddings failed ({exc}); the offline similarity was used.")
        try:
            view = await run_db(playtest.play_turn, doc.db, doc.story_id, uid, text, state,
                                embeddings)
        except Exception as exc:  # noqa: BLE001 — shown to the author like the offline path
            self._play_error(exc)
            return
        if self.document is not doc:
            return
        self._show_play(view)
        await self._rewrite_healed(doc, view, notes)

    async def _rewrite_healed(self, doc, view, notes: list[str]) -> None:
        """Rewrite the instructions of every chapter the offline engine just healed."""
        run_db = doc.runner.future
        targets = [c.get("id") for c in (view.graph or {}).get("chapters") or []
                   if chapter_ai.healing_kind(c.get("instructions") or "")
                   and "(written by " not in (c.get("instructions") or "").split("\n", 1)[0]]
        if targets:
            found = await run_db(provider_service.provider_for, doc.db, Capability.TEXT.value)
            if found is None:
                targets = []
        for chapter_id in targets:
            try:
                self.playtest.set_busy(True, "Rewriting the healed chapter with the text "
                                             "provider…")
                name = await chapter_ai.rewrite(run_db, doc.db, doc.story_id, chapter_id)
                notes.append(f"{name} rewrote the instructions of the healed chapter.")
            except StudioError as exc:
                notes.append(f"The text provider could not rewrite the healed chapter "
                              f"({exc}); the offline adaptation stands.")
                break
        if targets and self.document is doc and self.play is not None:
            view = await run_db(playtest.open_playthrough, doc.db, doc.story_id, self.play.uid)
            self._show_play(view)
        self.playtest.set_busy(False, " ".join(notes))
        if notes:
            self._show_message(" ".join(notes), error=any("fail" in n or "could not" in n
                                                            for n in notes))
