"""Character cards: real SillyTavern cards import, card → bible → card keeps every field,
ccv3 wins over chara, CHARX zips, bad files refused by name, exports, fuzzing."""

from __future__ import annotations

import base64
import copy
import json
import zipfile
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.formats import card_files, cards, png_text
from studio.formats.cards import CardError, CardExportError, bible_to_card
from studio.formats.lore_builder import Builder
from studio.formats.registry import ExportDoc, ExportOptions, exporter, importer_for
from studio.services.schemas import bible_problems

SHARED = Path("/work/shared/testdata/cards")
OWN = Path(__file__).resolve().parents[1] / "data" / "cards"
REAL = sorted(SHARED.glob("*.png"))
V2_ADDED_BY_V3 = {"group_only_greetings": []}


def original_card(path: Path, keyword: str = "chara") -> dict:
    pairs = dict(png_text.texts(png_text.read_chunks(path.read_bytes())))
    return json.loads(base64.b64decode(pairs[keyword]))


def card_png_bytes(*pairs: tuple[str, dict | str], image: bytes | None = None) -> bytes:
    encoded = [(k, v if isinstance(v, str) else
                base64.b64encode(json.dumps(v).encode()).decode()) for k, v in pairs]
    return png_text.with_texts(image or png_text.placeholder_png("t", 8, 8), encoded)


def storable(bible: dict) -> dict:
    """The preview's bible as the service validates it (portrait bytes taken off)."""
    bible = copy.deepcopy(bible)
    for char in bible.get("characters", []):
        char.pop("portrait_data", None)
    return bible


def the_character(bible: dict) -> dict:
    return bible["characters"][0]


def v2_card(name: str = "Pip", **data) -> dict:
    return {"spec": "chara_card_v2", "spec_version": "2.0",
            "data": {"name": name, "description": "", "personality": "", "scenario": "",
                     "first_mes": "", "mes_example": "", "creator_notes": "",
                     "system_prompt": "", "post_history_instructions": "",
                     "alternate_greetings": [], "tags": [], "creator": "",
                     "character_version": "", "extensions": {}, **data}}


# --- the real cards ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", REAL, ids=lambda p: p.stem)
def test_every_shared_card_imports_as_one_valid_bible_character(path):
    preview = cards.read(path)
    original = original_card(path)["data"]
    char = the_character(preview.data)
    assert preview.kind == "bible" and preview.format == "card"
    assert preview.title == char["name"] == original["name"]
    assert char["id"].startswith("char_")
    assert char.get("description", "") == original["description"]
    kept = char["extensions"]["card"]["data"]
    assert kept["first_mes"] == original["first_mes"]
    assert kept["alternate_greetings"] == original["alternate_greetings"]
    assert kept["extensions"] == original["extensions"]
    assert bible_problems(storable(preview.data)) == []
    # the portrait is the card's own image, without the card in it
    portrait = char["portrait_data"]
    chunks = png_text.read_chunks(portrait)
    assert png_text.texts(chunks) == []
    idat = [c.data for c in png_text.read_chunks(path.read_bytes()) if c.type == b"IDAT"]
    assert [c.data for c in chunks if c.type == b"IDAT"] == idat
    assert importer_for(path).id == "card"


def test_seraphina_book_entries_become_bible_entries_with_their_keys_as_aliases():
    preview = cards.read(SHARED / "default_Seraphina.png")
    bible = preview.data
    assert [c["name"] for c in bible["characters"]] == ["Seraphina"]
    places = {loc["name"]: loc for loc in bible["setting"]["locations"]}
    assert set(places) == {"Eldoria", "Glade"}
    assert places["Eldoria"]["aliases"] == ["wood", "forest", "magical forest"]
    assert places["Glade"]["aliases"] == ["safe haven", "refuge"]
    assert places["Eldoria"]["description"].startswith('{{user}}: "What is Eldoria?"')
    rules = bible["setting"]["world_rules"]
    assert len(rules) == 2 and "Shadowfangs" in rules[0] and "powers" in rules[1]
    assert "4 lorebook entries: 2 locations, 2 world rules" in preview.summary
    (book,) = bible["extensions"]["lorebooks"].values()
    assert book["name"] == "Eldoria" and book["owner"] == the_character(bible)["id"]
    assert [r["entry"]["keys"][0] for r in book["rules"]] == ["shadowfang", "power"]


