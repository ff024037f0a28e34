"""Twine 2 HTML and Twee files through the format registry: previews, loops, round trips and
errors that name the file."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.domain.chapters import graph_problems
from studio.domain.errors import ImportFormatError
from studio.formats import registry, twine
from studio.formats.twee import export_twee
from studio.formats.twine import TwineImportError, read_twee_file, read_twine_html
from tests.formats.test_chapter_markers import SCHEMA, by_numbers

SHARED = Path("/work/shared/testdata/twine")
OWN = Path(__file__).parent / "data" / "twine"


def titles(graph: dict) -> dict[str, dict]:
    return {c["title"]: c for c in graph["chapters"]}


def prerequisites(graph: dict) -> dict[str, list[str]]:
    """Chapter title → titles of its prerequisites."""
    title_of = {c["id"]: c["title"] for c in graph["chapters"]}
    return {c["title"]: [title_of[p] for p in c["prerequisites"]] for c in graph["chapters"]}


# --- the registry ---------------------------------------------------------------------------

def test_registry_finds_twine_html_by_sniffing_and_twee_by_extension(tmp_path):
    assert registry.importer_for(SHARED / "Twine2HTMLParser_Example1.html").id == "twine_html"
    assert registry.importer_for(SHARED / "TweeParser_example.twee").id == "twee"
    tw = tmp_path / "story.tw"
    tw.write_text((SHARED / "TweeParser_example.twee").read_text(encoding="utf-8"),
                  encoding="utf-8")
    assert registry.importer_for(tw).id == "twee"
    assert registry.importer("twine_html").label.startswith("Twine 2")


def test_real_twine_html_previews_passages_chapters_links_and_positions():
    preview = registry.importer_for(SHARED / "Twine2HTMLParser_Example1.html").read(
        SHARED / "Twine2HTMLParser_Example1.html")
    assert (preview.format, preview.kind, preview.title) == ("twine_html", registry.GRAPH,
                                                             "Example1")
    assert preview.summary[0] == "3 passages → 3 chapters, 2 links"
    assert "story-map positions kept for 3 chapters" in preview.summary
    assert preview.warnings == ()
    assert preview.source.endswith("Example1.html")
    graph = preview.data
    jsonschema.validate(graph, SCHEMA)
    assert prerequisites(graph) == {"Untitled Passage": [], "Another passage":
                                    ["Untitled Passage"], "A third": ["Another passage"]}
    assert [c["position"] for c in graph["chapters"]] == [
        {"x": 200, "y": 102}, {"x": 200, "y": 252}, {"x": 200, "y": 402}]


def test_branching_story_keeps_entities_tags_labels_and_drops_only_the_loops():
    progress: list[tuple[int, int]] = []
    preview = read_twine_html(OWN / "branching_story.html", progress=lambda d, t:
                              progress.append((d, t)))
    assert progress[0] == (0, 2) and progress[-1] == (2, 2)
    assert preview.title == "The Keeper's Choice"
    assert preview.summary[:2] == ("6 passages → 6 chapters, 8 links",
                                   "6 links become prerequisites; 2 that loop back do not")
    assert len(preview.warnings) == 2
    assert any("“The Letter” back to “Gull Rock”" in w for w in preview.warnings)
    assert any("“The Jetty” back to “The Storm”" in w for w in preview.warnings)
    graph = preview.data
    jsonschema.validate(graph, SCHEMA)
    assert graph_problems(graph) == []              # a DAG the graph service will take
    assert prerequisites(graph) == {
        "The Storm": ["The Letter"], "Gull Rock": [], "The Letter": ["Gull Rock"],
        "Keep the light": ["The Storm"], "The Jetty": ["The Storm"],
        "Dawn": ["Keep the light", "The Jetty"]}
    chapters = titles(graph)
    assert chapters["Gull Rock"]["status"] == "final"
    assert chapters["Gull Rock"]["summary"] == ("Wren finds a glove & writes it down before "
                                                "she touches it.")
    assert chapters["The Jetty"]["summary"] == ("The crate with the Ledger goes into the water. "
                                                "<It is gone.>\n\nBack to the storm")
    assert chapters["The Storm"]["summary"] == "The lamp fails at midnight.\n\nRun to the jetty"
    assert chapters["Dawn"]["position"] == {"x": 900, "y": 300}


# --- round trip: Twine HTML → graph → Twee → graph ------------------------------------------

@pytest.mark.parametrize("source", [SHARED / "Twine2HTMLParser_Example1.html",
                                    OWN / "branching_story.html"])
def test_twine_html_to_graph_to_twee_to_graph_keeps_the_graph(source, tmp_path):
    first = registry.importer_for(source).read(source)
    twee_file = tmp_path / "story.twee"
    twee_file.write_text(export_twee(first.data, first.title), encoding="utf-8")
    importer = registry.importer_for(twee_file)
    assert importer.id == "twee"
    second = importer.read(twee_file)
    assert second.title == first.title
    assert second.warnings == ()                    # the loops were already out
    assert by_numbers(second.data) == by_numbers(first.data)
    assert second.summary[0].startswith(f"{len(first.data['chapters'])} passages → ")


def test_twee_with_a_loop_back_to_its_start_is_previewed_with_a_warning():
    preview = read_twee_file(SHARED / "TweeParser_example.twee")
    assert preview.summary[0] == "5 passages → 5 chapters, 6 links"
    [warning] = preview.warnings
    assert "“A third passage” back to “Start”" in warning
    assert graph_problems(preview.data) == []
    assert prerequisites(preview.data)["Start"] == []


def test_self_links_are_dropped_too(tmp_path):
    path = tmp_path / "self.twee"
    path.write_text(":: StoryTitle\nLoop\n\n:: Again\nOnce more. [[Again]]\n", encoding="utf-8")
    preview = read_twee_file(path)
    assert prerequisites(preview.data) == {"Again": []}
    assert "“Again” back to “Again”" in preview.warnings[0]


def test_many_loops_are_summarised_after_ten(tmp_path):
    lines = [":: StoryTitle", "Hub", "", ":: Hub", *[f"[[Room {i}]]" for i in range(15)]]
    for i in range(15):
        lines += ["", f":: Room {i}", "[[Hub]]"]
    path = tmp_path / "hub.twee"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    preview = read_twee_file(path)
    assert len(preview.warnings) == 11 and preview.warnings[-1] == "…and 5 more links back."
    assert graph_problems(preview.data) == []


# --- bad input ------------------------------------------------------------------------------

def test_html_that_is_not_a_twine_story_is_refused_by_name():
    path = OWN / "not_twine.html"
    importer = registry.importer_for(path)          # the only HTML importer; it says why not
    assert importer.id == "twine_html"
    with pytest.raises(TwineImportError, match=r"not_twine\.html is not a Twine story: "
                                               r"the HTML has no <tw-storydata> element"):
        importer.read(path)


def test_twine_1_story_gets_advice():
    with pytest.raises(TwineImportError, match=r"twine1_story\.html is a Twine 1 story; open it "
                                               r"in Twine 2"):
        read_twine_html(OWN / "twine1_story.html")


def test_broken_passages_name_the_file_and_line(tmp_path):
    path = tmp_path / "broken.html"
    path.write_text('<tw-storydata name="B" startnode="1">\n<tw-passagedata pid="1" name="A">'
                    '[[Nowhere]]</tw-passagedata></tw-storydata>', encoding="utf-8")
    with pytest.raises(TwineImportError, match=r"^broken\.html: line 2: passage “A” links to "
                                               r"“Nowhere”, which is not a passage"):
        read_twine_html(path)
    twee_path = tmp_path / "broken.twee"
    twee_path.write_text(":: A {\"position\": \"1,\"}\nText\n", encoding="utf-8")
    with pytest.raises(TwineImportError, match=r"^broken\.twee: line 1: passage “A”: position"):
        read_twee_file(twee_path)


def test_unreadable_files_are_refused_with_a_sentence(tmp_path, monkeypatch):
    binary = tmp_path / "story.html"
    binary.write_bytes(b"<tw-storydata \xff\xfe\x00 name=x>")
    with pytest.raises(TwineImportError, match=r"story\.html is not UTF-8 text \(byte 14\)"):
        read_twine_html(binary)
    with pytest.raises(TwineImportError, match="does not exist"):
        read_twee_file(tmp_path / "missing.twee")
    folder = tmp_path / "folder.twee"
    folder.mkdir()
    with pytest.raises(TwineImportError, match=r"folder\.twee is a folder"):
        read_twee_file(folder)
    monkeypatch.setattr(twine, "MAX_BYTES", 100)
    big = tmp_path / "big.twee"
    big.write_text(":: A\n" + "x" * 200, encoding="utf-8")
    with pytest.raises(TwineImportError, match=r"big\.twee: 0 MB is too big for a Twee file"):
        read_twee_file(big)


def test_empty_twine_story_is_refused(tmp_path):
    path = tmp_path / "empty.html"
    path.write_text('<tw-storydata name="Nothing" startnode=""></tw-storydata>',
                    encoding="utf-8")
    with pytest.raises(TwineImportError, match=r"empty\.html: line 1: no passages"):
        read_twine_html(path)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(body=st.lists(st.sampled_from(list("ab <>/=\"'[]|-&;#\n") +
                                    ["<tw-passagedata ", "</tw-passagedata>", "name=", "[[",
                                     "]]", "->", "position=", "tags=", "pid="]),
                    max_size=80).map("".join))
def test_fuzzed_twine_html_raises_only_import_errors(tmp_path, body):
    path = tmp_path / "fuzz.html"
    path.write_text(f'<tw-storydata name="F" startnode="1">{body}</tw-storydata>',
                    encoding="utf-8")
    try:
        preview = read_twine_html(path)
    except ImportFormatError:
        return
    assert graph_problems(preview.data) == []


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(body=st.lists(st.sampled_from(list("ab :{}[]\\|\n\"") +
                                    [":: ", "[[", "]]", "->", "<-", "StoryData",
                                     '{"position":"1,2"}', "\n:: b\n", "\n:: a\n"]),
                    max_size=80).map("".join))
def test_fuzzed_twee_raises_only_import_errors(tmp_path, body):
    path = tmp_path / "fuzz.twee"
    path.write_text(body, encoding="utf-8")
    try:
        preview = read_twee_file(path)
    except ImportFormatError:
        return
    assert graph_problems(preview.data) == []


# --- end to end: through the import service into a story ------------------------------------

def test_twine_story_goes_into_a_story_graph_in_one_undoable_step(db):
    from studio.services import chapter_graph, format_io, portability

    story = portability.import_sample(db)
    before = chapter_graph.load(db, story.id).graph
    preview = format_io.preview_import(OWN / "branching_story.html")
    assert preview.format == "twine_html"
    outcome = format_io.apply_import(db, preview, story.id)
    graph = chapter_graph.load(db, story.id).graph
    added = graph["chapters"][len(before.get("chapters", [])):]
    assert [c["title"] for c in added] == ["The Storm", "Gull Rock", "The Letter",
                                           "Keep the light", "The Jetty", "Dawn"]
    assert prerequisites({"chapters": added})["Dawn"] == ["Keep the light", "The Jetty"]
    assert added[1]["position"] == {"x": 100, "y": 100}
    format_io.undo_import(db, outcome)
    assert len(chapter_graph.load(db, story.id).graph.get("chapters", [])) == \
        len(before.get("chapters", []))
