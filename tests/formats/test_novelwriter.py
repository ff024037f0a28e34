"""novelWriter import: the official sample (file version 1.5), hand-made 1.0/1.3/1.4 projects,
every refusal by name, a fuzzed document parser, and the whole way into a stored story."""

from __future__ import annotations

import shutil
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.formats import registry
from studio.formats.novelwriter import NovelWriterError, map_status, read
from studio.formats.novelwriter_notes import NoteSource, build_bible
from studio.formats.novelwriter_text import (
    Comment, Heading, Keyword, NwdDocument, Paragraph, convert_lines, parse_nwd,
)
from studio.services.schemas import bible_problems
from studio.services.story_import import plan_manuscript

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO.parent / "shared" / "testdata" / "novelwriter" / "sample"
if not SAMPLE.is_dir():
    SAMPLE = Path("/work/shared/testdata/novelwriter/sample")
LEGACY = REPO / "tests" / "data" / "novelwriter_v1_x"


@pytest.fixture(scope="module")
def sample():
    assert SAMPLE.is_dir(), f"the shared novelWriter sample is missing: {SAMPLE}"
    return read(SAMPLE)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    assert SAMPLE.is_dir(), f"the shared novelWriter sample is missing: {SAMPLE}"
    target = tmp_path / "project"
    shutil.copytree(SAMPLE, target)
    for path in target.rglob("*"):
        path.chmod(0o644 if path.is_file() else 0o755)
    target.chmod(0o755)
    return target


# --- what the sample holds, found without the importer ------------------------------------