def test_personality_becomes_traits():
    capo = the_character(cards.read(SHARED / "content_Assistant_CapoGPT.png").data)
    assert capo["traits"] == ["Pragmatic", "dignified", "unethical", "vengeful", "forceful",
                              "devoted"]
    assert cards.split_traits('"caring", "kind"; brave\nshy.') == ["caring", "kind", "brave",
                                                                   "shy"]
    prose = ("She is gentle with strangers. She hates lies, cruelty, and the dark; she sings "
             "when she is nervous.")
    assert cards.split_traits(prose) == ["She is gentle with strangers",
                                         "She hates lies, cruelty, and the dark; she sings "
                                         "when she is nervous"]


# --- card → bible → card ------------------------------------------------------------------------

@pytest.mark.parametrize("path", REAL, ids=lambda p: p.stem)
def test_card_bible_card_keeps_every_field_and_extension(path):
    original = original_card(path)
    bible = cards.read(path).data
    cid = the_character(bible)["id"]
    assert bible_to_card(bible, cid, "v2") == original           # the whole card, top level too
    v3 = bible_to_card(bible, cid, "v3")
    assert v3["spec"] == "chara_card_v3" and v3["spec_version"] == "3.0"
    expected = dict(original["data"], **V2_ADDED_BY_V3)
    if "character_book" in expected:                             # V3 requires use_regex
        expected["character_book"] = dict(expected["character_book"], entries=[
            dict(e, use_regex=False) for e in expected["character_book"]["entries"]])
    assert v3["data"] == expected


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.stem)
def test_png_export_reimports_to_the_same_card(path, tmp_path):
    bible = cards.read(path).data
    char = the_character(bible)
    doc = ExportDoc(title="t", content={"scene_bible": bible},
                    extras={"portraits": {char["id"]: char["portrait_data"]}})
    out = exporter("card_png").write(doc, tmp_path / "out.png",
                                     ExportOptions(character_id=char["id"]))
    blob = out.read_bytes()
    pairs = dict(png_text.texts(png_text.read_chunks(blob)))
    assert set(pairs) == {"chara", "ccv3"}
    assert json.loads(base64.b64decode(pairs["chara"])) == original_card(path)
    v3 = json.loads(base64.b64decode(pairs["ccv3"]))
    assert v3 == bible_to_card(bible, char["id"], "v3")
    again = cards.read(out).data                          # ccv3 now: the same V3 card again
    assert bible_to_card(again, the_character(again)["id"], "v3") == v3
    idat = [c.data for c in png_text.read_chunks(path.read_bytes()) if c.type == b"IDAT"]
    assert [c.data for c in png_text.read_chunks(blob) if c.type == b"IDAT"] == idat


def test_a_v3_card_survives_exactly_and_a_v2_export_drops_only_v3_fields():
    path = OWN / "v3_card.json"
    original = json.loads(path.read_text())
    preview = cards.read(path)
    bible = preview.data
    mora = the_character(bible)
    assert mora["name"] == "Captain Mora Vell" and mora["aliases"] == ["Mora"]
    assert mora["traits"] == ["stern", "loyal", "dry humour", "afraid of deep water"]
    assert [c["name"] for c in bible["characters"]] == ["Captain Mora Vell", "Jory"]
    assert bible["characters"][1]["aliases"] == ["first mate"]
    assert [loc["name"] for loc in bible["setting"]["locations"]] == ["Port Salt"]
    assert len(bible["setting"]["world_rules"]) == 2      # sky-stone; the regex-keyed entry
    assert bible_problems(storable(bible)) == []
    assert bible_to_card(bible, mora["id"], "v3") == original
    v2 = bible_to_card(bible, mora["id"], "v2")
    dropped = set(original["data"]) - set(v2["data"])
    assert dropped == set(card_files.V3_ONLY)
    assert v2["data"]["x_unknown_field"] == original["data"]["x_unknown_field"]
    assert v2["data"]["character_book"] == original["data"]["character_book"]


