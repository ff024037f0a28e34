"""The offline manuscript analyser (studio.domain.insights) on small stories written for the
tests: each insight fires where it should and nowhere else, pacing numbers worked out by hand,
scene emotions, summaries, the cast from a bible and from the prose, malformed content,
progress and cancelling, determinism, and the voice templates."""

from __future__ import annotations

import json

import pytest

from studio.domain import insights as I
from studio.domain.emotions import EMOTIONS
from studio.domain.insights import (
    INSIGHTS_VERSION, STAGES, analyse_manuscript, suggest_voice_template,
)
from studio.domain.lexicons import BASIC_EMOTIONS, EMOTION_LEXICON, parse_lexicon, parse_names
from studio.domain.summaries import SCENE_CHARS

FILLER = "The road ran on past the old stone wall and the field. "  # 12 words


def scene(uid: str, *paragraphs: str, title: str = "", synopsis: str = "") -> dict:
    return {"id": uid, "title": title or uid, "synopsis": synopsis,
            "segments": [{"id": f"{uid}_p{i}", "text": p} for i, p in enumerate(paragraphs)]}


def story(*chapters: list[dict], bible: dict | None = None) -> dict:
    """StoryContent; each chapter a list of scenes, chapter ids chap_1…"""
    return {"manuscript": {"chapters": [
        {"id": f"chap_{c}", "title": f"Chapter {c}", "scenes": scenes}
        for c, scenes in enumerate(chapters, 1)]}, "scene_bible": bible or {}}


