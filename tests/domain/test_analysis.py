"""The offline story analyser on small hand-written stories: characters (bible and recurring
speakers), the emotional profile and arc, themes and motifs, the summary, progress and abort,
empty content, determinism, and a generated 100 000-word story."""

from __future__ import annotations

import json
import random
import re
import time

import pytest

from studio.domain.analysis import (
    ANALYSER_VERSION, BASIC_EMOTIONS, LEXICON, MAX_CHARACTERS, STAGES, _LEXICON_WORDS,
    analyse_story,
)
from studio.domain.emotions import EMOTIONS


def story(*chapters: list[str], bible: dict | None = None) -> dict:
    """StoryContent with one scene per chapter; segment ids seg_<chapter><n>."""
    return {"modules": {}, "chapter_graph": {}, "scene_bible": bible or {},
            "manuscript": {"chapters": [
                {"id": f"chap_{c}", "title": f"Chapter {c}", "scenes": [
                    {"id": f"scene_{c}", "segments": [
                        {"id": f"seg_{c}{n}", "text": text} for n, text in enumerate(texts)]}]}
                for c, texts in enumerate(chapters, 1)]}}


def by_name(result: dict) -> dict[str, dict]:
    return {c["name"]: c for c in result["characters"]}


ADA = {"id": "char_ada", "name": "Ada Quill", "aliases": ["the Widow"]}
BRAM = {"id": "char_bram", "name": "Bram"}

JOYFUL = ["Ada laughed in the warm sunshine. Bram smiled and sang a happy song.",
          "They danced with delight and joy; the whole village was glad and cheerful.",
          "Bram grinned. What a wonderful, delightful celebration it was."]
FEARFUL = ["Darkness fell. Ada trembled, terrified of the shadow at the window.",
           "Ada screamed in terror. Dread and panic seized her; the nightmare was real.",
           "Ada fled, afraid and frightened, and the danger followed her."]


# --- characters ---------------------------------------------------------------------------------

def test_bible_characters_are_counted_with_aliases_possessives_and_dialogue_lines():
    content = story(["“We sail at dawn,” said Ada. Bram nodded.",
                     "Ada Quill whispered a prayer. The Widow sighed.",
                     "Ada's boat was old. Quill looked at the sea."],
                    ["Bram said nothing. Later Bram walked home."],
                    bible={"characters": [ADA, BRAM, {"id": "char_zed", "name": "Zed"}]})
    result = analyse_story(content)
    chars = by_name(result)
    assert list(chars) == ["Ada Quill", "Bram"]  # sorted by mentions; Zed never appears
    ada, bram = chars["Ada Quill"], chars["Bram"]
    # said Ada, Ada Quill, The Widow, Ada's, Quill = 5; speech: said / whispered / sighed
    assert (ada["mentions"], ada["dialogue_lines"]) == (5, 3)
    assert (ada["id"], ada["in_bible"]) == ("char_ada", True)
    assert (ada["first_segment"], ada["last_segment"]) == ("seg_10", "seg_12")
    assert (bram["mentions"], bram["dialogue_lines"]) == (3, 1)
    assert (bram["first_segment"], bram["last_segment"]) == ("seg_10", "seg_20")
    assert (ada["share"], bram["share"]) == (0.625, 0.375)


def test_a_word_shared_by_two_characters_counts_for_neither_and_lowercase_alias_matches():
    bible = {"characters": [ADA, {"id": "char_tom", "name": "Tom Quill"},
                            {"id": "char_osric", "name": "Osric", "aliases": ["the old man"]}]}
    result = analyse_story(story(["Quill said no. Ada Quill left. Tom Quill stayed.",
                                  "The old man slept. Later the old man woke. Osric ate."],
                                 bible=bible))
    chars = by_name(result)
    assert chars["Ada Quill"]["mentions"] == 1 and chars["Ada Quill"]["dialogue_lines"] == 0
    assert chars["Tom Quill"]["mentions"] == 1
    assert chars["Osric"]["mentions"] == 3


