"""Healed chapters rewritten by a text provider (a local fake OpenAI server over real HTTP),
embeddings from a provider in a turn, and module assist through the service: results stored
only on success, usage recorded, the author's text and the engine's healing never lost."""

from __future__ import annotations

import asyncio
import json

import pytest

from studio.domain.divergence import ADAPTED_HEADER, AIM
from studio.providers import errors as E
from studio.providers.base import Capability
from studio.services import ai_calls, assist, chapter_ai, chapter_graph, playtest, providers
from studio.services import stories

from tests.providers.fakes import OPENAI_KEY, _openai_fake_server, openai_fake  # noqa: F401
from tests.services.test_chapter_graph import court_story, king_chapter


def _use(db, fake, capability="text"):
    config = providers.save_provider(db, "openai", "Fake", dict(fake.config().settings),
                                     key=OPENAI_KEY)
    providers.set_default(db, capability, config.id)
    return config


def _adapted(db):
    """A story whose king chapter the offline engine adapted (tier 2)."""
    story = court_story(db)
    chapter = king_chapter(db, story)
    play = playtest.start(db, story.id, "Run", {"location": "throne room",
                                                "characters": ["char_king"],
                                                "inventory": ["royal decree"]})
    playtest.play_turn(db, story.id, play.uid, "The hero kneels before the king.")
    graph = chapter_graph.load(db, story.id).graph
    data = dict(graph["chapters"][0])
    data["instructions"] = f"{ADAPTED_HEADER} (turn 2).\nGoal: x\n{AIM}Bring the decree.”"
    chapter_graph.update_chapter(db, story.id, data)
    return story, chapter


def test_a_healed_chapter_is_rewritten_and_its_old_form_kept(db, openai_fake):
    story, chapter = _adapted(db)
    _use(db, openai_fake)
    openai_fake.configure(reply="Let the hero find the king in the stables; the decree is "
                                "granted there.")
    name = asyncio.run(chapter_ai.rewrite(ai_calls.inline, db, story.id, chapter["id"]))
    assert name == "Fake"
    sent = openai_fake.requests[-1]
    assert sent.path == "/v1/chat/completions"
    assert "Bring the decree" in json.dumps(sent.json)  # the brief went to the model
    assert OPENAI_KEY not in json.dumps(sent.json)
    new = chapter_graph.load(db, story.id).graph["chapters"][0]["instructions"]
    assert new.startswith(f"{ADAPTED_HEADER} (written by Fake).")
    assert "in the stables" in new and new.endswith("Bring the decree.”")
    versions = chapter_graph.chapter_versions(db, story.id, chapter["id"])
    made = [v for v in versions if v["created_by"] == "ai-adapt"]
    assert len(made) == 1 and "Bring the decree" in json.dumps(made[0])
    usage = providers.usage_summary(db, story.id)
    assert usage[0].calls == 1 and usage[0].input_tokens > 0


def test_a_failing_provider_leaves_the_offline_adaptation(db, openai_fake):
    story, chapter = _adapted(db)
    _use(db, openai_fake)
    before = chapter_graph.load(db, story.id).graph
    openai_fake.fail_next(500, {"error": {"message": "overloaded", "type": "server_error"}})
    with pytest.raises(E.ServiceFault, match="overloaded"):
        asyncio.run(chapter_ai.rewrite(ai_calls.inline, db, story.id, chapter["id"]))
    assert chapter_graph.load(db, story.id).graph == before
    assert providers.usage_summary(db, story.id) == []


def test_no_text_provider_says_how_to_add_one(db):
    story, chapter = _adapted(db)
    with pytest.raises(ai_calls.NoProvider, match="Settings"):
        asyncio.run(chapter_ai.rewrite(ai_calls.inline, db, story.id, chapter["id"]))


def test_turn_embeddings_from_the_provider(db, openai_fake):
    story = court_story(db)
    king_chapter(db, story)
    _use(db, openai_fake, "embeddings")
    texts = playtest.embedding_inputs(db, story.id, "Horses stamp in the straw.")
    result, config = asyncio.run(ai_calls.call(
        ai_calls.inline, db, Capability.EMBEDDINGS, lambda p: p.embed(texts),
        story_id=story.id, purpose="chapter-divergence", offline_ok=False))
    assert len(result.vectors) == len(texts) and config.name == "Fake"
    assert openai_fake.requests[-1].path == "/v1/embeddings"
    play = playtest.start(db, story.id, "Run", {})
    play = playtest.play_turn(db, story.id, play.uid, "Horses stamp in the straw.", {},
                              dict(zip(texts, result.vectors)))
    assert play.last["similarity"] == "embeddings"
    assert providers.usage_summary(db, story.id)[0].capability == "embeddings"


def test_assist_suggests_from_the_authors_text(db, openai_fake):
    story = stories.create_story(db, "Gull Rock").id
    stories.save_module(db, story, "idea_spark", "", {"premise": "A keeper's daughter finds "
                                                      "a ledger of the drowned."})
    _use(db, openai_fake)
    openai_fake.configure(reply="1. When the ledger surfaces, Wren must read it.\n"
                                "2. When the tide turns, Wren must choose.")
    found = asyncio.run(assist.suggest(ai_calls.inline, db, story, "idea_spark"))
    assert found.items == ["When the ledger surfaces, Wren must read it.",
                           "When the tide turns, Wren must choose."]
    assert "ledger of the drowned" in json.dumps(openai_fake.requests[-1].json)
    detail = stories.open_story(db, story)
    assert detail.modules["idea_spark"].output.get("logline", "") == ""  # nothing written
    assert providers.usage_summary(db, story)[0].calls == 1
