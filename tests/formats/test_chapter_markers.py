"""‹chapter-N› files: the grammar, its errors, character names, and write → parse round trips."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.domain.errors import ImportFormatError
from studio.formats.chapter_markers import (
    ChapterMarkerError, complete_graph, parse_chapter_markers, read_chapter_markers,
    resolve_characters, write_chapter_markers,
)

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "resources" / "samples" / "chapters"
SCHEMA = json.loads((REPO / "resources" / "schemas" / "chapter_graph.schema.json")
                    .read_text(encoding="utf-8"))
ID_RE = re.compile(r"^gch_[0-9a-f]{8}$")


def by_numbers(graph: dict, keep_source: bool = False) -> list[dict]:
    """The graph's chapters (completed with defaults) with every chapter id replaced by its
    number, so graphs with different ids compare equal; ``source`` is dropped unless asked."""
    chapters = complete_graph(graph)["chapters"]
    number = {c["id"]: c["number"] for c in chapters}
    out = []
    for chapter in chapters:
        chapter["id"] = chapter["number"]
        chapter["prerequisites"] = [number[p] for p in chapter["prerequisites"]]
        chapter["alternate_of"] = number[chapter["alternate_of"]] \
            if chapter["alternate_of"] else None
        if not keep_source:
            chapter.pop("source")
        out.append(chapter)
    return out


def chapter(number: int, title: str, **fields) -> dict:
    base = {"id": number, "number": number, "title": title, "description": "", "summary": "",
            "status": "draft", "prerequisites": [], "triggers": [], "instructions": "",
            "beats": [], "allow_divergence": True, "threshold": 0.4, "source": "imported",
            "alternate_of": None, "manuscript_chapter": None, "position": None}
    base.update(fields)
    return base


def cond(kind: str, value: str, critical: bool = False, alternatives=(), key=None) -> dict:
    out = {"kind": kind, "value": value, "critical": critical, "alternatives": list(alternatives)}
    if key is not None:
        out["key"] = key
    return out


FULL_EXAMPLE = """\
# The king's story
# (comments and blank lines may come before the first marker)

‹chapter-1› The King's Summons
Requires: none
Location: throne room !
Characters: char_king, char_herald
Items: royal decree
When: alarm = rung
Summary: The herald brings the hero before the king.
The king is old.

He has not slept.
Instructions: Keep the court formal.
Beat: The king names the hero his envoy (1)
Beat: A courtier laughs
Divergence: allowed, threshold 0.4
Status: draft
Position: 10, -20.5

<CHAPTER-2> The Royal Decree
requires: 1
STATUS: Revised
Items: royal decree | forged decree !, signet ring
When: route = north road | river ford !
Description: What the decree does.
Beat: The seal is broken (2)
Divergence: not allowed, threshold 0.25
Manuscript: chap_9f2a

