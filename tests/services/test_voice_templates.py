"""Voice template use cases: the built-in set, create/validate, supersede, hide, permanence
(the service refuses and so does the database), proposals from a stored analysis, adopt;
publishing through the outbox to a real marketplace and taking templates from it."""

from __future__ import annotations

import random

import pytest
import sqlalchemy.exc

from studio.domain.errors import NotFoundError, ValidationError
from studio.domain.voices import BUILTIN_TEMPLATES, EMOTION_DEFAULTS, VoiceParams
from studio.services import analysis, manuscript, marketplace_ops, stories
from studio.services import voice_templates as vt
from studio.store.database import Database
from studio.store.repositories import outbox as outbox_repo
from studio.sync.client import MarketplaceClient, TokenSource
from studio.sync.operations import SENDERS
from studio.sync.outbox import Handler, OutboxDrainer
from tests.sync.conftest import mkt_sqlite  # noqa: F401 (fixture)
from tests.sync.helpers import register, run, run_db

SERVER = "https://market.example.org"
DISGUST = ("The cellar stank of rot. Mara gagged at the filthy, slimy walls; the stench was "
           "vile and the rancid meat crawled with maggots. She spat in disgust.")
TRUST = ("Tom was her loyal friend. She trusted him; he had sworn an oath to protect her, and "
         "his honest, steady promise made her feel safe.")


def _uids(templates):
    return [t.uid for t in templates]


# --- the set, creating, validating ------------------------------------------------------------

def test_builtins_are_there_after_the_first_list(db):
    listed = vt.list_templates(db)
    assert _uids(listed) == [t.uid for t in BUILTIN_TEMPLATES]
    assert all(t.builtin and t.source == "builtin" for t in listed)
    assert vt.list_templates(db) == listed  # not inserted twice
    assert vt.get(db, "vt_builtin_whisper").params.volume == 0.4


def test_a_builtin_can_be_read_before_any_list(db):
    assert vt.get(db, "vt_builtin_fury").emotion == "anger"
    with pytest.raises(NotFoundError):
        vt.get(db, "vt_nope")


def test_create_a_template(db):
    t = vt.create(db, "  Cold   contempt ", "emotion", "Contempt",
                  {"pitch": -1, "rate": 0.9, "emphasis": "moderate"}, "  How quaint.  ")
    assert t.uid.startswith("vt_") and len(t.uid) == 19
    assert (t.name, t.emotion, t.sample_line, t.source) == ("Cold contempt", "contempt",
                                                            "How quaint.", "author")
    assert t.params == VoiceParams(pitch=-1.0, rate=0.9, emphasis="moderate")
    assert vt.get(db, t.uid) == t
    assert t.uid in _uids(vt.list_templates(db))


@pytest.mark.parametrize("args, field", [
    (("Loud", "emotion", "joy", {"volume": 3.5}), "params/volume"),
    (("Fast", "emotion", "joy", {"rate": "quick"}), "params/rate"),
    (("Odd", "emotion", "joy", {"pitch": float("nan")}), "params/pitch"),
    (("Odd", "emotion", "joy", {"emphasis": "shouty"}), "params/emphasis"),
    (("Odd", "emotion", "joy", {"pich": 1}), "params/pich"),
    (("Odd", "emotion", "joy", [1, 2]), "params"),
    (("x" * 81, "emotion", "joy", {}), "name"),
    (("   ", "emotion", "joy", {}), "name"),
    (("Odd", "noise", "joy", {}), "kind"),
    (("Odd", "emotion", "", {}), "emotion"),
    (("Odd", "emotion", "9 lives", {}), "emotion"),
])
def test_bad_input_is_refused_and_nothing_is_stored(db, args, field):
    before = vt.list_templates(db, include_hidden=True, include_superseded=True)
    with pytest.raises(ValidationError) as info:
        vt.create(db, *args, "")
    assert "/".join(map(str, info.value.path)) == field
    assert vt.list_templates(db, include_hidden=True, include_superseded=True) == before


def test_a_too_long_sample_line_is_refused(db):
    with pytest.raises(ValidationError, match="sample_line"):
        vt.create(db, "Long", "sound", "", {}, "la " * 200)


def test_sounds_and_modulations_need_no_emotion(db):
    t = vt.create(db, "Hum", "sound", "", {"pitch": 1}, "Mm-hm.")
    assert t.kind == "sound" and t.emotion == ""