def test_edits_in_the_bible_win_and_untouched_fields_stay():
    bible = cards.read(OWN / "v3_card.json").data
    mora = the_character(bible)
    mora["name"] = "Mora Vell"
    mora["traits"] = ["stern", "fearless"]
    mora["aliases"] = ["the Old Hawk"]
    port = bible["setting"]["locations"][0]
    port["description"] = "A harbour town on stilts."
    port["aliases"] = ["Saltport"]
    card = bible_to_card(bible, mora["id"], "v3")["data"]
    original = json.loads((OWN / "v3_card.json").read_text())["data"]
    assert card["name"] == "Mora Vell" and card["personality"] == "stern, fearless"
    assert "nickname" not in card
    assert card["extensions"]["story_studio"] == {"aliases": ["the Old Hawk"]}
    assert card["description"] == original["description"]
    assert card["first_mes"] == original["first_mes"]
    entry = next(e for e in card["character_book"]["entries"] if e["id"] == 10)
    assert entry["content"] == "A harbour town on stilts."
    assert entry["keys"] == ["Port Salt", "Saltport"]
    assert entry["extensions"] == {"position": 0, "depth": 4}
    again = cards.read_card_bytes(json.dumps(bible_to_card(bible, mora["id"])).encode(), "x.json")
    builder = Builder()
    assert cards.card_to_bible(again, builder)["aliases"] == ["the Old Hawk"]


def test_a_bible_character_exports_with_related_characters_and_places_as_its_book():
    bible = {
        "characters": [
            {"id": "char_ada", "name": "Ada Quill", "aliases": ["Ada"],
             "description": "Keeper of the Gull Rock light.", "traits": ["patient", "wry"],
             "relationships": [{"target": "char_tom", "type": "friend"}]},
            {"id": "char_tom", "name": "Tom Harrow", "description": "The ferryman."},
            {"id": "char_zed", "name": "Zed", "description": "Unrelated."}],
        "setting": {"locations": [{"name": "Gull Rock", "description": "A rock."},
                                  {"name": "Elsewhere"}],
                    "world_rules": ["The light must never go out."]}}
    card = bible_to_card(bible, "char_ada", "v3")
    data = card["data"]
    assert data["name"] == "Ada Quill" and data["personality"] == "patient, wry"
    assert data["extensions"] == {"story_studio": {"aliases": ["Ada"]}}
    assert data["group_only_greetings"] == [] and data["first_mes"] == ""
    entries = data["character_book"]["entries"]
    assert [e["keys"] for e in entries] == [["Tom Harrow"], ["Gull Rock"]]
    assert [e["id"] for e in entries] == [0, 1]
    assert entries[0]["extensions"] == {"story_studio": {"kind": "character"}}
    assert all(e["use_regex"] is False for e in entries)
    with pytest.raises(CardExportError, match="no character char_nobody"):
        bible_to_card(bible, "char_nobody")
    with pytest.raises(CardExportError, match="Choose the character"):
        bible_to_card(bible)
    # a re-import puts the book's entries back where they were
    again = cards.read_card_bytes(json.dumps(card).encode(), "ada.json")
    builder = Builder()
    cards.card_to_bible(again, builder)
    assert [c["name"] for c in builder.characters] == ["Ada Quill", "Tom Harrow"]
    assert [loc["name"] for loc in builder.locations] == ["Gull Rock"]