‹chapter-3› The Usurper's Court
Requires: 1, 2
Alternate of: 2
Status: idea
Divergence: threshold 0.7
"""


def test_full_example_gives_the_exact_graph():
    graph = parse_chapter_markers(FULL_EXAMPLE)
    ids = [c["id"] for c in graph["chapters"]]
    assert all(ID_RE.match(i) for i in ids) and len(set(ids)) == 3
    assert graph["chapters"][2]["prerequisites"] == ids[:2]
    assert graph["chapters"][2]["alternate_of"] == ids[1]
    assert by_numbers(graph, keep_source=True) == [
        chapter(1, "The King's Summons",
                summary="The herald brings the hero before the king.\nThe king is old.\n\n"
                        "He has not slept.",
                triggers=[cond("location", "throne room", critical=True),
                          cond("character", "char_king"), cond("character", "char_herald"),
                          cond("item", "royal decree"),
                          cond("key", "rung", key="alarm")],
                instructions="Keep the court formal.",
                beats=[{"text": "The king names the hero his envoy", "priority": 1},
                       {"text": "A courtier laughs", "priority": 3}],
                threshold=0.4, position={"x": 10, "y": -20.5}),
        chapter(2, "The Royal Decree", status="revised", prerequisites=[1],
                triggers=[cond("item", "royal decree", True, ["forged decree"]),
                          cond("item", "signet ring"),
                          cond("key", "north road", True, ["river ford"], key="route")],
                description="What the decree does.",
                beats=[{"text": "The seal is broken", "priority": 2}],
                allow_divergence=False, threshold=0.25, manuscript_chapter="chap_9f2a"),
        chapter(3, "The Usurper's Court", status="idea", prerequisites=[1, 2],
                alternate_of=2, threshold=0.7),
    ]
    jsonschema.validate(graph, SCHEMA)


def test_windows_line_endings_and_bom_read_the_same():
    plain = by_numbers(parse_chapter_markers(FULL_EXAMPLE))
    assert by_numbers(parse_chapter_markers("\ufeff" + FULL_EXAMPLE.replace("\n", "\r\n"))) \
        == plain
    assert by_numbers(parse_chapter_markers(FULL_EXAMPLE.replace("\n", "\r"))) == plain


def test_multi_line_text_rules():
    text = ("‹chapter-1› A\n"
            "Summary:\n"
            "\n"
            "   First line, indented in the file.   \n"
            "Note: an unknown field name inside text is text\n"
            "# a comment inside text is dropped\n"
            "\n"
            "\n"
            "\\Beat: escaped, so text\n"
            "\\#hashtag\n"
            "\\   kept indent\n"
            "\n"
            "Instructions: one\n"
            "two\n")
    only = parse_chapter_markers(text)["chapters"][0]
    assert only["summary"] == ("First line, indented in the file.\n"
                               "Note: an unknown field name inside text is text\n\n\n"
                               "Beat: escaped, so text\n#hashtag\n   kept indent")
    assert only["instructions"] == "one\ntwo"
    assert only["beats"] == []


def test_escapes_in_one_line_values():
    text = ("‹chapter-1› Rock \\& Roll\\ \n"
            "Location: fields\\, east | \\ padded\\ , last\\!\n"
            "When: a\\=b = c = d | e\\|f !\n"
            "Beat: line\\nbreak (2) \\(3)\n")
    only = parse_chapter_markers(text)["chapters"][0]
    assert only["title"] == "Rock & Roll "
    assert only["triggers"] == [
        cond("location", "fields, east", alternatives=[" padded "]),
        cond("location", "last!"),
        cond("key", "c = d", True, ["e|f"], key="a=b"),
    ]
    assert only["beats"] == [{"text": "line\nbreak (2) (3)", "priority": 3}]


@pytest.mark.parametrize("text, line, fragment", [
    ("", 1, "no chapters"),
    ("\n\n# only a comment\n", 1, "no chapters"),
    ("# intro\nOnce upon a time\n‹chapter-1› A\n", 2, "before the first chapter marker"),
    ("‹chapter-1› A\nMood: dark\n", 2, "unknown field “Mood”"),
    ("‹chapter-1› A\nStatus: draft\nThe king is old.\n", 3, "expected a field"),
    ("‹chapter-1› A\n\n‹chapter-2› B\nRequires: 1, 7\n", 4, "there is no chapter 7"),
    ("‹chapter-1› A\nRequires: 1\n", 2, "cannot refer to itself"),
    ("‹chapter-1› A\n‹chapter-2› B\nRequires: 1, 1\n", 3, "listed twice"),
    ("‹chapter-1› A\nRequires: first\n", 2, "expected chapter numbers"),
    ("‹chapter-1› A\nSummary: x\n‹chapter-1› B\n", 3, "already defined on line 1"),
    ("‹chapter-1› A\nBeat: Too eager (0)\n", 2, "priority (0) must be 1"),
    ("‹chapter-1› A\nBeat: Too lazy (6)\n", 2, "priority (6) must be 1"),
    ("‹chapter-1› A\nBeat: (2)\n", 2, "no text"),
    ("‹chapter-1› A\nDivergence: allowed, threshold 1.5\n", 2, "from 0 to 1"),
    ("‹chapter-1› A\nDivergence: allowed, threshold lots\n", 2, "from 0 to 1"),
    ("‹chapter-1› A\nDivergence: sometimes\n", 2, "expected “allowed”"),
    ("‹chapter-1 A\n", 1, "not a chapter marker"),
    ("<chapter-x> A\n", 1, "not a chapter marker"),
    ("‹chapter-1›   \n", 1, "has no title"),
    ("‹chapter-0› Zero\n", 1, "out of range"),
    ("‹chapter-1› A\nStatus: done\n", 2, "not one of idea, draft, revised, final"),
    ("‹chapter-1› A\nStatus: draft\nSummary: s\nStatus: final\n", 4, "given twice"),
    ("‹chapter-1› A\nAlternate of: 4\n", 2, "there is no chapter 4"),
    ("‹chapter-1› A\nLocation: gate, , hall\n", 2, "empty value"),
    ("‹chapter-1› A\nLocation: gate | !\n", 2, "empty value"),
    ("‹chapter-1› A\nWhen: alarm rung\n", 2, "“key = value”"),
    ("‹chapter-1› A\nWhen: = rung\n", 2, "key before “=” is empty"),
    ("‹chapter-1› A\nPosition: 10\n", 2, "two numbers"),
    ("‹chapter-1› A\nManuscript: chapter one\n", 2, "manuscript chapter id"),
])
def test_errors_name_their_line(text, line, fragment):
    with pytest.raises(ChapterMarkerError) as caught:
        parse_chapter_markers(text)
    error = caught.value
    assert isinstance(error, ImportFormatError)
    assert error.line == line
    assert str(error).startswith(f"line {line}: ")
    assert fragment in str(error)


def test_cycles_are_left_to_the_caller():
    graph = parse_chapter_markers("‹chapter-1› A\nRequires: 2\n‹chapter-2› B\nRequires: 1\n")
    assert [c["prerequisites"] for c in by_numbers(graph)] == [[2], [1]]


# --- characters by name -----------------------------------------------------------------------

NAMED = """\
‹chapter-1› Court
Characters: King Aldric, char_herald, the chancellor | Herald
‹chapter-2› Road
Characters: Stranger !
Location: King Aldric
"""


def test_resolve_characters_maps_names_and_reports_unknown_ones():
    graph = parse_chapter_markers(NAMED)
    before = json.dumps(graph, sort_keys=True)
    names = {"King Aldric": "char_king", "The Chancellor": "char_chancellor",
             "Herald": "char_herald"}
    resolved, unknown = resolve_characters(graph, names)
    assert json.dumps(graph, sort_keys=True) == before          # input untouched
    assert [t["value"] for t in resolved["chapters"][0]["triggers"]] == \
        ["char_king", "char_herald", "char_chancellor"]
    assert resolved["chapters"][0]["triggers"][2]["alternatives"] == ["char_herald"]
    # locations are not characters: a location named like a character stays as it is
    assert resolved["chapters"][1]["triggers"][1]["value"] == "King Aldric"
    assert unknown == [("chapters/1/triggers/0/value", "Stranger")]


def test_resolve_characters_refuses_ambiguous_case_folding():
    graph = parse_chapter_markers("‹chapter-1› A\nCharacters: ANN\n")
    _, unknown = resolve_characters(graph, {"Ann": "char_a", "ann": "char_b"})
    assert unknown == [("chapters/0/triggers/0/value", "ANN")]


def test_write_with_character_names_then_resolve_gives_the_graph_back():
    graph, _ = resolve_characters(parse_chapter_markers(FULL_EXAMPLE),
                                  {"King Aldric": "char_king"})
    names = {"char_king": "King Aldric", "char_herald": "Herald, the Loud"}
    text = write_chapter_markers(graph, names)
    assert "Characters: King Aldric, Herald\\, the Loud" in text
    back = parse_chapter_markers(text)
    assert by_numbers(back) != by_numbers(graph)
    resolved, unknown = resolve_characters(back, {v: k for k, v in names.items()})
    assert unknown == []
    assert by_numbers(resolved) == by_numbers(graph)


# --- samples and files ------------------------------------------------------------------------

def test_kings_envoy_sample_is_a_valid_branching_graph():
    graph = read_chapter_markers(SAMPLES / "the_kings_envoy.chapters.txt")
    jsonschema.validate(graph, SCHEMA)
    chapters = by_numbers(graph)
    assert [c["number"] for c in chapters] == [1, 2, 3, 4, 5, 6]
    assert {c["number"]: c["prerequisites"] for c in chapters} == \
        {1: [], 2: [1], 3: [2], 4: [2], 5: [3], 6: [4]}
    assert chapters[0]["title"] == "The King's Summons"
    assert cond("location", "throne room", critical=True) in chapters[0]["triggers"]
    assert cond("item", "royal decree", critical=True) in chapters[1]["triggers"]
    characters = {t["value"] for c in chapters for t in c["triggers"]
                  if t["kind"] == "character"}
    assert characters == {"char_king", "char_herald", "char_chancellor"}


def test_every_feature_sample_parses_and_validates_once_names_are_resolved():
    graph = read_chapter_markers(SAMPLES / "every_feature.chapters.txt")
    resolved, unknown = resolve_characters(graph, {"Captain Ilsa": "char_ilsa"})
    assert unknown == []
    jsonschema.validate(resolved, SCHEMA)
    first, second, third, fourth = by_numbers(resolved)
    assert first["title"] == "The Gate, the Bell & the Watch"
    assert "Beat: this line starts with a backslash" in first["summary"]
    assert third["alternate_of"] == 2 and third["status"] == "idea"
    assert second["manuscript_chapter"] == "chap_1a2b3c" and second["allow_divergence"] is False
    assert fourth["prerequisites"] == [2, 3] and fourth["threshold"] == 0.6


@pytest.mark.parametrize("name", ["the_kings_envoy.chapters.txt",
                                  "every_feature.chapters.txt"])
def test_samples_round_trip(name):
    graph = read_chapter_markers(SAMPLES / name)
    assert by_numbers(parse_chapter_markers(write_chapter_markers(graph))) == by_numbers(graph)


def test_read_refuses_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(ImportFormatError, match="does not exist"):
        read_chapter_markers(tmp_path / "nope.txt")
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("‹chapter-1› Caf\xe9".encode("latin-1", errors="replace"))
    with pytest.raises(ImportFormatError, match="not a UTF-8"):
        read_chapter_markers(bad)


def test_write_refuses_graphs_it_cannot_express():
    with pytest.raises(ValueError, match="not in the graph"):
        write_chapter_markers({"chapters": [{"id": "gch_a", "number": 1, "title": "A",
                                             "prerequisites": ["gch_zz"]}]})
    with pytest.raises(ValueError, match="used twice"):
        write_chapter_markers({"chapters": [{"id": "gch_a", "number": 1, "title": "A"},
                                            {"id": "gch_b", "number": 1, "title": "B"}]})


def test_write_fills_defaults_for_sparse_chapters():
    sparse = {"chapters": [{"id": "gch_a", "number": 4, "title": "Only"}]}
    text = write_chapter_markers(sparse)
    assert "‹chapter-4› Only\nRequires: none\nStatus: draft\n" in text
    assert by_numbers(parse_chapter_markers(text)) == by_numbers(sparse)


# --- property: write → parse is the identity (ids aside) -------------------------------------

_SPECIALS = list("[]{}|<>-!,=\\#:()‹›\t ") + [
    "‹chapter-1›", "<chapter-2>", "Beat:", "Summary:", "\u00a0", "\x0c",   # markers
    "[[", "]]", "->", "<-", "::", "<!--", "-->"]                             # Twee, Twine
_chars = st.one_of(st.sampled_from(_SPECIALS),
                   st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"))
line_text = st.lists(_chars, max_size=12).map("".join)
value = line_text.filter(lambda s: s != "")
title = line_text.filter(lambda s: s.strip() != "")


def canonical(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


multi_line = st.lists(line_text, max_size=4).map(lambda ls: canonical("\n".join(ls)))
one_line_with_breaks = st.lists(value, min_size=1, max_size=3).map("\n".join)
number = st.one_of(st.integers(-10**6, 10**6),
                   st.floats(allow_nan=False, allow_infinity=False, width=64))


@st.composite
def condition(draw):
    kind = draw(st.sampled_from(["location", "item", "character", "key"]))
    out = {"kind": kind, "value": draw(one_line_with_breaks), "critical": draw(st.booleans()),
           "alternatives": draw(st.lists(value, max_size=2))}
    if kind == "key":
        out["key"] = draw(value)
    return out


@st.composite
def graphs(draw):
    numbers = draw(st.lists(st.integers(1, 100_000), min_size=1, max_size=5, unique=True))
    ids = [f"gch_{i:08x}" for i in range(len(numbers))]
    chapters = []
    for chapter_id, n in zip(ids, numbers):
        others = [i for i in ids if i != chapter_id]
        chapters.append({
            "id": chapter_id, "number": n, "title": draw(title),
            "description": draw(multi_line), "summary": draw(multi_line),
            "status": draw(st.sampled_from(["idea", "draft", "revised", "final"])),
            "prerequisites": draw(st.lists(st.sampled_from(others), unique=True, max_size=3))
            if others else [],
            "triggers": draw(st.lists(condition(), max_size=4)),
            "instructions": draw(multi_line),
            "beats": draw(st.lists(st.fixed_dictionaries(
                {"text": one_line_with_breaks, "priority": st.integers(1, 5)}), max_size=3)),
            "allow_divergence": draw(st.booleans()),
            "threshold": draw(st.floats(0, 1)),
            "source": "imported",
            "alternate_of": draw(st.one_of(st.none(), st.sampled_from(others)))
            if others else None,
            "manuscript_chapter": draw(st.one_of(st.none(),
                                                 st.from_regex(r"chap_[0-9a-z]{1,6}",
                                                               fullmatch=True))),
            "position": draw(st.one_of(st.none(),
                                       st.fixed_dictionaries({"x": number, "y": number}))),
        })
    return {"chapters": chapters}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_write_then_parse_reproduces_any_graph(graph):
    text = write_chapter_markers(graph)
    assert by_numbers(parse_chapter_markers(text)) == by_numbers(graph)


# --- the contract with the chapter-graph domain model -----------------------------------------

def test_parsed_graphs_are_in_the_domain_models_canonical_form():
    from studio.domain import chapters as rules
    graph = read_chapter_markers(SAMPLES / "every_feature.chapters.txt")
    assert [rules.Chapter.from_dict(c).as_dict() for c in graph["chapters"]] == graph["chapters"]
    sparse = {"id": "gch_a", "number": 1, "title": "A"}
    assert complete_graph({"chapters": [sparse]})["chapters"] == \
        [rules.Chapter.from_dict(sparse).as_dict()]
    kings = read_chapter_markers(SAMPLES / "the_kings_envoy.chapters.txt")
    assert rules.graph_problems(kings, {"char_king", "char_herald", "char_chancellor"}) == []