# --- supersede, hide, permanence --------------------------------------------------------------

def test_supersede_keeps_the_old_one_pointing_at_the_new(db):
    old = vt.create(db, "Dread", "emotion", "fear", {"pitch": 1, "rate": 1.1}, "Hush.")
    new = vt.supersede(db, old.uid, params={"rate": 0.8}, sample_line="Listen.")
    assert new.uid != old.uid and new.superseded_by is None
    assert new.params == VoiceParams(pitch=1.0, rate=0.8) and new.sample_line == "Listen."
    assert (new.name, new.emotion, new.kind) == ("Dread", "fear", "emotion")
    kept = vt.get(db, old.uid)
    assert kept.superseded_by == new.uid and kept.params == old.params
    assert old.uid not in _uids(vt.list_templates(db))
    assert old.uid in _uids(vt.list_templates(db, include_superseded=True))
    with pytest.raises(ValidationError, match="already superseded"):
        vt.supersede(db, old.uid, name="Dread 3")
    with pytest.raises(ValidationError, match="nothing changed"):
        vt.supersede(db, new.uid, params={"rate": 0.8})
    with pytest.raises(ValidationError, match="params/rate"):
        vt.supersede(db, new.uid, params={"rate": 9})
    assert vt.get(db, new.uid).superseded_by is None  # a refused supersede changed nothing


def test_a_builtin_can_be_superseded(db):
    new = vt.supersede(db, "vt_builtin_joy", name="Joy (warmer)", params={"pitch": 1.0})
    assert new.source == "author" and not new.builtin and new.emotion == "joy"
    assert vt.get(db, "vt_builtin_joy").superseded_by == new.uid
    assert vt.list_templates(db)[0].uid == "vt_builtin_sorrow"
    vt.list_templates(db)  # ensure_builtins does not bring the superseded one back as new
    assert vt.get(db, "vt_builtin_joy").superseded_by == new.uid


def test_hide_and_show_again(db):
    vt.hide(db, "vt_builtin_sigh")
    assert "vt_builtin_sigh" not in _uids(vt.list_templates(db))
    assert vt.get(db, "vt_builtin_sigh").hidden
    assert "vt_builtin_sigh" in _uids(vt.list_templates(db, include_hidden=True))
    assert not vt.hide(db, "vt_builtin_sigh", hidden=False).hidden
    assert "vt_builtin_sigh" in _uids(vt.list_templates(db))


def test_delete_is_refused_by_the_service_and_by_the_database(db):
    mine = vt.create(db, "Mine", "modulation", "", {"volume": 0.5}, "")
    for uid in (mine.uid, "vt_builtin_gasp", "vt_unknown"):
        with pytest.raises(vt.PermanentTemplate, match="permanent so narrations that use "
                                                       "them never break"):
            vt.delete(db, uid)
    count = len(vt.list_templates(db, include_hidden=True, include_superseded=True))
    with pytest.raises(sqlalchemy.exc.DBAPIError, match="voice templates are permanent"):
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM voice_templates WHERE uid = ?", (mine.uid,))
    with pytest.raises(sqlalchemy.exc.DBAPIError, match="supersede or hide them instead"):
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM voice_templates")
    assert len(vt.list_templates(db, include_hidden=True, include_superseded=True)) == count
    assert vt.get(db, mine.uid) == mine


# --- proposals from an analysis, adopt ------------------------------------------------------

def _story(db) -> int:
    story = stories.create_story(db, "The Cellar").id
    chapter = manuscript.add_chapter(db, story, "One").uid
    for title, text in (("Cellar", DISGUST), ("Oath", TRUST), ("Cellar again", DISGUST)):
        scene = manuscript.add_scene(db, story, chapter, title).uid
        manuscript.save_scene_text(db, story, scene, "\n\n".join([text] * 3))
    return story


def test_proposals_need_an_analysis_first(db):
    story = _story(db)
    found = vt.proposals(db, story)
    assert found == [] and not found.analysed and "Analyse the story first" in found.message


