"""A playtest turn uses an embeddings provider's vectors for the similarity of intent and
recent text when they are given, and the offline TF-IDF when not."""

from __future__ import annotations

from studio.services import playtest

from tests.services.test_chapter_graph import court_story, king_chapter

START = {"location": "throne room", "characters": ["char_king"], "inventory": ["royal decree"]}


def _similarity_line(play) -> str:
    entry = [e for e in play.log if e["turn"] == len(play.turns)][0]
    return next(line for line in entry["breakdown"] if "similarity" in line)


def test_embeddings_decide_the_similarity(db):
    story = court_story(db)
    chapter = king_chapter(db, story)
    play = playtest.start(db, story.id, "Run", START)
    text = "The hero kneels before the king."
    play = playtest.play_turn(db, story.id, play.uid, text)
    assert play.last["similarity"] == "offline"
    wanted = playtest.embedding_inputs(db, story.id, "Horses stamp in the straw.")
    assert wanted == [chapter["summary"], "Horses stamp in the straw."]
    # vectors that say the stable scene means exactly the chapter's intent
    same = {t: [0.6, 0.8] for t in wanted}
    play = playtest.play_turn(db, story.id, play.uid, "Horses stamp in the straw.", {}, same)
    assert play.last["similarity"] == "embeddings"
    assert "similarity of intent and recent text 1" in _similarity_line(play)
    # and vectors that say it is unrelated
    apart = {wanted[0]: [1.0, 0.0], wanted[1]: [0.0, 1.0]}
    play = playtest.play_turn(db, story.id, play.uid, "Horses stamp in the straw.", {}, apart)
    assert "similarity of intent and recent text 0 " in _similarity_line(play) + " "