def _kind(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines()[:8]:
        if line.startswith("%%~kind:"):
            return line.split(":", 1)[1].strip()
    return ""


def _novel_documents() -> list[Path]:
    """The novel documents in the order the project file lists them (novelWriter writes its
    tree depth first), by the ``%%~kind`` line each document carries."""
    root = ET.parse(SAMPLE / "nwProject.nwx").getroot()
    files = [SAMPLE / "content" / f"{item.get('handle')}.nwd"
             for item in root.iter("item") if item.get("type") == "FILE"]
    return [f for f in files if f.is_file() and _kind(f) == "NOVEL/DOCUMENT"]


def _expected_structure() -> tuple[list[str], list[str], int]:
    """Chapter titles, scene titles and how many chapters open with prose before a scene."""
    chapters, scenes, lead_ins = [], [], 0
    in_chapter_head = False
    for path in _novel_documents():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith(("## ", "##! ")):
                chapters.append(line.split(" ", 1)[1].strip())
                in_chapter_head = True
            elif line.startswith(("### ", "###! ")):
                scenes.append(line.split(" ", 1)[1].strip())
                in_chapter_head = False
            elif line.startswith(("# ", "#! ")):
                in_chapter_head = False
            elif in_chapter_head and line.strip() and not line.startswith(("%", "@", "[")):
                lead_ins += 1
                in_chapter_head = False
    return chapters, scenes, lead_ins


def _tags(kind: str) -> int:
    return sum(1 for f in (SAMPLE / "content").glob("*.nwd") if _kind(f) == kind
               for line in f.read_text(encoding="utf-8").splitlines()
               if line.startswith("@tag:"))


# --- the sample ----------------------------------------------------------------------------

def test_sample_has_every_chapter_and_scene_in_order(sample):
    chapters, scenes, lead_ins = _expected_structure()
    got = sample.data["manuscript"]["chapters"]
    assert [c["title"] for c in got] == chapters
    assert len(chapters) == 5
    headed = [s["title"] for c in got for s in c["scenes"]
              if not s["metadata"].get("lead_in")]
    assert headed == scenes
    assert sum(1 for c in got for s in c["scenes"] if s["metadata"].get("lead_in")) == lead_ins
    assert sample.summary[0].startswith(f"5 chapters, {len(scenes) + lead_ins} scenes")
    assert sample.kind == registry.STORY and sample.title == "Sample Project"
    plan_manuscript(sample.data["manuscript"])  # the store would take it as it is


def test_sample_synopses_statuses_parts_and_references(sample):
    chapters = {c["title"]: c for c in sample.data["manuscript"]["chapters"]}
    begins = chapters["So it Begins"]
    assert begins["synopsis"].startswith("We can add a chapter document")
    assert begins["metadata"]["references"] == {"pov": ["Jane Smith"], "location": ["Earth"]}
    assert begins["metadata"]["part"] == "Part One"
    assert chapters["Interlude"]["metadata"]["unnumbered"] is True
    assert chapters["Interlude"]["status"] == "final"          # "Finished"
    scene = chapters["Basic Formatting"]["scenes"][1]
    assert scene["title"] == "Making a Scene" and scene["status"] == "draft"  # "1st Draft"
    assert scene["metadata"]["references"]["pov"] == ["Jane Smith"]
    assert scene["metadata"]["references"]["char"] == ["John Smith", "Jane Smith"]
    assert scene["metadata"]["sections"] == ["Some Section Here",
                                             "Text Alignment and Indentation"]
    assert "f4xr5" in scene["metadata"]["footnotes"]
    assert "Down the Rabbit-Hole" not in chapters["Down the Rabbit-Hole"]["metadata"].get(
        "part", "")
    assert chapters["Down the Rabbit-Hole"]["metadata"]["novel"] == \
        "Alice in Wonderland (Sample)"
    alice = chapters["Down the Rabbit-Hole"]["scenes"][0]
    assert alice["metadata"]["references"]["location"] == ["By the River",
                                                           "Down the Rabbit-Hole"]


def test_sample_prose_formatting_breaks_and_comments(sample):
    chapters = {c["title"]: c for c in sample.data["manuscript"]["chapters"]}
    scene = chapters["Basic Formatting"]["scenes"][1]
    text = "\n".join(s["text"] for s in scene["segments"])
    assert "like **bold**, *italic* and ***bold italic***" in text
    assert "**some support for *nested* emphasis**" in text
    assert "**part**ial bold" in text and "superscript and subscript" in text
    assert "You can also strike through text." in text
    assert "this A with B, and this C with D. While <E> is just <E>." in text  # auto-replace
    assert "%" not in text and "@pov" not in text and "[footnote" not in text
    assert "* * *" in [s["text"] for s in scene["segments"]]           # the sections' breaks
    assert "\nThis text is right-aligned.\n" in text and "\n>>" not in text
    assert "Story.Resolution" not in text
    verse = chapters["Interlude"]["scenes"][0]["segments"]
    assert verse[0] == {"text": "I am the very model of a modern Major-General"}
    assert verse[1] == {"text": "I've information vegetable, animal, and mineral", "gap": 0}
    assert "gap" not in verse[4]  # a new paragraph
    comments = chapters["Basic Formatting"]["metadata"]["comments"]
    assert {"text": "You can describe the scene structure with story comments.",
            "kind": "story", "key": "Resolution"} in comments


def test_sample_bible_characters_and_locations(sample):
    bible = sample.data["scene_bible"]
    assert bible_problems(bible) == []
    characters = {c["name"]: c for c in bible["characters"]}
    assert len(characters) == _tags("CHARACTER/NOTE") == 4
    assert set(characters) == {"Jane Smith", "John Smith", "Bob Smith", "Alice"}
    assert characters["Jane Smith"]["aliases"] == ["Jane"]
    assert characters["Bob Smith"]["aliases"] == ["Bob", "Robert Smith"]
    assert characters["Jane Smith"]["description"].startswith(
        "The heroine of our example story.\n\nJane Smith is the main character")
    assert characters["John Smith"]["relationships"][0]["target"] == \
        characters["Bob Smith"]["id"]
    places = {p["name"]: p for p in bible["setting"]["locations"]}
    assert len(places) == _tags("WORLD/NOTE") == 5
    assert places["Mars"]["description"].endswith("Part of: Space")
    assert "Character Name" not in characters  # templates are left out


def test_sample_targets_metadata_and_what_is_left_out(sample):
    data = sample.data
    assert data["word_target"] == 15000 and data["language"] == "en-GB"
    meta = data["metadata"]
    assert meta["author"] == "Jane Smith" and meta["word_target"] == 15000
    assert meta["novelwriter"]["file_version"] == "1.5"
    assert meta["novelwriter"]["novel_words"] == 5561
    assert meta["novelwriter"]["target_skip_roots"] == ["Alice in Wonderland (Sample)"]
    pages = {p["title"]: p for p in meta["pages"]}
    assert pages["Part One"]["kind"] == "part"
    assert pages["My Novel"]["kind"] == "title"
    assert pages["Introduction"]["text"].startswith("This is an example project")
    assert [n["title"] for n in meta["notes"]] == ["A Note on Structure"]
    titles = {s["title"] for c in data["manuscript"]["chapters"] for s in c["scenes"]}
    assert not titles & {"Delete Me!", "Discarded Scene", "Old File", "Scene", "Chapter"}
    assert any("Archive" in w for w in sample.warnings)
    assert any("trash" in line for line in sample.summary)


def test_sample_takes_well_under_a_second():
    start = time.perf_counter()
    read(SAMPLE)
    elapsed = time.perf_counter() - start
    print(f"novelWriter sample: {elapsed * 1000:.0f} ms")
    assert elapsed < 2.0


def test_folder_and_project_file_both_import_through_the_registry(sample):
    for path in (SAMPLE, SAMPLE / "nwProject.nwx"):
        assert registry.importer_for(path).id == "novelwriter"
    again = read(SAMPLE / "nwProject.nwx")
    assert [c["title"] for c in again.data["manuscript"]["chapters"]] == \
        [c["title"] for c in sample.data["manuscript"]["chapters"]]


def test_one_novel_folder_by_name_and_an_unknown_one(sample):
    alice = read(SAMPLE, novel_root="Alice in Wonderland (Sample)")
    assert [c["title"] for c in alice.data["manuscript"]["chapters"]] == [
        "Down the Rabbit-Hole", "The Pool of Tears"]
    assert "novel" not in alice.data["manuscript"]["chapters"][0]["metadata"]
    with pytest.raises(NovelWriterError, match="no novel folder “Sequel”.*“Novel”"):
        read(SAMPLE, novel_root="Sequel")


def test_progress_is_reported_and_can_cancel():
    calls: list[tuple[int, int]] = []
    read(SAMPLE, progress=lambda done, total: calls.append((done, total)))
    assert calls[0][0] == 0 and calls[-1][0] == calls[-1][1] > 20

    class Stop(Exception):
        pass

    def cancel(done: int, total: int) -> None:
        if done == 3:
            raise Stop

    with pytest.raises(Stop):
        read(SAMPLE, progress=cancel)


# --- refusals ------------------------------------------------------------------------------

def test_missing_content_file_refuses_everything_naming_it(copy: Path):
    (copy / "content" / "636b6aa9b697b.nwd").unlink()
    with pytest.raises(NovelWriterError) as err:
        read(copy)
    message = str(err.value)
    assert "“Making a Scene”" in message and "636b6aa9b697b" in message
    assert "Nothing was imported" in message


def test_missing_files_in_trash_and_archive_do_not_matter(copy: Path):
    (copy / "content" / "b8136a5a774a0.nwd").unlink()   # in the trash
    (copy / "content" / "8a5deb88c0e97.nwd").unlink()   # in the archive
    assert len(read(copy).data["manuscript"]["chapters"]) == 5


@pytest.mark.parametrize("version", ["9.9", "2.0", "0.9", ""])
def test_unknown_file_version_is_refused(copy: Path, version: str):
    nwx = copy / "nwProject.nwx"
    nwx.write_text(nwx.read_text(encoding="utf-8").replace('fileVersion="1.5"',
                                                           f'fileVersion="{version}"'),
                   encoding="utf-8")
    with pytest.raises(NovelWriterError, match="nwProject.nwx") as err:
        read(copy)
    assert ("file version" in str(err.value))
    if version:
        assert f"version {version} is not one Story Studio knows" in str(err.value)


def test_malformed_xml_is_refused_with_its_line(copy: Path):
    nwx = copy / "nwProject.nwx"
    nwx.write_text(nwx.read_text(encoding="utf-8").replace("</content>", "</contents>"),
                   encoding="utf-8")
    with pytest.raises(NovelWriterError, match=r"nwProject.nwx: .*not well-formed XML \(line "):
        read(copy)


@pytest.mark.parametrize("body, reason", [
    ("<project/>", "not a novelWriter project file"),
    ('<novelWriterXML fileVersion="1.5"><project/></novelWriterXML>', "no <content>"),
    ('<!DOCTYPE x [<!ENTITY a "aaaa">]><novelWriterXML fileVersion="1.5"/>', "DTD"),
    ('<novelWriterXML fileVersion="1.5"><content><item handle="../../../etc/passwd" '
     'type="FILE" class="NOVEL"/></content></novelWriterXML>', "not a novelWriter handle"),
])
def test_other_bad_project_files(tmp_path: Path, body: str, reason: str):
    (tmp_path / "nwProject.nwx").write_text(body, encoding="utf-8")
    with pytest.raises(NovelWriterError, match=reason):
        read(tmp_path)


def test_not_a_project(tmp_path: Path):
    with pytest.raises(NovelWriterError, match="has no nwProject.nwx"):
        read(tmp_path)
    other = tmp_path / "notes.txt"
    other.write_text("hello", encoding="utf-8")
    with pytest.raises(NovelWriterError, match="notes.txt: not a novelWriter project"):
        read(other)
    with pytest.raises(NovelWriterError, match="no such folder or file"):
        read(tmp_path / "gone")


def test_content_file_that_is_not_utf8(copy: Path):
    (copy / "content" / "b4fef342a2591.nwd").write_bytes(b"### Where\n\nJane \xff\xfe lost.")
    with pytest.raises(NovelWriterError, match=r"b4fef342a2591.nwd \(“Where is John\?”, handle "
                       r"b4fef342a2591\): is not UTF-8 text \(byte 0xff"):
        read(copy)


# --- older file versions -------------------------------------------------------------------

def test_version_1_0_project_with_data_folders():
    preview = read(LEGACY / "v1_0")
    data = preview.data
    assert preview.title == "The Lighthouse"
    assert data["metadata"]["authors"] == ["Ann Keeper", "Bo Light"]
    [chapter] = data["manuscript"]["chapters"]
    assert chapter["title"] == "The Storm"
    assert chapter["synopsis"] == "The keeper sees a ship in trouble."
    [scene] = chapter["scenes"]
    assert scene["title"] == "Night Watch"
    assert scene["segments"][0]["text"].startswith("The lamp turned all night and the **wind**")
    assert "The keeper counted the flashes, *one, two, three*" in scene["segments"][0]["text"]
    assert scene["segments"][2] == {"text": "A second light.", "gap": 0}
    assert scene["metadata"]["references"]["pov"] == ["Mara Quill"]
    [mara] = data["scene_bible"]["characters"]
    assert mara["name"] == "Mara Quill" and mara["aliases"] == ["Mara"]
    assert mara["description"].startswith("The last keeper of the Skerry light.")
    assert "Left out: 1 in the trash" in preview.summary
    assert bible_problems(data["scene_bible"]) == []


def test_version_1_3_project_with_archive():
    preview = read(LEGACY / "v1_3")
    data = preview.data
    assert data["language"] == "en-US"
    [chapter] = data["manuscript"]["chapters"]
    assert chapter["title"] == "The harbour" and chapter["status"] == "revised"
    assert [s["title"] for s in chapter["scenes"]] == ["Arrival", "Departure"]
    assert chapter["scenes"][0]["metadata"]["references"]["location"] == ["The Quay"]
    [quay] = data["scene_bible"]["setting"]["locations"]
    assert quay == {"name": "The Quay", "aliases": ["Quay", "Old Quay"],
                    "description": "Stone steps slick with weed, where the ferry comes in "
                                   "twice a day."}
    assert data["metadata"]["novelwriter"]["novel_words"] == 95
    assert any("Archive" in w for w in preview.warnings)


V14 = """<?xml version='1.0' encoding='utf-8'?>
<novelWriterXML appVersion="2.0-rc1" fileVersion="1.4" timeStamp="2022-10-15 12:12:59">
  <project><name>Tiny</name><author>Kim</author></project>
  <settings>
    <language>fr_FR</language>
    <status><entry key="s1" count="1" red="0" green="0" blue="0">Finished</entry></status>
    <importance><entry key="i1" count="1" red="0" green="0" blue="0">Main</entry></importance>
  </settings>
  <content count="6">
    <item handle="aaaaaaaaaaaa1" parent="None" root="aaaaaaaaaaaa1" order="0" type="ROOT"
          class="NOVEL"><meta expanded="True"/><name status="s1" import="i1">Novel</name></item>
    <item handle="aaaaaaaaaaaa3" parent="aaaaaaaaaaaa1" root="aaaaaaaaaaaa1" order="1"
          type="FILE" class="NOVEL" layout="DOCUMENT"><meta charCount="10" wordCount="2"/>
      <name status="s1" import="i1" exported="False">Second</name></item>
    <item handle="aaaaaaaaaaaa2" parent="aaaaaaaaaaaa1" root="aaaaaaaaaaaa1" order="0"
          type="FILE" class="NOVEL" layout="DOCUMENT"><meta charCount="10" wordCount="2"/>
      <name status="s1" import="i1" exported="True">First</name></item>
    <item handle="bbbbbbbbbbbb1" parent="None" root="bbbbbbbbbbbb1" order="1" type="ROOT"
          class="OBJECT"><meta/><name status="s1" import="i1">Things</name></item>
    <item handle="bbbbbbbbbbbb2" parent="bbbbbbbbbbbb1" root="bbbbbbbbbbbb1" order="0"
          type="FILE" class="OBJECT" layout="NOTE"><meta charCount="10" wordCount="2"/>
      <name status="s1" import="i1" exported="True">Key</name></item>
    <item handle="bbbbbbbbbbbb3" parent="bbbbbbbbbbbb1" root="bbbbbbbbbbbb1" order="1"
          type="FILE" class="OBJECT" layout="NOTE"><meta charCount="0" wordCount="0"/>
      <name status="s1" import="i1" exported="True">Never written</name></item>
  </content>
</novelWriterXML>
"""


def test_version_1_4_headingless_documents_become_scenes(tmp_path: Path):
    (tmp_path / "content").mkdir()
    (tmp_path / "nwProject.nwx").write_text(V14, encoding="utf-8")
    (tmp_path / "content" / "aaaaaaaaaaaa2.nwd").write_text("Il pleut.\n", encoding="utf-8")
    (tmp_path / "content" / "aaaaaaaaaaaa3.nwd").write_text("Il neige.\n", encoding="utf-8")
    (tmp_path / "content" / "bbbbbbbbbbbb2.nwd").write_text(
        "# The Brass Key\n\n@tag: Key\n\nOpens the lighthouse door.\n", encoding="utf-8")
    preview = read(tmp_path)
    [chapter] = preview.data["manuscript"]["chapters"]
    assert chapter["title"] == "Chapter 1"
    assert [s["title"] for s in chapter["scenes"]] == ["First", "Second"]  # by order
    assert chapter["scenes"][1]["metadata"]["excluded"] is True
    assert chapter["status"] == "final" and preview.data["language"] == "fr-FR"
    assert preview.data["scene_bible"]["setting"]["world_rules"] == [
        "The Brass Key (object): Opens the lighthouse door."]
    assert any("excluded" in w for w in preview.warnings)
    assert any("Never written" in w for w in preview.warnings)  # no file, nothing counted


def test_headingless_folders_become_chapters(tmp_path: Path):
    folders = V14.replace(
        '<item handle="aaaaaaaaaaaa3" parent="aaaaaaaaaaaa1"',
        '<item handle="cccccccccccc1" parent="aaaaaaaaaaaa1" order="2" type="FOLDER" '
        'class="NOVEL"><name>Part Two</name></item>\n'
        '<item handle="aaaaaaaaaaaa3" parent="cccccccccccc1"')
    (tmp_path / "content").mkdir()
    (tmp_path / "nwProject.nwx").write_text(folders, encoding="utf-8")
    (tmp_path / "content" / "aaaaaaaaaaaa2.nwd").write_text("Il pleut.\n", encoding="utf-8")
    (tmp_path / "content" / "aaaaaaaaaaaa3.nwd").write_text("Il neige.\n", encoding="utf-8")
    (tmp_path / "content" / "bbbbbbbbbbbb2.nwd").write_text(
        "# The Brass Key\n\n@tag: Key\n\nOpens the lighthouse door.\n", encoding="utf-8")
    chapters = read(tmp_path).data["manuscript"]["chapters"]
    assert [(c["title"], [s["title"] for s in c["scenes"]]) for c in chapters] == [
        ("Chapter 1", ["First"]), ("Part Two", ["Second"])]


# --- notes into the bible -----------------------------------------------------------------

def _note(cls: str, text: str, name: str = "Note") -> NoteSource:
    return NoteSource("0123456789abc", name, cls, "Root", parse_nwd(text))


def test_bible_keeps_names_unique_and_long_notes_whole():
    long_text = "# Ada\n\n@tag: Ada\n\n" + "\n\n".join(["word " * 400] * 15)
    result = build_bible([
        _note("CHARACTER", long_text),
        _note("CHARACTER", "# Ada\n\n@tag: Ada2 | Ada\n\nAnother Ada.", "Second"),
        _note("PLOT", "# The Heist\n\n@tag: Heist\n\n%short: Rob the bank.\n\nDetails."),
        _note("TIMELINE", "# Day 1\n\n@tag: D1\n\nArrival."),
        _note("ENTITY", "# The Guild\n\n@tag: Guild\n\nThieves."),
        _note("CHARACTER", "# The Family\n\nIntro with no tag.\n\n## Cy\n\n@tag: Cy\n\nHi."),
    ])
    bible = result.bible
    assert bible_problems(bible) == []
    names = [c["name"] for c in bible["characters"]]
    assert names == ["Ada", "Ada (2)", "Cy"]
    assert bible["characters"][1]["aliases"] == ["Ada2"]  # “Ada” names the first one
    assert 19000 < len(bible["characters"][0]["description"]) <= 20000
    assert bible["characters"][0]["description"].endswith("…")
    assert result.shortened == 1 and len(result.notes[-1]["text"]) > 20000
    assert result.renamed and "Ada (2)" in result.renamed[0]
    assert bible["plot_threads"][0]["description"] == "The Heist: Rob the bank.\n\nDetails."
    assert bible["plot_threads"][0]["keywords"] == ["The Heist", "Heist"]
    assert bible["timeline"]["events"][0]["event"] == "Day 1: Arrival."
    assert bible["setting"]["world_rules"] == ["The Guild (entity): Thieves."]
    assert {"title": "Note", "kind": "character", "text": "The Family\n\nIntro with no tag."} \
        in result.notes
    assert result.names["ada2"] == "Ada (2)" and result.names["cy"] == "Cy"


# --- the document parser -------------------------------------------------------------------

def test_parse_nwd_blocks():
    doc = parse_nwd("%%~name: X\n# Part\n##! Prologue\n%Synopsis: Short one.\n"
                    "%Note.idea: later\n%~ hidden\n@pov: Ann, Bo\n@bogus: x\n"
                    "[newpage]\n[vspace:3]\nLine one\nLine two[br]three\n\n#hashtag here\n"
                    "#### Section\n")
    assert doc.meta == {"name": "X"}
    assert doc.blocks == [
        Heading(1, "Part", False), Heading(2, "Prologue", True),
        Comment("synopsis", "", "Short one."), Comment("note", "idea", "later"),
        Keyword("pov", ("Ann", "Bo")),
        Paragraph(("Line one", "Line two", "three")), Paragraph(("#hashtag here",)),
        Heading(4, "Section", False)]


@pytest.mark.parametrize("source, expected", [
    ("**a** _b_ [b]c[/b] [i]d[/i]", "**a** *b* **c** *d*"),
    ("**_both_**", "***both***"),
    ("[b] padded [/b]end", "**padded** end"),
    ("in_word_underscores", "in_word_underscores"),
    ("~~gone~~ ==lit== [u]u[/u] [sup]2[/sup]", "gone lit u 2"),
    ("> indented <", "indented"),
    ("[field:textWords] words", "[field:textWords] words"),
])
def test_inline_formatting(source: str, expected: str):
    assert convert_lines([source])[0] == [expected]


def test_status_labels():
    assert [map_status(s) for s in ("New", "Notes", "Started", "1st Draft", "2nd Draft",
                                    "3rd Draft", "Finished", "Whatever")] == [
        "idea", "idea", "draft", "draft", "revised", "revised", "final", "draft"]


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_fuzz_parse_nwd_never_fails(text: str):
    assert isinstance(parse_nwd(text, {"A": "B"}), NwdDocument)


_LINES = st.sampled_from(["# T", "#! T", "## C", "##! C", "### S", "###! S", "#### s", "",
                          "%synopsis: x", "%short: y", "% c", "@tag: A | B", "@char: A",
                          "@location: A, B", "@pov:", "[newpage]", "**b** _i_ [b]x",
                          "[footnote:k]", "%Footnote.k: n", "text", "  ", "\t>> x <<"])
_DOCS = st.one_of(st.text(), st.lists(st.one_of(_LINES, st.text(max_size=30)),
                                      max_size=25).map("\n".join))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(novel=_DOCS, note=_DOCS)
def test_fuzz_whole_import_gives_valid_content_or_a_clear_error(novel: str, note: str):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "content").mkdir()
        (folder / "nwProject.nwx").write_text(V14, encoding="utf-8")
        for handle, text in (("aaaaaaaaaaaa2", novel), ("aaaaaaaaaaaa3", note),
                             ("bbbbbbbbbbbb2", note)):
            (folder / "content" / f"{handle}.nwd").write_text(text, encoding="utf-8",
                                                              errors="surrogatepass")
        try:
            preview = read(folder)
        except NovelWriterError:
            return
        assert bible_problems(preview.data["scene_bible"]) == []
        plan_manuscript(preview.data["manuscript"])


