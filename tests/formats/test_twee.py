"""Twee 3 / Twine: real files import, export → import round trips, errors with lines."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, assume, given, settings

from studio.domain.errors import ImportFormatError
from studio.formats.chapter_markers import read_chapter_markers
from studio.formats.twee import (
    INSTRUCTIONS_MARK, STORY_FORMAT, STORY_FORMAT_VERSION, TweeError, export_twee,
    import_twee, import_twine_html, parse_passages, read_twee,
)
from tests.formats.test_chapter_markers import SAMPLES, SCHEMA, by_numbers, graphs

TWINE = Path("/work/shared/testdata/twine")


def titles_of(graph: dict) -> dict[str, dict]:
    return {c["title"]: c for c in graph["chapters"]}


# --- real files from other tools --------------------------------------------------------------

def test_extwee_example_imports_with_links_as_prerequisites():
    graph, title = read_twee(TWINE / "TweeParser_example.twee")
    assert title == "twineExample"
    jsonschema.validate(graph, SCHEMA)
    # StoryTitle, StoryAuthor (Twee 1) and StoryData are not chapters: five passages are.
    assert [(c["number"], c["title"]) for c in graph["chapters"]] == [
        (1, "Start"), (2, "Another passage"), (3, "A third passage"),
        (4, "A fourth passage"), (5, "A fifth passage")]
    chapters = titles_of(graph)
    id_of = {t: c["id"] for t, c in chapters.items()}
    assert chapters["Another passage"]["prerequisites"] == [id_of["Start"]]
    assert chapters["A third passage"]["prerequisites"] == [id_of["Start"],
                                                            id_of["Another passage"]]
    assert chapters["A fifth passage"]["prerequisites"] == [id_of["A fourth passage"]]
    # "A third passage" links back to Start: the cycle is kept for the caller to refuse.
    assert chapters["Start"]["prerequisites"] == [id_of["A third passage"]]
    assert chapters["Start"]["position"] == {"x": 102, "y": 104}
    assert chapters["A fifth passage"]["position"] == {"x": 800, "y": 306}
    assert chapters["A fifth passage"]["summary"] == "Double-click this passage to edit it."
    assert chapters["Start"]["summary"] == ""
    assert all(c["source"] == "imported" and c["status"] == "draft"
               for c in graph["chapters"])
    assert len({c["id"] for c in graph["chapters"]}) == 5


def test_twine_specs_example_with_odd_tags_imports():
    graph, title = read_twee(TWINE / "twine-specs_json_encoded_metadata.twee")
    assert title == "JSON Encoded Metadata Example"
    [only] = graph["chapters"]
    assert only["number"] == 1 and only["title"] == "Starting Passage"
    assert only["position"] == {"x": 860, "y": 401}
    assert only["summary"] == "The starting passage of this example."
    assert only["prerequisites"] == []
    passage = [p for p in parse_passages(
        (TWINE / "twine-specs_json_encoded_metadata.twee").read_text(encoding="utf-8"))
        if p.name == "Starting Passage"][0]
    assert passage.tags == ["aa", "bb-cc", "dd_ee", "ff.gg", "hh/ii", "jj:kk", 'll"mm',
                            "nn'oo", "pp&qq"]
    assert passage.metadata == {"position": "860,401", "size": "200,100"}


def test_windows_line_endings_and_trailing_whitespace_import_the_same():
    text = (TWINE / "TweeParser_example.twee").read_text(encoding="utf-8")
    messy = "\ufeff" + "\r\n".join(line + "  \t" for line in text.split("\n"))
    assert by_numbers(import_twee(messy)[0]) == by_numbers(import_twee(text)[0])
    assert import_twee(messy)[1] == "twineExample"


def test_twine_2_html_imports():
    graph, title = import_twine_html(
        (TWINE / "Twine2HTMLParser_Example1.html").read_text(encoding="utf-8"))
    assert title == "Example1"
    chapters = by_numbers(graph)
    assert [(c["number"], c["title"], c["prerequisites"]) for c in chapters] == [
        (1, "Untitled Passage", []), (2, "Another passage", [1]), (3, "A third", [2])]
    assert chapters[0]["position"] == {"x": 200, "y": 102}


# --- export -----------------------------------------------------------------------------------

def test_export_writes_story_data_passages_tags_and_links():
    graph = read_chapter_markers(SAMPLES / "the_kings_envoy.chapters.txt")
    text = export_twee(graph, "The King's Envoy", ifid="d674c58c-defa-4f70-b7a2-27742230c0fc")
    passages = {p.name: p for p in parse_passages(text)}
    assert passages["StoryTitle"].text == "The King's Envoy"
    data = json.loads(passages["StoryData"].text)
    assert data["ifid"] == "D674C58C-DEFA-4F70-B7A2-27742230C0FC"
    assert (data["format"], data["format-version"]) == (STORY_FORMAT, STORY_FORMAT_VERSION)
    assert data["start"] == "1. The King's Summons"
    summons = passages["1. The King's Summons"]
    assert summons.tags == ["status-final"]
    assert summons.metadata == {"position": "0,0", "size": "100,100"}
    assert summons.text.startswith("The herald brings the hero before the old king")
    assert INSTRUCTIONS_MARK in summons.text
    decree = passages["2. The Royal Decree"].text
    # 2 → 3 and 2 → 4: chapters 3 and 4 require chapter 2
    assert decree.split("\n")[-2:] == ["[[3. The Road North]]", "[[4. The Tower of Whispers]]"]


def test_export_makes_a_fresh_upper_case_uuid4_ifid():
    text = export_twee({"chapters": [{"id": "gch_a", "number": 1, "title": "A"}]}, "T")
    ifid = json.loads({p.name: p for p in parse_passages(text)}["StoryData"].text)["ifid"]
    assert re.match(r"^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$",
                    ifid)


def test_export_makes_awkward_titles_safe_for_links_and_headers():
    graph = {"chapters": [
        {"id": "gch_a", "number": 1, "title": "Left <- [Right] -> {Up} | Down \\ "},
        {"id": "gch_b", "number": 2, "title": "Next", "prerequisites": ["gch_a"],
         "summary": ":: not a header\nsee [[1. Left]] and [[[x]]]"},
    ]}
    text = export_twee(graph, "T")
    assert ":: 1. Left ← (Right) → \\{Up\\} ¦ Down \\\\ [status-draft]" in text
    assert "[[2. Next]]" in text
    back, _ = import_twee(text)
    assert by_numbers(back) == by_numbers(graph)


@pytest.mark.parametrize("name", ["the_kings_envoy.chapters.txt",
                                  "every_feature.chapters.txt"])
def test_samples_round_trip_through_twee(name):
    graph = read_chapter_markers(SAMPLES / name)
    back, title = import_twee(export_twee(graph, "Sample"))
    assert title == "Sample"
    assert by_numbers(back) == by_numbers(graph)


def test_edits_made_in_twine_win_over_the_studio_block():
    graph = read_chapter_markers(SAMPLES / "the_kings_envoy.chapters.txt")
    text = export_twee(graph, "T")
    text = text.replace(":: 5. The Envoy Returns [status-idea]",
                        ":: 5. The Envoy Comes Home [status-final]")
    text = text.replace("[[5. The Envoy Returns]]", "[[5. The Envoy Comes Home]]")
    text = text.replace("The hero returns through the great doors",
                        "The hero limps through the great doors")
    # a new link 4 → 5 in Twine: chapter 5 now also requires chapter 4
    text = text.replace("[[6. The Empty Throne]]",
                        "[[6. The Empty Throne]]\n[[Go home->5. The Envoy Comes Home]]")
    fifth = by_numbers(import_twee(text)[0])[4]
    assert fifth["title"] == "The Envoy Comes Home"
    assert fifth["status"] == "final"
    assert fifth["summary"].startswith("The hero limps through the great doors")
    assert fifth["prerequisites"] == [3, 4]
    assert fifth["beats"] == [{"text": "The king reads the answer aloud", "priority": 1}]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_export_then_import_reproduces_any_graph(graph):
    for chapter in graph["chapters"]:
        for text in (chapter["summary"], chapter["instructions"]):
            for line in text.split("\n"):
                assume("[\\[" not in line and not line.startswith("\\:")
                       and "<!-- studio" not in line)
    back, title = import_twee(export_twee(graph, "Story"))
    assert title == "Story"
    assert by_numbers(back) == by_numbers(graph)


# --- reading Twee from other tools ------------------------------------------------------------

def test_header_escapes_tags_and_metadata():
    text = (':: A \\[b\\] \\{c\\} \\\\d\\q [t\\]x  y] {"position":"1.5,-2","size":"100,100"}\n'
            "body\n")
    [passage] = parse_passages(text)
    assert passage.name == "A [b] {c} \\dq"
    assert passage.tags == ["t]x", "y"]
    assert passage.metadata == {"position": "1.5,-2", "size": "100,100"}
    assert passage.text == "body"


def test_twee_2_positions_are_read():
    graph, _ = import_twee(":: One <10,20>\nx\n:: Two [tag] <30,40>\ny\n")
    assert [c["position"] for c in graph["chapters"]] == [{"x": 10, "y": 20},
                                                         {"x": 30, "y": 40}]


def test_link_forms_scripts_numbers_and_summaries():
    text = """\