def test_a_v1_card_imports_and_exports_as_v2_with_its_v1_fields_on_top():
    v1 = {"name": "Old One", "description": "An old card.", "personality": "calm",
          "scenario": "A porch.", "first_mes": "Hi.", "mes_example": "", "avatar": "none"}
    card = cards.read_card_bytes(json.dumps(v1).encode(), "old.json")
    builder = Builder()
    char = cards.card_to_bible(card, builder)
    out = bible_to_card(builder.bible(), char["id"], "v2")
    assert {k: out[k] for k in v1} == v1
    assert out["spec"] == "chara_card_v2"
    assert {k: out["data"][k] for k in card_files.V1_FIELDS} == {
        k: v1[k] for k in card_files.V1_FIELDS}


# --- chunks: ccv3 wins -------------------------------------------------------------------------

def test_ccv3_wins_over_chara_in_either_order():
    v2, v3 = v2_card("Old Name"), dict(v2_card("New Name"), spec="chara_card_v3",
                                         spec_version="3.0")
    for pairs in ((("chara", v2), ("ccv3", v3)), (("ccv3", v3), ("chara", v2))):
        card = cards.read_card_bytes(card_png_bytes(*pairs), "both.png")
        assert card.data["name"] == "New Name" and card.spec == "chara_card_v3"
        assert card.warnings == []
    assert cards.read_card_bytes(card_png_bytes(("chara", v2)), "v2.png").data["name"] == \
        "Old Name"


def test_a_broken_ccv3_beside_a_good_chara_falls_back_with_a_warning():
    card = cards.read_card_bytes(card_png_bytes(("ccv3", "%%%"), ("chara", v2_card("Pip"))),
                                 "x.png")
    assert card.data["name"] == "Pip"
    assert "ccv3" in card.warnings[0] and "not valid base64" in card.warnings[0]


def test_text_chunks_of_every_kind_are_read():
    payload = base64.b64encode(json.dumps(v2_card("Zed")).encode())
    image = png_text.placeholder_png("z", 4, 4)
    chunks = png_text.read_chunks(image)
    ztxt = png_text.Chunk(b"zTXt", b"chara\0\0" + zlib.compress(payload), 0)
    itxt = png_text.Chunk(b"iTXt", b"chara\0\0\0en\0\0" + payload, 0)
    for extra in (ztxt, itxt):
        blob = png_text.assemble(chunks[:-1] + [extra] + chunks[-1:])
        assert cards.read_card_bytes(blob, "z.png").data["name"] == "Zed"


# --- bad files ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name, reason", [
    ("truncated.png", "cut off inside the tEXt chunk"),
    ("not_a_png.png", "not a PNG image"),
    ("no_card.png", "no character card in it"),
    ("broken_base64.png", "“chara” chunk is not valid base64"),
    ("broken_json.png", "“chara” chunk's JSON is broken"),
    ("broken_json.json", "JSON is broken (Invalid control character at line 1"),
    ("unknown_spec.json", "unknown spec “chara_card_v9”"),
    ("missing_name.json", "the card has no name"),
])
def test_each_bad_file_is_refused_naming_the_file_and_the_reason(name, reason):
    with pytest.raises(CardError) as caught:
        cards.read(OWN / name)
    assert str(caught.value).startswith(f"{name}: ")
    assert reason in caught.value.reason
    assert caught.value.file == name


def test_damaged_pngs_are_refused_with_the_chunk_that_is_wrong():
    good = card_png_bytes(("chara", v2_card()))
    flipped = bytearray(good)
    flipped[60] ^= 0xFF                       # inside the tEXt chunk's data
    with pytest.raises(CardError, match="is damaged .its CRC does not match"):
        cards.read_card_bytes(bytes(flipped), "flip.png")
    with pytest.raises(CardError, match="ends before the IEND chunk"):
        cards.read_card_bytes(good[:-12], "noend.png")
    with pytest.raises(CardError, match="the file is empty"):
        cards.read_card_bytes(b"", "empty.png")