def words(n: int, dialogue: bool = False) -> list[str]:
    """Paragraphs of about ``n`` words (12-word sentences), with a quote when asked."""
    paras, total = [], 0
    while total < n:
        k = min(10, (n - total + 11) // 12)
        text = FILLER * k
        if dialogue and not paras:
            text += "“Go,” said Ada."
        paras.append(text.strip())
        total += 12 * k
    return paras


def kinds(result: dict, kind: str) -> list[dict]:
    return [i for i in result["insights"] if i["kind"] == kind]


# --- shape --------------------------------------------------------------------------------

def test_result_has_the_documented_keys_and_is_plain_json():
    result = analyse_manuscript(story([scene("s1", "“Hello,” said Ada. Ada smiled.")]))
    assert list(result)[:4] == ["insights_version", "words", "chapters", "scenes"]
    assert {"cast", "emotions", "themes", "pacing", "insights", "summaries"} <= set(result)
    assert result["insights_version"] == INSIGHTS_VERSION
    assert (result["words"], result["chapters"], result["scenes"]) == (5, 1, 1)
    ada = result["cast"][0]
    assert set(ada) >= {"name", "id", "in_bible", "aliases", "mentions", "dialogue_lines",
                        "speaks", "interiority", "first_scene", "first_chapter",
                        "dominant_emotion", "emotions"}
    assert set(result["emotions"]) >= {"lexicon_size", "shares", "scenes", "characters"}
    assert set(result["emotions"]["shares"]) == set(BASIC_EMOTIONS)
    assert set(result["emotions"]["scenes"][0]) == {"scene", "chapter", "title", "dominant",
                                                    "intensity", "counts"}
    assert set(result["themes"]) == {"keywords", "motifs"}
    assert set(result["pacing"]) == {"scenes", "chapters", "story"}
    assert set(result["summaries"]) == {"scenes", "stretches"}
    assert json.loads(json.dumps(result)) == result


def test_lexicon_is_a_shipped_file_covering_the_eight_emotions():
    assert set(BASIC_EMOTIONS) == set(EMOTIONS[:8])
    covered = {e for emotions in EMOTION_LEXICON.values() for e in emotions}
    assert covered == set(BASIC_EMOTIONS)
    assert analyse_manuscript({})["emotions"]["lexicon_size"] == len(EMOTION_LEXICON) > 500
    parsed = parse_lexicon("# c\n[joy]\nsmiles laughing # x\n[nope]\nzzz\n[fear]\nsmile\n")
    assert parsed == {"smil": ("joy", "fear"), "laugh": ("joy",)}
    assert parse_names("Ann\n[female]\nAda\n[male]\nBram # x\n")["male"] == {"Bram"}


# --- insights -----------------------------------------------------------------------------

def test_underdeveloped_character_is_named_only_when_silent_and_without_inner_life():
    hale = [f"Mr. Hale walked to the gate again{'.' if i % 2 else ', slowly.'}"
            for i in range(9)]
    thinker = [f"Later Bram crossed the yard. Bram thought about the sea {i} times."
               for i in range(5)]
    talker = ["“Go home,” said Cora. Cora left." for _ in range(5)]
    result = analyse_manuscript(story([scene("s1", *hale, *thinker, *talker)]))
    found = kinds(result, "underdeveloped_character")
    assert [f["target"] for f in found] == [{"character": "Mr. Hale", "character_id": None}]
    assert found[0]["severity"] == "warning"
    assert "Mr. Hale is mentioned 9 times" in found[0]["message"]
    cast = {c["name"]: c for c in result["cast"]}
    assert cast["Bram"]["interiority"] == 5 and cast["Cora"]["dialogue_lines"] == 5
    assert cast["Mr. Hale"]["mentions"] == 9 and not cast["Mr. Hale"]["speaks"]


def test_underdeveloped_needs_the_threshold_of_mentions():
    hale = ["Mr. Hale walked to the gate."] * (I.UNDERDEVELOPED_MENTIONS - 1)
    assert not kinds(analyse_manuscript(story([scene("s1", *hale)])),
                     "underdeveloped_character")


def test_chapter_length_flags_only_the_outlier_against_its_neighbours():
    sizes = [1200, 1200, 3600, 1200, 1200, 240, 1200]
    result = analyse_manuscript(story(*[[scene(f"s{i}", *words(n))]
                                        for i, n in enumerate(sizes, 1)]))
    found = kinds(result, "chapter_length")
    assert [f["target"] for f in found] == [{"chapter": "chap_3"}, {"chapter": "chap_6"}]
    assert found[0]["severity"] == "info"  # 3× is not beyond CHAPTER_LENGTH_WARNING
    assert "Chapter 3 “Chapter 3” (3,600 words) is 3.0 times" in found[0]["message"]
    assert "median 1,200 words" in found[0]["message"]
    assert found[1]["severity"] == "warning" and "only 20%" in found[1]["message"]


def test_chapter_length_needs_three_chapters():
    result = analyse_manuscript(story([scene("a", *words(100))], [scene("b", *words(900))]))
    assert not kinds(result, "chapter_length")


def test_no_dialogue_run_spans_consecutive_scenes_until_a_quote():
    quiet = [scene(f"q{i}", *words(1200)) for i in range(3)]  # 3,600 words, no quote
    talk = scene("t", *words(1200, dialogue=True))
    short = [scene(f"r{i}", *words(1200)) for i in range(2)]  # 2,400: under the threshold
    result = analyse_manuscript(story(quiet[:2], [quiet[2], talk, *short]))
    found = kinds(result, "no_dialogue_run")
    assert len(found) == 1
    assert found[0]["target"] == {"scene": "q0", "chapter": "chap_1", "to_scene": "q2",
                                  "scenes": 3, "words": 3600}
    assert "3,600 words" in found[0]["message"] and found[0]["severity"] == "info"


def test_single_quote_dialogue_counts_as_dialogue():
    text = [FILLER * 10 + "'Not I!' said the Lory hastily. 'Why?' asked Alice."] * 30
    result = analyse_manuscript(story([scene("s", *text)]))
    assert not kinds(result, "no_dialogue_run")
    assert result["pacing"]["scenes"][0]["dialogue_ratio"] > 0


def test_no_scene_change_run_is_one_scene_over_the_limit():
    over = scene("long", *words(I.LONG_SCENE_WORDS + 4, dialogue=True))  # + 3 quoted words
    exact = scene("exact", *words(I.LONG_SCENE_WORDS - 8, dialogue=True))
    result = analyse_manuscript(story([over, exact]))
    found = kinds(result, "no_scene_change_run")
    assert [f["target"] for f in found] == [{"scene": "long", "chapter": "chap_1"}]
    assert "5,007 words without a scene change" in found[0]["message"]
    assert not kinds(result, "no_dialogue_run")


def test_a_plain_story_has_no_insights():
    result = analyse_manuscript(story([scene("a", *words(600, True))],
                                      [scene("b", *words(700, True))],
                                      [scene("c", *words(650, True))]))
    assert result["insights"] == []


# --- pacing -------------------------------------------------------------------------------

def test_pacing_numbers_on_a_tiny_text_are_exact():
    result = analyse_manuscript(story([scene("s1", "The cat sat. The dog ran away.",
                                             "“Run,” said Ada.")]))
    p = result["pacing"]["scenes"][0]
    # 7 + 3 words, sentences of 3, 4 and 3 words; 1 quoted word
    assert (p["words"], p["sentences"]) == (10, 3)
    assert p["mean_sentence_words"] == round(10 / 3, 4)
    assert p["sentence_sd"] == round((((3 - 10 / 3) ** 2 * 2 + (4 - 10 / 3) ** 2) / 3) ** 0.5, 4)
    assert p["dialogue_ratio"] == 0.1
    # syllables: the cat sat the dog ran a-way run said a-da = 12
    assert p["readability"] == round(206.835 - 1.015 * 10 / 3 - 84.6 * 12 / 10, 4)
    assert result["pacing"]["chapters"][0] == {"chapter": "chap_1", "title": "Chapter 1",
                                               "words": 10, "scenes": 1,
                                               "dialogue_ratio": 0.1,
                                               "readability": p["readability"]}
    assert result["pacing"]["story"]["mean_scene_words"] == 10.0


def test_empty_scenes_have_zeros_not_errors():
    result = analyse_manuscript(story([scene("e"), scene("f", "Word.")]))
    empty = result["pacing"]["scenes"][0]
    assert (empty["words"], empty["readability"], empty["dialogue_ratio"]) == (0, 0.0, 0.0)
    assert result["emotions"]["scenes"][0]["dominant"] is None
    assert result["summaries"]["scenes"]["e"] == ""


# --- emotions -----------------------------------------------------------------------------

def test_scene_emotions_dominant_intensity_and_counts():
    joyful = scene("happy", "Then Ada laughed with joy and delight. A wonderful, happy day.")
    fearful = scene("dark", "Then Ada trembled in terror. Dread and panic seized her.")
    result = analyse_manuscript(story([joyful, fearful]))
    s1, s2 = result["emotions"]["scenes"]
    assert (s1["dominant"], s2["dominant"]) == ("joy", "fear")
    assert s1["counts"]["joy"] == 5 and s2["counts"]["fear"] == 4
    assert s1["intensity"] == round(5 / 11, 4)  # emotional words per word
    ada = result["cast"][0]
    assert ada["name"] == "Ada" and set(ada["emotions"]) == set(BASIC_EMOTIONS)
    assert result["emotions"]["characters"][0]["name"] == "Ada"


# --- summaries ----------------------------------------------------------------------------

def test_every_scene_has_a_short_summary_and_stretches_cover_five_chapters():
    chapters = []
    for c in range(12):
        chapters.append([scene(f"s{c}_{k}",
                               f"The lighthouse keeper counted the storms of year {c}. "
                               "It rained. " + FILLER * 3,
                               "The lamp burned over the harbour all night, "
                               "and the ships came home safely. " * 6)
                         for k in range(2)])
    result = analyse_manuscript(story(*chapters))
    scenes = result["summaries"]["scenes"]
    assert set(scenes) == {f"s{c}_{k}" for c in range(12) for k in range(2)}
    for text in scenes.values():
        assert 0 < len(text) <= SCENE_CHARS
        assert text.count(". ") + 1 <= 2 or text.endswith("…")
    stretches = result["summaries"]["stretches"]
    assert [s["title"] for s in stretches] == ["Chapters 1–5", "Chapters 6–10",
                                               "Chapters 11–12"]
    assert [(s["from_chapter"], s["to_chapter"]) for s in stretches] == [
        ("chap_1", "chap_5"), ("chap_6", "chap_10"), ("chap_11", "chap_12")]
    assert all(0 < s["summary"].count(".") <= 4 for s in stretches)


def test_summary_prefers_narration_and_the_synopsis():
    s = scene("s", "“The treasure is buried under the mill,” said Ada.",
              "The treasure map showed the mill by the river, buried deep.",
              "Bram ate his bread.", synopsis="Ada finds the treasure map.")
    summary = analyse_manuscript(story([s]))["summaries"]["scenes"]["s"]
    assert "The treasure map showed the mill" in summary and "Bram ate" not in summary


# --- cast ---------------------------------------------------------------------------------

def test_bible_characters_with_aliases_and_prose_people_with_their_forms():
    bible = {"characters": [{"id": "char_liz", "name": "Elizabeth Bennet",
                             "aliases": ["Lizzy"]}],
             "setting": {"locations": [{"name": "Meryton"}]}}
    text = ["“We must go,” said Lizzy. Elizabeth thought of home.",
            "Mr. Bennet smiled at Elizabeth. Mr. Bennet replied nothing.",
            "“Come, Darcy,” said Bingley. Mr. Darcy frowned at Meryton. At Meryton it rained."]
    result = analyse_manuscript(story([scene("s1", *text)], bible=bible))
    cast = {c["name"]: c for c in result["cast"]}
    assert set(cast) == {"Elizabeth Bennet", "Mr. Bennet", "Mr. Darcy", "Bingley"}
    liz = cast["Elizabeth Bennet"]
    assert (liz["id"], liz["in_bible"], liz["mentions"]) == ("char_liz", True, 3)
    assert set(liz["aliases"]) == {"Lizzy", "Elizabeth"}
    assert (liz["dialogue_lines"], liz["interiority"]) == (1, 1)
    assert cast["Mr. Darcy"]["aliases"] == ["Darcy"] and cast["Mr. Darcy"]["id"] is None
    assert cast["Mr. Bennet"]["first_scene"] == "s1"
    assert cast["Mr. Bennet"]["first_chapter"] == "chap_1"


def test_interiority_through_a_pronoun_right_after_naming():
    bible = {"characters": [{"id": "char_a", "name": "Ada"}, {"id": "char_b", "name": "Bram"}]}
    result = analyse_manuscript(story([scene("s", "Ada walked home. She felt the cold.",
                                             "Ada and Bram sat. Ada stood up.")], bible=bible))
    assert {c["name"]: c["interiority"] for c in result["cast"]} == {"Ada": 1, "Bram": 0}


# --- robustness, progress, determinism ----------------------------------------------------

@pytest.mark.parametrize("content", [
    None, [], "text", {}, {"manuscript": 5}, {"manuscript": {"chapters": "x"}},
    {"manuscript": {"chapters": [None, 3, {"scenes": [None, {"segments": [None, {"text": 5},
                                                                          {"id": 1}]}]}]},
     "scene_bible": {"characters": [None, {"name": 7}, {"name": " "}, {"aliases": "x"}],
                     "setting": "x"}},
])
def test_malformed_content_is_read_as_empty(content):
    result = analyse_manuscript(content)
    assert result["words"] == 0 and result["cast"] == [] and result["insights"] == []


def test_progress_reports_every_stage_and_an_exception_stops_the_analysis():
    calls: list[tuple[str, float]] = []
    analyse_manuscript(story([scene("s", *words(300, True))]), lambda s, f: calls.append((s, f)))
    assert [s for s in dict.fromkeys(s for s, _ in calls)] == list(STAGES)
    for stage in STAGES:
        fractions = [f for s, f in calls if s == stage]
        assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(fractions)

    class Stop(Exception):
        pass

    def cancel(stage: str, fraction: float) -> None:
        if stage == "emotions":
            raise Stop

    with pytest.raises(Stop):
        analyse_manuscript(story([scene("s", *words(300))]), cancel)


def test_the_same_content_gives_the_same_result():
    content = story([scene("a", "“Run!” cried Ada. Ada feared the storm.", *words(200))],
                    [scene("b", "Bram laughed. Bram smiled at Ada.", *words(300))])
    first = analyse_manuscript(content)
    assert analyse_manuscript(content) == first
    assert json.dumps(first, sort_keys=True) == json.dumps(analyse_manuscript(content),
                                                           sort_keys=True)


def test_voice_templates_for_every_emotion_the_studio_knows():
    assert {e: suggest_voice_template(e) for e in BASIC_EMOTIONS} == {
        "joy": "joy", "sadness": "sorrow", "anger": "fury", "fear": "fear",
        "surprise": "gasp", "disgust": "sigh", "trust": "tenderness",
        "anticipation": "whisper"}
    assert all(suggest_voice_template(e) in I.VOICE_TEMPLATES for e in EMOTIONS)
    assert suggest_voice_template("  Sadness ") == "sorrow"
    with pytest.raises(ValueError, match="known emotions"):
        suggest_voice_template("boredom")