def test_a_recurring_speaker_outside_the_bible_is_found_with_in_bible_false():
    content = story(["“We sail at dawn,” said Marlow. Ada frowned.",
                     "Marlow looked at the harbour. “Fine,” Marlow muttered.",
                     "“Once,” said Cyrus.",  # speaks but is named only once
                     "Jonas walked in. Jonas sat down.",  # recurs but never speaks
                     "“Tea?” asked Mr. Hale. Then Hale left.",
                     "“Come,” said Blackrock Harbour. Blackrock Harbour said more."],  # a place
                    bible={"characters": [ADA],
                           "setting": {"locations": [{"name": "Blackrock Harbour"}]}})
    chars = by_name(analyse_story(content))
    assert set(chars) == {"Marlow", "Mr Hale", "Ada Quill"}
    marlow = chars["Marlow"]
    assert (marlow["id"], marlow["in_bible"], marlow["mentions"], marlow["dialogue_lines"]) == \
        (None, False, 3, 2)
    assert (marlow["first_segment"], marlow["last_segment"]) == ("seg_10", "seg_11")
    assert (chars["Mr Hale"]["mentions"], chars["Mr Hale"]["dialogue_lines"]) == (2, 1)
    assert list(chars)[0] == "Marlow"
    assert round(sum(c["share"] for c in chars.values()), 3) == 1.0


def test_at_most_100_characters_sorted_by_mentions():
    people = [{"id": f"char_p{i}", "name": f"Person{chr(65 + i // 26)}{chr(97 + i % 26)}"}
              for i in range(120)]
    texts = [" ".join([p["name"]] * (1 + i % 7)) + " waited." for i, p in enumerate(people)]
    chars = analyse_story(story(texts, bible={"characters": people}))["characters"]
    assert len(chars) == MAX_CHARACTERS
    keys = [(-c["mentions"], c["name"]) for c in chars]
    assert keys == sorted(keys)
    assert chars[0]["mentions"] == 7 and chars[-1]["mentions"] >= 2


# --- emotions -----------------------------------------------------------------------------------

def test_emotion_shares_and_arc_follow_a_joyful_then_a_fearful_chapter():
    content = story(JOYFUL, FEARFUL + ["The ghost crept closer; Ada was scared and nervous."],
                    bible={"characters": [ADA, BRAM]})
    emotions = analyse_story(content)["emotions"]
    assert list(emotions["shares"]) == list(BASIC_EMOTIONS)
    assert round(sum(emotions["shares"].values()), 3) == 1.0
    assert emotions["shares"]["fear"] > emotions["shares"]["joy"] > emotions["shares"]["anger"]
    arc = emotions["arc"]
    assert [(a["chapter"], a["dominant"]) for a in arc] == [("chap_1", "joy"),
                                                            ("chap_2", "fear")]
    assert all(0.5 < a["intensity"] <= 1.0 for a in arc)
    assert arc[1]["emotional_words"] >= 10
    # Ada is mostly in the fearful chapter, Bram only in the joyful one.
    mood = {c["name"]: c["dominant"] for c in emotions["characters"]}
    assert mood == {"Ada Quill": "fear", "Bram": "joy"}


def test_stemmed_lexicon_matching_and_an_emotionless_chapter():
    content = story(["She smiled. They were smiling; all smiles."], ["A chair. A table."], [])
    emotions = analyse_story(content)["emotions"]
    assert emotions["emotional_words"] == 3 and emotions["shares"]["joy"] == 1.0
    assert [(a["dominant"], a["intensity"]) for a in emotions["arc"]] == \
        [("joy", 1.0), (None, 0.0), (None, 0.0)]


def test_the_lexicon_covers_the_eight_basic_emotions():
    assert set(BASIC_EMOTIONS) <= set(EMOTIONS)
    for emotion in BASIC_EMOTIONS:
        assert len(_LEXICON_WORDS[emotion].split()) >= 24
    assert {e for es in LEXICON.values() for e in es} == set(BASIC_EMOTIONS)


# --- themes -------------------------------------------------------------------------------------