@pytest.mark.parametrize("value, reason", [
    ([1, 2], "not an object"),
    ({"spec": "chara_card_v2"}, "“data” is missing"),
    ({"spec": "chara_card_v3", "data": "x"}, "“data” is not an object"),
    ({"spec": 3, "data": {}}, "unknown spec “3”"),
    ({"spec": "chara_card_v2", "data": {"name": "  "}}, "no name"),
    ({"spec": "chara_card_v2", "data": {"name": "A", "character_book": []}},
     "character_book is not an object"),
    ({"spec": "chara_card_v2", "data": {"name": "A", "character_book": {"entries": [1]}}},
     "entry 1 of its character_book"),
    ({"tags": []}, "not a character card"),
])
def test_card_json_shapes_that_cannot_be_a_card(value, reason):
    with pytest.raises(CardError, match=reason):
        cards.read_card_bytes(json.dumps(value).encode(), "bad.json")


def test_json_that_a_bible_cannot_hold_is_refused():
    for raw, reason in ((b'{"name": NaN}', "NaN is not a JSON number"),
                        (b"[" * 5000 + b"]" * 5000, "nested"),
                        (b'{"spec": "chara_card_v2", "data": {"name": "\\ud800"}}',
                         "unpaired surrogate"),
                        (b"\xff\xfe{}", "not UTF-8")):
        with pytest.raises(CardError, match=reason):
            cards.read_card_bytes(raw, "odd.json")


# --- CHARX --------------------------------------------------------------------------------------