def test_proposals_from_the_stored_analysis_and_adopt(db):
    story = _story(db)
    analysis.analyse(db, story, in_process=False)
    found = vt.proposals(db, story)
    assert found.analysed and found.current and found.message == ""
    assert found == [{"emotion": "disgust", "scenes": 2, "example": "Cellar"},
                     {"emotion": "trust", "scenes": 1, "example": "Oath"}]

    made = vt.adopt(db, "Disgust")
    assert (made.name, made.emotion, made.kind, made.source) == ("disgust", "disgust",
                                                                 "emotion", "analysis")
    assert made.params == VoiceParams(**EMOTION_DEFAULTS["disgust"])
    assert [p["emotion"] for p in vt.proposals(db, story)] == ["trust"]
    with pytest.raises(ValidationError, match="already has a template: “disgust”"):
        vt.adopt(db, "disgust")
    with pytest.raises(ValidationError, match="already has a template: “fear”"):
        vt.adopt(db, "fear")  # the built-in "fear" voices it
    # a hidden template still covers its emotion (the author is told to show it)
    vt.hide(db, made.uid)
    with pytest.raises(ValidationError, match="it is hidden"):
        vt.adopt(db, "disgust")
    # after a change, the proposals say they come from an older analysis
    scene = manuscript.outline(db, story).chapters[0].scenes[1].uid
    manuscript.save_scene_text(db, story, scene, TRUST)
    stale = vt.proposals(db, story)
    assert stale == [{"emotion": "trust", "scenes": 1, "example": "Oath"}]
    assert not stale.current and "analyse it again" in stale.message


# --- marketplace: queueing -------------------------------------------------------------------

def test_publish_is_queued_and_checked(db):
    mine = vt.create(db, "Hiss", "sound", "", {"pitch": -2, "emphasis": "strong"}, "Sss.")
    for kwargs, field in ((dict(licence="MIT"), "licence"),
                          (dict(licence="CC-BY", visibility="secret"), "visibility"),
                          (dict(licence="CC-BY", tags=["ok", "no!"]), "tags"),
                          (dict(licence="CC-BY", description="x" * 5001), "description")):
        with pytest.raises(ValidationError, match=field):
            vt.publish_template(db, mine.uid, SERVER, **kwargs)
    with pytest.raises(ValidationError, match="built in"):
        vt.publish_template(db, "vt_builtin_laugh", SERVER, "CC-BY")
    entry = vt.publish_template(db, mine.uid, SERVER, "CC-BY", tags=["Snake", "snake"])
    with pytest.raises(ValidationError, match="already waiting"):
        vt.publish_template(db, mine.uid, SERVER, "CC-BY")
    prepare, complete = marketplace_ops.HANDLERS[vt.OUTBOX_KIND]
    spec = prepare(db, entry)
    assert spec["body"] == {
        "name": "Hiss", "description": "Sss.", "emotion": "sound", "tags": ["snake", "sound"],
        "parameters": {"pitch": -2.0, "rate": 1.0, "volume": 1.0, "emphasis": 3,
                       "stability": 0.5, "style": 0.0, "similarity": 0.75},
        "licence": "CC-BY", "visibility": "public"}
    assert prepare(db, entry) == spec  # frozen: a retry sends the very same request
    complete(db, entry, {"template_id": "vt_remote1", "template": {}})
    complete(db, entry, {"template_id": "vt_remote1", "template": {}})  # idempotent
    with pytest.raises(ValidationError, match="already on the marketplace"):
        vt.publish_template(db, mine.uid, SERVER, "CC-BY")
    assert "publish_voice_template" in SENDERS


def test_take_checks_what_came_and_clamps_foreign_ranges(db):
    with pytest.raises(ValidationError, match="id"):
        vt.take_template(db, {"id": "st_1", "parameters": {}})
    with pytest.raises(ValidationError, match="parameters"):
        vt.take_template(db, {"id": "vt_1"})
    t = vt.take_template(db, {"id": "vt_1", "name": "Boom", "emotion": "Awe",
                              "parameters": {"pitch": 40, "rate": 0.1, "energy": 3,
                                             "emphasis": 2, "style": True},
                              "tags": ["big"], "description": "Whoa."})
    assert (t.name, t.emotion, t.kind, t.source, t.sample_line) == ("Boom", "awe", "emotion",
                                                                    "marketplace", "Whoa.")
    assert t.params == VoiceParams(pitch=12.0, rate=0.5, emphasis="moderate")
    assert vt.take_template(db, {"id": "vt_1", "parameters": {}}) == t
    with pytest.raises(ValidationError, match="taken from the marketplace"):
        vt.publish_template(db, t.uid, SERVER, "CC-BY")


# --- marketplace: a real server ------------------------------------------------------------