def test_themes_surface_key_repeated_words_without_stopwords_or_names():
    content = story(
        ["The lighthouse stood on the cliff. Ada climbed the lighthouse with the silver key.",
         "The keeper of the lighthouse kept the silver key in a drawer."],
        ["Storms battered the lighthouse. The storm broke the glass; the keeper wept.",
         "Ada found the silver key under the stones of the lighthouse."],
        ["The keeper said the lighthouse would stand. Bram said the tide was turning.",
         "A red door. A red door."],
        bible={"characters": [ADA, BRAM]})
    themes = analyse_story(content)["themes"]
    terms = [k["term"] for k in themes["keywords"]]
    assert terms[0] == "lighthouse" and themes["keywords"][0]["score"] == 1.0
    assert {"keeper", "key", "silver", "storm"} <= set(terms)
    assert not {"the", "of", "said", "ada", "quill", "bram", "would", "was"} & set(terms)
    assert all(0 < k["score"] <= 1 for k in themes["keywords"]) and len(terms) <= 10
    scores = [k["score"] for k in themes["keywords"]]
    assert scores == sorted(scores, reverse=True)
    assert {"phrase": "silver key", "count": 3} in themes["motifs"]
    assert all(m["count"] >= 3 for m in themes["motifs"])  # "red door" only twice


# --- summary ------------------------------------------------------------------------------------

def _sentences_of(content: dict) -> str:
    return " ".join(" ".join(s["text"].split()) for c in content["manuscript"]["chapters"]
                    for sc in c["scenes"] for s in sc["segments"])


def test_summary_picks_weighty_sentences_from_the_text_in_story_order():
    content = story(["It rained. The old lighthouse keeper guarded the silver key of the "
                     "drowned harbour.", "Nothing much happened that day at all."],
                    ["The keeper hid the silver key inside the lighthouse lantern.",
                     "A cat yawned."],
                    ["At last the keeper gave the silver key to the harbour children."])
    summary = analyse_story(content)["summary"]
    text = _sentences_of(content)
    parts = re.split(r"(?<=\.) ", summary)
    assert 2 <= len(parts) <= 3 and len(summary) <= 600
    assert all(p in text for p in parts)
    assert [text.index(p) for p in parts] == sorted(text.index(p) for p in parts)
    assert "A cat yawned." not in summary and "It rained." not in summary


def test_summary_stays_within_600_characters():
    long = " ".join(["The keeper of the lighthouse carried the silver key"] * 20) + "."
    content = story([long, "The keeper lost the silver key. " * 30,
                     "Silver keys and lighthouse keepers everywhere, " * 40 + "and more."])
    summary = analyse_story(content)["summary"]
    assert 0 < len(summary) <= 600
    only_long = analyse_story(story([long]))["summary"]
    assert only_long.endswith("…") and len(only_long) <= 600 and long.startswith(
        only_long[:-1])


# --- progress, empty content, determinism -------------------------------------------------------

def test_progress_reports_each_stage_from_0_to_1_in_order():
    calls = []
    texts = [f"Ada walked to the lighthouse, number {i}." for i in range(2500)]
    analyse_story(story(texts, bible={"characters": [ADA]}),
                  lambda stage, fraction: calls.append((stage, fraction)))
    assert [s for s, _ in calls if _ == 0.0] == list(STAGES)
    for stage in STAGES:
        fractions = [f for s, f in calls if s == stage]
        assert fractions[0] == 0.0 and fractions[-1] == 1.0 and len(fractions) > 2
        assert fractions == sorted(fractions)
    assert [s for s, _ in calls] == sorted((s for s, _ in calls), key=STAGES.index)


def test_a_raising_progress_callback_stops_the_analysis():
    seen = []

    def stop_at_themes(stage: str, fraction: float) -> None:
        seen.append(stage)
        if stage == "themes":
            raise InterruptedError("cancelled")

    with pytest.raises(InterruptedError):
        analyse_story(story(JOYFUL), stop_at_themes)
    assert seen[-1] == "themes" and "summary" not in seen


EMPTY = {"analyser_version": ANALYSER_VERSION, "words": 0, "segments": 0, "chapters": 0,
         "characters": [],
         "emotions": {"emotional_words": 0, "shares": {e: 0.0 for e in BASIC_EMOTIONS},
                      "arc": [], "characters": []},
         "themes": {"keywords": [], "motifs": []}, "summary": ""}


