"""Pure rules: filled modules, plot templates, change summaries and text diffs."""

from __future__ import annotations

from studio.domain.modules import (
    MODULES, PLOT_TEMPLATES, is_filled, normalise_output, plot_template_acts,
    render_output_text,
)
from studio.domain.versions import diff_text, render_modules_part, summarize_changes


def test_five_modules_in_order():
    assert [m.key for m in MODULES] == ["idea_spark", "world_seed", "character_forge",
                                        "plot_skeleton", "wordsmith_lab"]
    assert [m.order for m in MODULES] == [1, 2, 3, 4, 5]
    assert all(m.questions for m in MODULES)


def test_is_filled():
    assert not is_filled("", normalise_output("idea_spark", {}), "idea_spark")
    assert not is_filled("   \n", {"themes": ["", " "]}, "idea_spark")
    assert is_filled("a note", {}, "idea_spark")
    assert is_filled("", {"themes": ["hope"]}, "idea_spark")
    skeleton = {"template": "three_act", "acts": plot_template_acts("three_act")}
    assert not is_filled("", skeleton, "plot_skeleton")  # a template alone is not plotting
    skeleton["acts"][0]["beats"][0]["summary"] = "Wren finds the glove."
    assert is_filled("", skeleton, "plot_skeleton")


def test_plot_templates_lay_out_every_beat():
    for key, acts in PLOT_TEMPLATES.items():
        laid = plot_template_acts(key)
        assert [a["name"] for a in laid] == [a for a, _ in acts]
        assert sum(len(a["beats"]) for a in laid) == sum(len(b) for _, b in acts)
    assert sum(len(b) for _, b in PLOT_TEMPLATES["save_the_cat"]) == 15


def test_normalise_keeps_unknown_keys():
    out = normalise_output("world_seed", {"era": "now", "from_the_future": 1})
    assert out["from_the_future"] == 1 and out["world_rules"] == []


def test_render_output_text_is_readable():
    text = render_output_text("character_forge", {"characters": [
        {"name": "Wren", "role": "Protagonist", "arc": "line one\nline two"}]})
    assert "Characters:" in text and "1. Wren" in text
    assert "Role: Protagonist" in text and "line two" in text


def test_summarize_changes():
    base = {"story": {"title": "A"}, "modules": {"idea_spark": {"input": "", "output": {}}}}
    assert summarize_changes(None, base) == "First version"
    assert summarize_changes(base, base) == "No changes"
    new = {"story": {"title": "B"},
           "modules": {"idea_spark": {"input": "n", "output": {"tone": "wry"}},
                       "world_seed": {"input": "", "output": {"era": "1962"}}},
           "custom_fields": [{"name": "x"}]}
    assert summarize_changes(base, new) == \
        "Story: title; Idea Spark: notes, tone; World Seed: era; Custom fields"


def test_diff_text_marks_added_and_removed_lines():
    d = diff_text("one\ntwo\nthree", "one\n2\nthree\nfour")
    assert [(l.kind, l.text) for l in d.lines] == [
        ("same", "one"), ("removed", "two"), ("added", "2"), ("same", "three"),
        ("added", "four")]
    assert (d.added, d.removed, d.changed) == (2, 1, True)


def test_render_modules_part_has_a_section_per_module():
    sections = render_modules_part({})
    assert list(sections) == [m.title for m in MODULES]