def charx(path: Path, card: dict, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("card.json", json.dumps(card))
        for name, blob in files.items():
            archive.writestr(name, blob)
    return path


def test_a_charx_imports_with_its_main_icon_as_the_portrait(tmp_path):
    icon = png_text.placeholder_png("icon", 6, 6)
    card = json.loads((OWN / "v3_card.json").read_text())
    card["data"]["assets"] = [
        {"type": "icon", "uri": "embeded://assets/icon/images/main.png", "name": "main",
         "ext": "png"},
        {"type": "emotion", "uri": "embeded://assets/emotion/images/happy.png",
         "name": "happy", "ext": "png"}]
    path = charx(tmp_path / "mora.charx", card, {
        "assets/icon/images/main.png": icon, "assets/emotion/images/happy.png": icon})
    preview = cards.read(path)
    mora = the_character(preview.data)
    assert mora["portrait_data"] == icon
    assert any("emotion “happy”" in w and "not kept" in w for w in preview.warnings)
    assert importer_for(path).id == "card"
    assert bible_to_card(preview.data, mora["id"]) == card     # the data itself is all kept
    doc = ExportDoc(title="t", content={"scene_bible": preview.data},
                    extras={"portraits": {mora["id"]: icon}})
    ccv3 = dict(png_text.texts(png_text.read_chunks(
        cards.card_png(doc, ExportOptions(character_id=mora["id"])))))["ccv3"]
    assets = json.loads(base64.b64decode(ccv3))["data"]["assets"]
    assert assets == [{"type": "icon", "uri": "ccdefault:", "name": "main", "ext": "png"}]


def test_unsafe_or_broken_charx_files_are_refused(tmp_path, monkeypatch):
    card = v2_card("Zip")
    with pytest.raises(CardError, match="unsafe path"):
        cards.read(charx(tmp_path / "a.charx", card, {"../evil.txt": b"x"}))
    with pytest.raises(CardError, match="unsafe path"):
        cards.read(charx(tmp_path / "b.charx", card, {"/etc/passwd": b"x"}))
    with zipfile.ZipFile(tmp_path / "c.charx", "w") as archive:
        archive.writestr("other.json", "{}")
    with pytest.raises(CardError, match="no card.json"):
        cards.read(tmp_path / "c.charx")
    (tmp_path / "d.charx").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(CardError, match="not a valid CHARX"):
        cards.read(tmp_path / "d.charx")
    monkeypatch.setattr(card_files, "MAX_UNZIPPED", 10_000)
    with pytest.raises(CardError, match="would unpack to more than"):
        cards.read(charx(tmp_path / "e.charx", card, {"bomb.bin": bytes(20_000)}))


# --- exports --------------------------------------------------------------------------------------

def test_png_export_without_a_portrait_draws_one_and_a_v2_export_has_only_chara(tmp_path):
    bible = {"characters": [{"id": "char_ada", "name": "Ada"}]}
    doc = ExportDoc(title="t", content={"scene_bible": bible})
    out = exporter("card_png").write(doc, tmp_path / "ada.png",
                                     ExportOptions(card_spec="v2"))
    blob = out.read_bytes()
    pairs = dict(png_text.texts(png_text.read_chunks(blob)))
    assert set(pairs) == {"chara"}
    card = json.loads(base64.b64decode(pairs["chara"]))
    assert card["spec"] == "chara_card_v2" and card["name"] == "Ada"   # V1 fields on top
    assert png_text.size_of(blob) == (400, 600)
    out = exporter("card_json").write(doc, tmp_path / "ada.json", ExportOptions())
    assert json.loads(out.read_text())["spec"] == "chara_card_v3"


def test_a_jpeg_portrait_is_converted_to_png(tmp_path):
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QColor, QImage

    picture = QImage(20, 30, QImage.Format.Format_RGB32)
    picture.fill(QColor("teal"))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    picture.save(buffer, "JPEG")
    bible = {"characters": [{"id": "char_ada", "name": "Ada"}]}
    doc = ExportDoc(title="t", content={"scene_bible": bible},
                    extras={"portraits": {"char_ada": bytes(data.data())}})
    blob = cards.card_png(doc, ExportOptions())
    assert png_text.size_of(blob) == (20, 30)
    doc = ExportDoc(title="t", content={"scene_bible": bible},
                    extras={"portraits": {"char_ada": b"not an image"}})
    with pytest.raises(CardExportError, match="portrait of Ada"):
        cards.card_png(doc, ExportOptions())


# --- fuzzing: only CardError or a card ---------------------------------------------------------

SMALL_CARD = card_png_bytes(("chara", json.loads((OWN / "v3_card.json").read_text())))
SOURCES = [SMALL_CARD, (SHARED / "default_CodingSensei.png").read_bytes()]
FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def survives(blob: bytes, name: str) -> None:
    """Reading ``blob`` ends in CardError or a card that makes a valid bible and a card."""
    try:
        card = cards.read_card_bytes(blob, name)
    except CardError as exc:
        assert exc.file == name and exc.reason
        return
    builder = Builder()
    char = cards.card_to_bible(card, builder)
    assert bible_problems(storable(builder.bible())) == []
    bible_to_card(builder.bible(), char["id"], "v3")


@FUZZ
@given(st.binary(max_size=4096), st.sampled_from(["f.png", "f.json", "f.charx", "f.card"]))
def test_fuzz_any_bytes(blob, name):
    survives(blob, name)


@FUZZ
@given(st.data())
def test_fuzz_mutated_real_cards(data):
    blob = bytearray(data.draw(st.sampled_from(SOURCES)))
    for _ in range(data.draw(st.integers(1, 4))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        blob = blob[:data.draw(st.integers(0, len(blob)))]
    survives(bytes(blob), "mutated.png")


@FUZZ
@given(st.data())
def test_fuzz_mutated_card_text_with_valid_crcs(data):
    """Mutations inside the card chunk, the CRC made right again: base64 and JSON parsing."""
    chunks = png_text.read_chunks(SMALL_CARD)
    i = next(n for n, c in enumerate(chunks) if c.type == b"tEXt")
    text = bytearray(chunks[i].data)
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, len(text) - 1))
        if data.draw(st.booleans()):
            text[pos] = data.draw(st.sampled_from(b"ABCDEFabcdef0123456789+/=\0 \xff"))
        else:
            del text[pos]
    chunks[i] = png_text.Chunk(b"tEXt", bytes(text), 0)
    survives(png_text.assemble(chunks), "text.png")


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False,
                                                                          allow_infinity=False)
                    | st.text(max_size=30),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                    max_leaves=12)