@pytest.mark.parametrize("content", [
    {}, {"manuscript": {}}, {"manuscript": {"chapters": []}, "scene_bible": {}},
    {"manuscript": None, "scene_bible": None, "modules": None, "chapter_graph": None},
    {"manuscript": {"chapters": [None, {"scenes": [{"segments": [{"id": "seg_1"}]}]}]},
     "scene_bible": {"characters": [ADA, {"name": ""}, "junk"]}},
])
def test_empty_content_gives_a_valid_empty_analysis(content):
    result = analyse_story(content)
    expected = dict(EMPTY)
    if result["chapters"]:  # the last case has one chapter without text
        expected["chapters"] = 1
        expected["emotions"] = {**EMPTY["emotions"], "arc": [
            {"chapter": "chap_2", "title": "", "dominant": None, "intensity": 0.0,
             "emotional_words": 0}]}
    assert result == expected
    assert json.loads(json.dumps(result)) == result


def test_same_input_gives_an_identical_json_able_result():
    content = story(JOYFUL + ["“Come,” said Marlow. Marlow left."], FEARFUL,
                    bible={"characters": [ADA, BRAM]})
    first, second = analyse_story(content), analyse_story(json.loads(json.dumps(content)))
    assert first == second
    assert json.dumps(first) == json.dumps(second)
    assert json.loads(json.dumps(first)) == first
    assert first["words"] > 0 and first["segments"] == 7 and first["chapters"] == 2


def _number_of_decimals(value) -> int:
    if isinstance(value, float):
        return len(repr(value).split(".")[1]) if "e" not in repr(value) else 99
    if isinstance(value, dict):
        return max(map(_number_of_decimals, value.values()), default=0)
    if isinstance(value, list):
        return max(map(_number_of_decimals, value), default=0)
    return 0


# --- a generated 100 000-word story ---------------------------------------------------------

def _generated_story(words: int = 100_000) -> dict:
    rng = random.Random(42)
    vocab = ("the a of and to in was it he she that lighthouse storm sea key silver harbour "
             "night light keeper boat rope stone tower wind rain glass door letter secret map "
             "island afraid happy trust anger sorrow wait hope laugh dread rotten surprise "
             "walked looked turned ran quickly slowly old cold dark bright").split()
    names = ["Ada", "Bram", "Marlow", "the Widow"]
    chapters, count, k = [], 0, 0
    while count < words:
        segments = []
        for _ in range(60):
            sentences = []
            for _ in range(rng.randint(2, 5)):
                ws = [rng.choice(vocab) for _ in range(rng.randint(6, 14))]
                sentence = " ".join(ws).capitalize() + "."
                if rng.random() < 0.4:
                    sentence = f"{rng.choice(names)} {sentence[0].lower()}{sentence[1:]}"
                if rng.random() < 0.2:
                    sentence = f"“{sentence}” said {rng.choice(names[:3])}."
                sentences.append(sentence)
            text = " ".join(sentences)
            count += len(text.split())
            segments.append({"id": f"seg_{k}", "text": text})
            k += 1
        chapters.append({"id": f"chap_{len(chapters)}", "scenes": [{"segments": segments}]})
    return {"manuscript": {"chapters": chapters},
            "scene_bible": {"characters": [ADA, BRAM]}}


def test_a_100k_word_story_is_analysed_correctly():
    content = _generated_story()
    start = time.perf_counter()
    result = analyse_story(content)
    elapsed = time.perf_counter() - start
    print(f"\nanalyse_story: {result['words']} words in {elapsed:.3f} s")
    assert result["words"] >= 100_000
    chars = by_name(result)
    assert list(chars)[0] == "Ada Quill"  # she also owns "the Widow"
    assert set(list(chars)[1:3]) == {"Bram", "Marlow"}
    assert chars["Marlow"]["in_bible"] is False and chars["Marlow"]["dialogue_lines"] > 100
    assert len(result["emotions"]["arc"]) == result["chapters"]
    assert len(result["themes"]["keywords"]) == 10 and len(result["themes"]["motifs"]) == 10
    assert 0 < len(result["summary"]) <= 600
    assert _number_of_decimals(result) <= 4


def test_names_that_are_also_sentence_words_or_start_with_the():
    bible = {"characters": [{"id": "char_may", "name": "May"},
                            {"id": "char_cap", "name": "The Captain"}]}
    chars = by_name(analyse_story(story(["“Go,” said May. May ran. The Captain frowned.",
                                         "“Stay,” the Captain said. Then the captain slept."],
                                        bible=bible)))
    assert (chars["May"]["mentions"], chars["May"]["dialogue_lines"]) == (2, 1)
    assert chars["The Captain"]["mentions"] == 3