:: StoryTitle
Links

:: 3. Gate [status-revised]
Go [[to the hall->Hall]] or [[Yard<-into the yard]], or [[back|1. Start]].
[[Setter->Hall][$x to 1]] and [[https://example.org]].
(set: $y to 2)

:: Hall
Hall text.

:: Yard
:: 1. Start
[[3. Gate]]

:: Scripts [script]
window.x = 1;

:: Styles [stylesheet]
body {}
"""
    graph, title = import_twee(text)
    assert title == "Links"
    chapters = by_numbers(graph)
    assert [(c["number"], c["title"]) for c in chapters] == [
        (3, "Gate"), (2, "Hall"), (4, "Yard"), (1, "Start")]
    gate, hall, yard, start = chapters
    assert gate["status"] == "revised"
    assert gate["prerequisites"] == [1]
    assert hall["prerequisites"] == [3] and yard["prerequisites"] == [3]
    assert start["prerequisites"] == [3]          # Gate links back: a cycle, kept
    assert gate["summary"] == ("Go to the hall or into the yard, or back.\n"
                               "Setter and https://example.org.\n(set: $y to 2)")
    assert yard["summary"] == ""


@pytest.mark.parametrize("text, line, fragment", [
    (":: A\n[[A]]\n\n:: B\nsee [[Nowhere]]\n", 5, "links to “Nowhere”, which is not a passage"),
    (":: A\ntext\n:: B\n:: A\n", 4, "“A” is defined twice (first on line 1)"),
    (':: A {"position":"1,2"\nx\n', 1, "metadata is not valid JSON"),
    (":: A [x\n", 1, "tag block “[…” is not closed"),
    (":: A ] b\n", 1, "unescaped “]”"),
    (':: A {"position": 3}\n', 1, "position “3” is not “x,y”"),
    (":: A [x] junk\n", 1, "unexpected “junk” after the tags"),
    (":: StoryTitle\nT\n\n:: StoryData\n{\n  \"ifid\": \"X\",\n  oops\n}\n:: A\n", 7,
     "StoryData is not valid JSON"),
    (":: 1. A\n\n:: 1. B\n", 3, "same chapter number 1"),
    (":: StoryTitle\nOnly a title\n", 1, "no story passages"),
    ("", 1, "no passages"),
    (":: A\n[[S]]\n:: S [script]\nx\n", 2, "not a story passage"),
    (":: \n", 1, "without a name"),
])
def test_errors_name_their_line(text, line, fragment):
    with pytest.raises(TweeError) as caught:
        import_twee(text)
    assert isinstance(caught.value, ImportFormatError)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"line {line}: ")
    assert fragment in str(caught.value)


def test_malformed_studio_block_is_an_error_with_its_line():
    text = ":: 1. A\nsummary\n<!-- studio: {\"v\": 1, oops} -->\n"
    with pytest.raises(TweeError, match="^line 3: .*studio block is not valid JSON"):
        import_twee(text)


def test_html_without_story_data_is_refused():
    with pytest.raises(TweeError, match="no <tw-storydata>"):
        import_twine_html("<html><body><p>hello</p></body></html>")


def test_read_twee_refuses_missing_files(tmp_path):
    with pytest.raises(ImportFormatError, match="does not exist"):
        read_twee(tmp_path / "missing.twee")


def test_cycles_from_twine_reach_the_domain_validation_named():
    from studio.domain import chapters as rules
    graph, _ = read_twee(TWINE / "TweeParser_example.twee")
    problems = rules.graph_problems(graph)
    assert problems and any("Start" in reason and "A third passage" in reason
                            for _, reason in problems)
