"""Module assist rules: prompts from the author's own text, suggestions parsed from a
model's answer, and insertion that never overwrites what the author wrote."""

from __future__ import annotations

import pytest

from studio.domain import assist
from studio.domain.errors import ValidationError
from studio.domain.modules import MODULE_KEYS
from studio.domain.similarity import EmbeddingSimilarity, TfidfSimilarity

MODULES = {
    "idea_spark": {"premise": "A lighthouse keeper's daughter finds a ledger of the drowned.",
                   "logline": "", "themes": ["grief", "duty"]},
    "character_forge": {"characters": [{"name": "Wren", "flaw": ""},
                                       {"name": "Hale", "flaw": "pride"}]},
}


def test_every_module_has_an_assist_and_the_prompt_carries_the_authors_text():
    assert set(assist.KINDS) == set(MODULE_KEYS)
    for module in MODULE_KEYS:
        msgs = assist.messages(module, "Gull Rock", MODULES)
        assert msgs[0]["role"] == "system"
        assert "ledger of the drowned" in msgs[1]["content"]
        assert "Gull Rock" in msgs[1]["content"]
        assert "Wren" in msgs[1]["content"]
    with pytest.raises(ValidationError):
        assist.messages("nope", "", {})
    assert not assist.has_material({}) and assist.has_material(MODULES)


def test_context_is_capped():
    long = {"idea_spark": {"premise": "word " * 5000}}
    assert len(assist.context_text("T", long)) == assist.MAX_CONTEXT


def test_parse_numbered_bulleted_and_passages():
    text = "Here you go:\n1. When a ledger surfaces, Wren must read it.\n2) Second one\n" \
           "- third\n\n1. When a ledger surfaces, Wren must read it."
    assert assist.parse(text, "idea_spark") == [
        "When a ledger surfaces, Wren must read it.", "Second one", "third"]
    assert assist.parse("just one line", "world_seed") == ["just one line"]
    assert assist.parse("", "world_seed") == []
    passages = "The lamp was dark.\nShe climbed.\n***\nGulls argued on the rail."
    assert assist.parse(passages, "wordsmith_lab") == ["The lamp was dark.\nShe climbed.",
                                                       "Gulls argued on the rail."]
    many = "\n".join(f"{i}. idea {i}" for i in range(1, 20))
    assert len(assist.parse(many, "world_seed")) == assist.MAX_SUGGESTIONS


def test_insert_never_overwrites():
    out = assist.insert("idea_spark", MODULES["idea_spark"], "When X, Y must Z.")
    assert out["logline"] == "When X, Y must Z."
    again = assist.insert("idea_spark", out, "Another.")
    assert again["logline"] == "When X, Y must Z."
    assert again["premise"].startswith(MODULES["idea_spark"]["premise"])
    assert again["premise"].endswith("Another logline: Another.")
    assert MODULES["idea_spark"]["logline"] == ""  # the input is not mutated

    chars = assist.insert("character_forge", MODULES["character_forge"], "Wren: she lies")
    assert chars["characters"][0]["flaw"] == "she lies"
    hale = assist.insert("character_forge", chars, "Hale: cowardice")
    assert hale["characters"][1]["flaw"] == "pride"
    assert "cowardice" in hale["characters"][1]["notes"]
    new = assist.insert("character_forge", hale, "Mara: envy")
    assert new["characters"][-1]["name"] == "Mara"

    rules = assist.insert("world_seed", {"world_rules": ["Salt binds"]}, "Iron lies")
    assert rules["world_rules"] == ["Salt binds", "Iron lies"]
    plot = assist.insert("plot_skeleton", {"acts": []}, "The ledger: Wren reads it.")
    assert plot["acts"][0]["beats"] == [{"name": "The ledger", "summary": "Wren reads it."}]
    lab = assist.insert("wordsmith_lab", {"sample_passage": "Mine."}, "Theirs.")
    assert lab["sample_passage"] == "Mine.\n\nTheirs."


def test_embedding_similarity_uses_vectors_and_falls_back():
    offline = TfidfSimilarity(["the king grants the decree", "horses in the stable"])
    sim = EmbeddingSimilarity({"a": [1.0, 0.0], "b": [1.0, 0.0], "c": [0.0, 1.0],
                               "d": [-1.0, 0.0]}, offline)
    assert sim.similarity("a", "b") == 1.0
    assert sim.similarity("a", "c") == 0.0
    assert sim.similarity("a", "d") == 0.0  # opposite means unrelated, not negative
    text = "the king grants the decree"
    assert sim.similarity(text, "horses in the stable") == offline.similarity(
        text, "horses in the stable")
