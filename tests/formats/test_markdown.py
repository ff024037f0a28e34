"""Markdown and plain-text import and export (no database: the preview and the writer).

Round trips go Markdown → preview → ExportDoc → Markdown and must come back as the same text;
every bad file is refused with ``MarkdownError`` naming the file and the reason; the parser is
fuzzed with hypothesis (nothing but ``MarkdownError`` may come out of it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.formats import front_matter, markdown, markdown_write
from studio.formats.markdown import MarkdownError
from studio.formats.registry import ExportDoc, ExportOptions

FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

NOVEL = """---
title: "The Storm"
author: Jane Doe
language: fr
tags: [sea, grief]
series:
  name: Coast
  number: 2
---

# One

> *Synopsis:* The storm comes.

## Arrival

It was a dark
and stormy night.

Second paragraph.

***

After the break.

# Two

Text without a scene heading.

### A deeper heading stays prose

\\# an escaped hash
"""


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def chapters(preview) -> list[dict[str, Any]]:
    return preview.data["manuscript"]["chapters"]


def texts(scene: dict[str, Any]) -> list[str]:
    return [s["text"] for s in scene["segments"]]


def as_doc(preview) -> ExportDoc:
    """What ``format_io.build_doc`` would hand the exporter after the import (ids, meta)."""
    data = preview.data
    content = {"manuscript": {"chapters": [
        {"id": f"chap_{i:04d}", "title": ch["title"],
         "meta": {"synopsis": ch["synopsis"]} if ch["synopsis"] else {},
         "scenes": [{"id": f"scene_{i:02d}{j:02d}", "title": sc["title"],
                     "meta": {"synopsis": sc["synopsis"]} if sc["synopsis"] else {},
                     "segments": [{"id": f"seg_{k}", "text": s["text"]}
                                  for k, s in enumerate(sc["segments"])]}
                    for j, sc in enumerate(ch["scenes"])]}
        for i, ch in enumerate(data["manuscript"]["chapters"])]}}
    return ExportDoc(title=data["title"], content=content, language=data.get("language", "en"),
                     logline=data.get("logline", ""), genre=data.get("genre", ""),
                     metadata=data.get("metadata", {}))


# --- import --------------------------------------------------------------------------------

def test_front_matter_headings_scene_breaks_and_synopses(tmp_path):
    preview = markdown.read(write(tmp_path / "storm.md", NOVEL))
    assert preview.kind == "story" and preview.title == "The Storm"
    data = preview.data
    assert data["language"] == "fr"
    assert data["metadata"] == {"author": "Jane Doe", "tags": ["sea", "grief"],
                                "series": {"name": "Coast", "number": 2}}
    one, two = chapters(preview)
    assert one["title"] == "One" and one["synopsis"] == "The storm comes."
    assert [sc["title"] for sc in one["scenes"]] == ["Arrival", "Scene 2"]
    assert texts(one["scenes"][0]) == ["It was a dark and stormy night.", "Second paragraph."]
    assert texts(one["scenes"][1]) == ["After the break."]
    assert [sc["title"] for sc in two["scenes"]] == ["Scene 1"]
    assert texts(two["scenes"][0]) == ["Text without a scene heading.",
                                       "### A deeper heading stays prose", "# an escaped hash"]
    assert "2 chapters, 3 scenes" in preview.summary[1]
    assert "Author: Jane Doe" in preview.summary


@pytest.mark.parametrize("symbol", ["***", "---", "* * *", "#", "___", "- - -"])
def test_every_scene_break_symbol(tmp_path, symbol):
    preview = markdown.read(write(tmp_path / "b.md", f"# C\n\nOne.\n\n{symbol}\n\nTwo.\n"))
    [chapter] = chapters(preview)
    assert [texts(sc) for sc in chapter["scenes"]] == [["One."], ["Two."]]


def test_heading_levels_are_configurable(tmp_path):
    text = "# My Book\n\n## Part One\n\n### The First\n\nProse.\n\n### The Second\n\nMore.\n"
    path = write(tmp_path / "levels.md", text)
    preview = markdown.read(path, chapter_level=3, scene_level=None)
    assert preview.title == "My Book"  # the heading above the chapters names the story
    first, second = chapters(preview)
    assert (first["title"], second["title"]) == ("The First", "The Second")
    assert first["metadata"] == {"part": "Part One"}
    default = markdown.read(path)
    assert [c["title"] for c in chapters(default)] == ["My Book"]
    with pytest.raises(MarkdownError, match="levels.md: the scene heading level"):
        markdown.read(path, chapter_level=2, scene_level=2)


def test_prose_before_the_first_heading_gets_a_chapter(tmp_path):
    preview = markdown.read(write(tmp_path / "p.md", "Opening lines.\n\n# Real\n\nText.\n"))
    assert [c["title"] for c in chapters(preview)] == ["Chapter 1", "Real"]
    assert preview.title == "P"


def test_plain_text_chapters_paragraphs_and_breaks(tmp_path):
    text = ("CHAPTER I.\nDown the Rabbit-Hole\n\nAlice was beginning\nto get very tired.\n\n"
            "So she was considering.\n\n* * *\n\nLater.\n\nChapter 2\n\nThe pool of tears.\n")
    preview = markdown.read(write(tmp_path / "alice.txt", text))
    first, second = chapters(preview)
    assert first["title"] == "CHAPTER I. Down the Rabbit-Hole"
    assert [texts(sc) for sc in first["scenes"]] == [
        ["Alice was beginning to get very tired.", "So she was considering."], ["Later."]]
    assert second["title"] == "Chapter 2"
    one_line_each = markdown.read(write(tmp_path / "lines.txt", "First.\nSecond.\nThird.\n"))
    assert texts(chapters(one_line_each)[0]["scenes"][0]) == ["First.", "Second.", "Third."]


def test_folder_files_in_natural_order(tmp_path):
    folder = tmp_path / "book"
    folder.mkdir()
    write(folder / "10-last.md", "The end.\n")
    write(folder / "2-middle.md", "# Named by heading\n\nMiddle.\n")
    write(folder / "1-the-start.txt", "Beginning.\n")
    write(folder / ".hidden.md", "# never\n")
    write(folder / "notes.rtf", "{\\rtf1}")
    preview = markdown.read(folder)
    assert [c["title"] for c in chapters(preview)] == ["The start", "Named by heading", "Last"]
    assert "from 3 files" in preview.summary[1]


def test_encodings(tmp_path):
    bom = markdown.read(write(tmp_path / "bom.md", "\ufeff# Café\n\nNaïve.\n"))
    assert chapters(bom)[0]["title"] == "Café" and not bom.warnings
    latin = markdown.read(write(tmp_path / "old.txt", "Caf\xe9 \u201cquoted\u201d.\n",
                                "cp1252"))
    assert texts(chapters(latin)[0]["scenes"][0]) == ["Café “quoted”."]
    assert any("old.txt is not UTF-8" in w for w in latin.warnings)
    with pytest.raises(MarkdownError, match="odd.txt is not UTF-8 or Windows-1252"):
        markdown.read(_bytes(tmp_path / "odd.txt", b"Caf\xe9 \x81\x8d"))
    crlf = markdown.read(write(tmp_path / "crlf.md", "# A\r\n\r\nOne\r\ntwo.\r\n"))
    assert texts(chapters(crlf)[0]["scenes"][0]) == ["One two."]


@pytest.mark.parametrize("name, content, reason", [
    ("open.md", b"---\ntitle: x\n\n# Chapter\n", "never closed"),
    ("bad.md", b"---\ntitle: x\nthis is not a key value line\n---\n", "line 3"),
    ("deep.md", b"---\na:\n  b:\n    - c\n---\n", "nested deeper"),
    ("quote.md", b"---\ntitle: \"unclosed\n---\n", "not closed"),
    ("binary.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file"),
    ("empty.md", b"", "empty"),
    ("blank.txt", b"\n\n   \n", "empty"),
    ("only-front.md", b"---\ntitle: x\n---\n", "empty"),
])
def test_bad_files_are_refused_by_name(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(MarkdownError) as err:
        markdown.read(path)
    assert name in str(err.value) and reason in str(err.value)


def test_oversized_and_missing(tmp_path, monkeypatch):
    big = tmp_path / "huge.txt"
    with big.open("wb") as fh:  # sparse: 100 MB on paper, nothing on disk
        fh.truncate(100 * 1024 * 1024)
    with pytest.raises(MarkdownError, match=r"huge.txt is 100 MB; .* up to 50 MB"):
        markdown.read(big)
    empty = tmp_path / "nothing"
    empty.mkdir()
    with pytest.raises(MarkdownError, match="nothing holds no Markdown or text files"):
        markdown.read(empty)


def test_progress_and_cancel_while_reading(tmp_path):
    path = write(tmp_path / "long.md", "# C\n\n" + "A line of prose.\n\n" * 30000)
    seen: list[tuple[int, int]] = []
    markdown.read(path, progress=lambda done, total: seen.append((done, total)))
    assert len(seen) >= 3 and seen[-1] == (1, 1) and seen[1][1] > 60000

    class Stop(Exception):
        pass

    def stop(done, total):
        if done:
            raise Stop

    with pytest.raises(Stop):
        markdown.read(path, progress=stop)


# --- export and round trips ----------------------------------------------------------------

def test_round_trip_file_is_stable(tmp_path):
    first = markdown.read(write(tmp_path / "storm.md", NOVEL))
    options = ExportOptions(synopses=True)
    text = markdown_write.render(as_doc(first), options)
    again = markdown.read(write(tmp_path / "again.md", text))
    assert again.data == first.data or _normalised(again.data) == _normalised(first.data)
    assert markdown_write.render(as_doc(again), options) == text
    assert text.startswith('---\ntitle: "The Storm"\nauthor: "Jane Doe"\nlanguage: "fr"\n')
    assert "\n# One\n\n> *Synopsis:* The storm comes.\n\n## Arrival\n" in text
    assert "\\### A deeper heading stays prose" in text


def _normalised(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "metadata": dict(sorted((data.get("metadata") or {}).items()))}


def test_round_trip_with_scene_break_symbols_and_folder(tmp_path):
    first = markdown.read(write(tmp_path / "storm.md", NOVEL))
    doc = as_doc(first)
    for symbol in ("* * *", "#", "❦"):
        options = ExportOptions(synopses=True, scene_break=symbol,
                                extra={"scene_headings": False})
        text = markdown_write.render(doc, options)
        back = markdown.read(write(tmp_path / "breaks.md", text))
        assert [[texts(sc) for sc in c["scenes"]] for c in chapters(back)] == \
            [[texts(sc) for sc in c["scenes"]] for c in chapters(first)], symbol
    folder = markdown_write.write_folder(doc, tmp_path / "out", ExportOptions(synopses=True))
    assert sorted(p.name for p in folder.iterdir()) == ["01-one.md", "02-two.md"]
    back = markdown.read(folder)
    assert _normalised(back.data) == _normalised(first.data)


def test_export_options_chapters_and_no_front_matter():
    doc = ExportDoc(title="T", content={"manuscript": {"chapters": [
        {"id": "chap_a", "title": "A", "scenes": []},
        {"id": "chap_b", "title": "B", "scenes": [
            {"id": "scene_b", "title": "", "segments": [{"id": "seg_1", "text": "***"}]}]}]}})
    text = markdown_write.render(doc, ExportOptions(chapters=("chap_b",), front_matter=False))
    assert text == "# B\n\n## Scene 1\n\n\\***\n"


def test_front_matter_dump_reads_back():
    data = {"title": "A: \"quoted\" #tag", "n": 3, "ok": True, "list": ["a", "b, c"],
            "nested": {"x": 1}, "bad:key": "v"}
    text = front_matter.dump(data)
    parsed, rest, lines = front_matter.split(text + "body", "f.md")
    assert rest == "body" and lines == len(data) + 2
    assert parsed == {**{k: v for k, v in data.items() if k != "bad:key"}, "bad_key": "v"}


# --- fuzzing -------------------------------------------------------------------------------

@FUZZ
@given(st.binary(max_size=2000))
def test_fuzz_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "f.md"
    path.write_bytes(data)
    try:
        markdown.read(path)
    except MarkdownError:
        pass


@FUZZ
@given(st.lists(st.sampled_from(["key: ", "- ", "  ", "  - ", "  sub: ", "[", "]", "{", "}",
                                 "\"", "'", ",", ":", "#", " #", "|", ">", "\n", "...",
                                 "true", "12"]) | st.text(max_size=8), max_size=40))
def test_fuzz_front_matter(pieces):
    text = "---\n" + "".join(pieces) + "\n---\nbody"
    try:
        data, rest, _ = front_matter.split(text, "f.md", MarkdownError)
    except MarkdownError as exc:
        assert "f.md" in str(exc)
        return
    assert isinstance(data, dict)
    # what was read writes out and reads back the same
    again, _, _ = front_matter.split(front_matter.dump(data) + "x", "g.md", MarkdownError)
    expected = {front_matter_key(k): v for k, v in data.items()}
    if len(expected) == len(data):  # keys that only differ by a ':' or '#' may merge
        assert again == expected


def front_matter_key(key: str) -> str:
    import re

    return re.sub(r"[:\n#]", "_", str(key)).strip().lstrip("-") or "key"


MD_PIECES = st.sampled_from(["# ", "## ", "### ", "---", "***", "* * *", "#", "\n", "\n\n",
                             "> ", "> *Synopsis:* ", "```", "~~~", "  \n", "\\", "title: ",
                             ": ", "- ", "[", "]", "{", "\"", "'", "Chapter 1", "word ",
                             "\t", "\r\n", "\ufeff", "é"])


@FUZZ
@given(st.lists(MD_PIECES | st.text(max_size=12), max_size=60),
       st.sampled_from([".md", ".txt"]),
       st.integers(1, 3), st.sampled_from([None, 2, 3, 4]))
def test_fuzz_markdown_text(tmp_path_factory, pieces, suffix, chapter_level, scene_level):
    path = tmp_path_factory.mktemp("fuzz") / f"f{suffix}"
    path.write_bytes("".join(pieces).encode("utf-8", "replace"))
    try:
        preview = markdown.read(path, chapter_level=chapter_level, scene_level=scene_level)
    except MarkdownError:
        return
    # Whatever was read writes out and reads back without error.
    text = markdown_write.render(as_doc(preview), ExportOptions(synopses=True))
    out = path.with_name("again.md")
    out.write_text(text, encoding="utf-8")
    markdown.read(out)