class Library:
    """A local library signed in to the marketplace, with the real outbox drainer."""

    def __init__(self, folder, url: str, prefix: str):
        self.db = Database.open(folder)
        self.url = url
        self.username, self.password = register(url, prefix)
        self.client = MarketplaceClient(url, tokens=TokenSource.from_keyring(url,
                                                                             self.username))
        handlers = {kind: Handler(prepare, SENDERS[kind], complete)
                    for kind, (prepare, complete) in marketplace_ops.HANDLERS.items()
                    if kind in SENDERS}
        self.drainer = OutboxDrainer(run_db, self.db, lambda _url: self.client, handlers,
                                     rng=random.Random(5))

    async def close(self):
        await self.client.aclose()
        self.db.close()


def test_publish_supersede_and_take_through_a_real_marketplace(mkt_sqlite, tmp_path):  # noqa: F811
    url = mkt_sqlite.base_url

    async def scenario():
        ann = Library(tmp_path / "ann", url, "ann")
        bob = Library(tmp_path / "bob", url, "bob")
        try:
            await ann.client.login(ann.username, ann.password)
            wail = vt.create(ann.db, "Banshee wail", "sound", "", {"pitch": 5, "rate": 0.7,
                                                                    "emphasis": "strong"},
                             "Ooooh!")
            awe = vt.create(ann.db, "Awe", "emotion", "awe", {"pitch": 1.5, "volume": 0.9},
                            "Look at the stars.")
            vt.publish_template(ann.db, wail.uid, url, "CC-BY", tags=["ghost"])
            vt.publish_template(ann.db, awe.uid, url, "CC-BY-NC", description="Hushed wonder")
            assert await ann.drainer.drain() == 2
            wail_id = vt_remote(ann.db, wail.uid)
            awe_id = vt_remote(ann.db, awe.uid)
            served = await ann.client.voice_template(wail_id)
            assert (served["name"], served["emotion"], served["owner"]) == (
                "Banshee wail", "sound", ann.username)
            assert sorted(served["tags"]) == ["ghost", "sound"]

            # a new version of a published template supersedes it on the server too
            wail2 = vt.supersede(ann.db, wail.uid, params={"pitch": 6})
            vt.publish_template(ann.db, wail2.uid, url, "CC-BY")
            assert await ann.drainer.drain() == 1
            wail2_id = vt_remote(ann.db, wail2.uid)
            newer = await ann.client.voice_template(wail2_id)
            assert newer["supersedes"] == wail_id
            assert (await ann.client.voice_template(wail_id))["superseded_by"] == wail2_id

            # Bob takes the first version, then the second: his copy points at the newer one
            took = await vt.take_from_marketplace(bob.client, run_db, bob.db, wail_id)
            assert (took.name, took.kind, took.emotion, took.source, took.sample_line) == (
                "Banshee wail", "sound", "", "marketplace", "Ooooh!")
            assert took.params == wail.params
            again = await vt.take_from_marketplace(bob.client, run_db, bob.db, wail_id)
            assert again == took  # the same local copy, not a second one
            took2 = await vt.take_from_marketplace(bob.client, run_db, bob.db, wail2_id)
            assert took2.params == vt.get(ann.db, wail2.uid).params
            assert vt.get(bob.db, took.uid).superseded_by == took2.uid
            taken_awe = await vt.take_from_marketplace(bob.client, run_db, bob.db, awe_id)
            assert (taken_awe.emotion, taken_awe.kind, taken_awe.params) == (
                "awe", "emotion", awe.params)
            assert taken_awe.sample_line == "Hushed wonder"
            mine = [t for t in vt.list_templates(bob.db) if t.source == "marketplace"]
            assert {t.uid for t in mine} == {took2.uid, taken_awe.uid}
        finally:
            await ann.close()
            await bob.close()

    run(scenario())


def vt_remote(db, uid: str) -> str:
    from studio.store.repositories import voice_templates as repo

    with db.session() as s:
        remote = repo.by_uid(s, uid).remote_id
    assert remote and remote.startswith("vt_")
    return remote


def test_outbox_entry_for_a_template_has_no_story(db):
    mine = vt.create(db, "Purr", "sound", "", {}, "")
    entry = vt.publish_template(db, mine.uid, SERVER, "CC-BY")
    with db.session() as s:
        row = outbox_repo.get(s, entry)
        assert (row.kind, row.story_id, row.label) == ("publish_voice_template", None,
                                                       "Publish voice template “Purr”")