# --- all the way into a story --------------------------------------------------------------

def test_end_to_end_into_a_new_story(db):
    from studio.services import format_io, manuscript, stories
    from studio.services import bible as bible_service

    start = time.perf_counter()
    preview = format_io.preview_import(SAMPLE)
    outcome = format_io.apply_import(db, preview)
    print(f"novelWriter sample read and stored: {(time.perf_counter() - start) * 1000:.0f} ms")
    outline = manuscript.outline(db, outcome.story_id)
    assert [c.title for c in outline.chapters] == _expected_structure()[0]
    assert outline.word_target == 15000
    names = {c["name"] for c in bible_service.load(db, outcome.story_id).story_data[
        "characters"]}
    assert {"Jane Smith", "John Smith", "Bob Smith", "Alice"} <= names
    meta = stories.get_metadata(db, outcome.story_id)
    assert meta["author"] == "Jane Smith"
    assert outline.language == "en-GB"
    scene = manuscript.load_scene(db, outcome.story_id, outline.chapters[1].scenes[0].uid)
    assert scene.text.startswith("I am the very model of a modern Major-General\n"
                                 "I've information vegetable")


def test_refused_import_creates_nothing(db, copy: Path):
    from studio.services import format_io, stories

    (copy / "content" / "bb2c23b3c42cc.nwd").unlink()
    with pytest.raises(NovelWriterError, match="Jane Smith"):
        format_io.preview_import(copy)
    assert stories.list_stories(db) == []