ENTRY = st.dictionaries(st.sampled_from(["keys", "content", "comment", "name", "id", "use_regex",
                                         "extensions", "enabled", "secondary_keys", "x"]),
                        JSON | st.lists(st.text(max_size=20), max_size=4) | st.text(max_size=80),
                        max_size=8)
DATA = st.fixed_dictionaries(
    {"name": st.text(min_size=1, max_size=40).filter(str.strip)},
    optional={**{k: JSON | st.text(max_size=60) for k in (
        "description", "personality", "scenario", "first_mes", "nickname", "tags",
        "alternate_greetings", "extensions", "assets", "x_unknown")},
        "character_book": st.fixed_dictionaries({"entries": st.lists(ENTRY, max_size=5)},
                                                optional={"name": JSON, "extensions": JSON})})


@FUZZ
@given(st.sampled_from(["chara_card_v2", "chara_card_v3"]), DATA, st.dictionaries(
    st.sampled_from(["avatar", "name", "fav"]), JSON, max_size=2))
def test_fuzz_structured_cards_keep_every_field(spec, data, top):
    """Any card of the right shape imports into a valid bible and exports its fields back."""
    card = {**top, "spec": spec, "spec_version": "x", "data": data}
    blob = json.dumps(card).encode()
    survives(blob, "card.json")
    builder = Builder()
    char = cards.card_to_bible(cards.read_card_bytes(blob, "card.json"), builder)
    out = bible_to_card(builder.bible(), char["id"], "v3" if spec.endswith("3") else "v2")
    assert {k: v for k, v in out.items() if k != "data"} == {
        k: v for k, v in card.items() if k != "data"}
    for key, value in data.items():
        if key != "character_book":
            assert out["data"][key] == value, key
    if "character_book" in data:
        book = out["data"]["character_book"]
        original = data["character_book"]
        assert {k: v for k, v in book.items() if k != "entries"} == {
            k: v for k, v in original.items() if k != "entries"}
        extra = {"use_regex": False} if spec.endswith("3") else {}
        assert book["entries"] == [{**extra, **e} for e in original["entries"]]


# --- end to end through the format service -------------------------------------------------------

def test_a_card_goes_into_an_open_story_as_one_undoable_bible_version(db, tmp_path):
    from studio.services import format_io
    from studio.services import bible as bible_service
    from studio.services import stories

    story = stories.create_story(db, "The Glade")
    before = bible_service.load(db, story.id)
    path = SHARED / "default_Seraphina.png"
    preview = format_io.preview_import(path)
    assert preview.format == "card"
    outcome = format_io.apply_import(db, preview, story.id)
    state = bible_service.load(db, story.id)
    assert state.story_version == before.story_version + 1
    (sera,) = state.story_data["characters"]
    portrait = Path(sera["assets"]["portrait"])
    assert portrait.read_bytes() == the_character(preview.data)["portrait_data"]
    assert {loc["name"] for loc in state.story_data["setting"]["locations"]} == {
        "Eldoria", "Glade"}
    out = format_io.export(db, story.id, "card_png", tmp_path / "sera.png",
                           ExportOptions(character_id=sera["id"]))
    pairs = dict(png_text.texts(png_text.read_chunks(out.read_bytes())))
    assert json.loads(base64.b64decode(pairs["chara"])) == original_card(path)
    format_io.undo_import(db, outcome)
    assert bible_service.load(db, story.id).story_data == before.story_data
    format_io.redo_import(db, outcome)
    assert bible_service.load(db, story.id).story_data["characters"][0]["name"] == "Seraphina"


def test_a_bad_card_leaves_the_open_story_untouched(db):
    from studio.services import format_io
    from studio.services import bible as bible_service
    from studio.services import stories

    story = stories.create_story(db, "Untouched")
    before = bible_service.load(db, story.id)
    with pytest.raises(CardError, match="truncated.png"):
        format_io.preview_import(OWN / "truncated.png")
    assert bible_service.load(db, story.id).story_version == before.story_version
