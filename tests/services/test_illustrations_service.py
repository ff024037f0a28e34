"""Scene illustrations as a use case, on a real SQLite file and a real (fake) Automatic1111
server over HTTP: the prompt a scene gives, presets and their validation, a picture made and
stored, nothing stored when the service fails, usage recorded."""

from __future__ import annotations

import asyncio

import pytest

from studio.domain.errors import NotFoundError, ValidationError
from studio.providers import errors as provider_errors
from studio.providers.base import Capability, ImagePreset, Lora
from studio.services import ai_calls, bible, emotions, illustrations, stories
from studio.services import manuscript as ms
from studio.services import providers
from tests.providers.fakes import _a1111_fake_server, a1111_fake, closed_port_url  # noqa: F401

ADA = {"id": "char_ada1", "name": "Ada Quill"}
TOM = {"id": "char_tom1", "name": "Tom Harrow"}
STYLE = {"tone": "brooding, quiet", "genre": "coastal mystery",
         "visual_style": "ink and watercolour, muted greens",
         "narrative_style": "close third person, past tense"}


def make_story(db):
    story = stories.create_story(db, "The Lamp")
    chapter = ms.add_chapter(db, story.id, "Arrival")
    quay = ms.add_scene(db, story.id, chapter.uid, "The quay",
                        text="The ferry came in under a bruised sky.\n\nWren counted lanterns.")
    ms.update_scene(db, story.id, quay.uid,
                    synopsis="Ada waits on the quay in the rain for the last ferry.")
    bare = ms.add_scene(db, story.id, chapter.uid, "The gallery",
                        text="Gulls argued on the gallery rail.\n\nThe lamp was dark.")
    return story, quay, bare


def use_a1111(db, fake, name: str = "Local WebUI", **settings) -> int:
    config = providers.save_provider(db, "a1111", name, dict(fake.config(**settings).settings))
    providers.set_default(db, Capability.IMAGE.value, config.id)
    return config.id


def illustrate(db, story_id, uid, **kw):
    return asyncio.run(illustrations.illustrate(ai_calls.inline, db, story_id, uid, **kw))


# --- the prompt ---

def test_prompt_from_synopsis_emotions_and_the_style_guide(db):
    story, quay, _ = make_story(db)
    bible.save(db, story.id, "story", 0, {"characters": [ADA, TOM], "style_guide": STYLE})
    emotions.set_state(db, story.id, {"character_id": "char_ada1", "scene_uid": quay.uid,
                                      "primary": "fear", "intensity": 0.9,
                                      "secondary": {"hope": 0.3}})
    prompt = illustrations.scene_prompt(db, story.id, quay.uid)
    assert prompt.startswith("The quay: Ada waits on the quay in the rain for the last ferry")
    assert "Ada Quill: overwhelming fear, hints of hope" in prompt
    assert "Tom Harrow" not in prompt  # no state of his in this scene
    # The visual style first, then tone and genre; the narrative style is about prose.
    visual, tone, genre = (prompt.index(STYLE[k]) for k in ("visual_style", "tone", "genre"))
    assert visual < tone < genre
    assert "past tense" not in prompt
    assert len(prompt) <= illustrations.MAX_PROMPT


def test_prompt_without_a_synopsis_uses_the_opening_of_the_scene(db):
    story, _, bare = make_story(db)
    prompt = illustrations.scene_prompt(db, story.id, bare.uid)
    assert prompt == "The gallery: Gulls argued on the gallery rail. The lamp was dark"


def test_a_long_style_note_does_not_crowd_out_the_scene(db):
    story, quay, _ = make_story(db)
    bible.save(db, story.id, "story", 0, {"style_guide": {"tone": "grey " * 390}})
    prompt = illustrations.scene_prompt(db, story.id, quay.uid)
    assert "Ada waits on the quay" in prompt
    assert len(prompt) < 100 + illustrations.STYLE_CHARS


# --- presets ---

def test_presets_round_trip_and_the_default(db):
    assert illustrations.list_presets(db) == [illustrations.DEFAULT_PRESET]
    preset = ImagePreset(name="  Night   ink ", model="dreamshaper_8", width=512, height=768,
                         steps=30, cfg_scale=6.5, sampler="DPM++ 2M", seed=42,
                         style="pen and ink", negative="blurry",
                         loras=(Lora("inkwash", "inkwash style", 0.8),))
    illustrations.save_preset(db, preset)
    illustrations.save_preset(db, ImagePreset(name="Alpha"))
    assert [p.name for p in illustrations.list_presets(db)] == ["Alpha", "Night ink"]
    back = illustrations.get_preset(db, "Night ink")
    assert back == ImagePreset(**{**preset.__dict__, "name": "Night ink"})
    assert illustrations.get_preset(db, None).name == "Alpha"
    # Saving under the same name replaces it; an empty seed means "random".
    illustrations.save_preset(db, ImagePreset(name="Night ink", seed=None, steps=12))
    again = illustrations.get_preset(db, "Night ink")
    assert again.seed is None and again.steps == 12 and again.loras == ()
    illustrations.delete_preset(db, "Alpha")
    assert [p.name for p in illustrations.list_presets(db)] == ["Night ink"]
    with pytest.raises(NotFoundError):
        illustrations.get_preset(db, "Alpha")
    with pytest.raises(NotFoundError):
        illustrations.delete_preset(db, "Alpha")


@pytest.mark.parametrize("preset, words", [
    (ImagePreset(name="   "), "required"),
    (ImagePreset(name="Tiny", width=32), "width and height"),
    (ImagePreset(name="Huge", height=5000), "width and height"),
    (ImagePreset(name="Slow", steps=500), "steps"),
    (ImagePreset(name="Nameless LoRA", loras=(Lora("  ", "", 1.0),)), "LoRA"),
    (ImagePreset(name="Strong LoRA", loras=(Lora("ink", "", 9.0),)), "strength"),
])
def test_invalid_presets_are_refused_and_nothing_is_saved(db, preset, words):
    with pytest.raises(ValidationError) as err:
        illustrations.save_preset(db, preset)
    assert words in f"{err.value.path} {err.value.reason}"
    assert illustrations.list_presets(db) == [illustrations.DEFAULT_PRESET]


# --- pictures ---

def test_illustrate_stores_the_picture_and_records_usage(db, a1111_fake):
    story, quay, bare = make_story(db)
    use_a1111(db, a1111_fake)
    illustrations.save_preset(db, ImagePreset(
        name="Ink", width=640, height=448, steps=20, negative="text",
        style="pen and ink", loras=(Lora("inkwash", "inkwash style", 0.8),
                                    Lora("paper-grain", "", 1.0))))
    info = illustrate(db, story.id, quay.uid, preset_name="Ink")
    sent = a1111_fake.requests[-1]
    assert sent.path == "/sdapi/v1/txt2img"
    assert sent.json["prompt"].startswith("The quay: Ada waits on the quay")
    assert "pen and ink, inkwash style" in sent.json["prompt"]
    assert sent.json["prompt"].endswith("<lora:inkwash:0.8>, <lora:paper-grain:1>")
    assert (sent.json["width"], sent.json["height"], sent.json["steps"]) == (640, 448, 20)
    assert sent.json["negative_prompt"] == "text"

    assert info.scene_uid == quay.uid and info.preset_name == "Ink"
    assert info.provider_name == "Local WebUI" and info.mime == "image/png"
    assert "inkwash style" in info.prompt  # the prompt as sent, style words included
    data = illustrations.image_data(db, story.id, info.id)
    assert data.startswith(b"\x89PNG") and len(data) == info.bytes_size
    assert [i.id for i in illustrations.scene_images(db, story.id, quay.uid)] == [info.id]
    assert illustrations.scene_images(db, story.id, bare.uid) == []

    # A prompt of the author's own replaces the scene's; the newest picture is the outline's.
    second = illustrate(db, story.id, quay.uid, prompt="A lighthouse at dusk")
    assert a1111_fake.requests[-1].json["prompt"].startswith("A lighthouse at dusk")
    assert second.preset_name == "Ink"  # the first preset, once any is saved
    assert set(illustrations.latest_images(db, story.id)) == {quay.uid}
    assert illustrations.latest_images(db, story.id)[quay.uid] == illustrations.image_data(
        db, story.id, second.id)

    usage = providers.usage_summary(db, story.id)
    assert [(u.provider, u.capability, u.calls, u.images) for u in usage] == [
        ("Local WebUI", "image", 2, 2)]

    illustrations.delete_image(db, story.id, second.id)
    assert [i.id for i in illustrations.scene_images(db, story.id)] == [info.id]
    with pytest.raises(NotFoundError):
        illustrations.image_data(db, story.id, second.id)


def test_a_failing_service_stores_nothing_and_says_why(db, a1111_fake):
    story, quay, _ = make_story(db)
    use_a1111(db, a1111_fake)
    a1111_fake.fail_next(500, {"error": "OutOfMemoryError", "detail": "CUDA out of memory"})
    with pytest.raises(provider_errors.ServiceFault, match="failed on its side .500."):
        illustrate(db, story.id, quay.uid)
    a1111_fake.respond_next({"images": ["bm90IGFuIGltYWdl"]})  # base64 of "not an image"
    with pytest.raises(provider_errors.BadResponse, match="neither PNG"):
        illustrate(db, story.id, quay.uid)
    assert illustrations.scene_images(db, story.id) == []
    assert providers.usage_summary(db, story.id) == []


def test_a_service_that_does_not_answer_times_out(db, a1111_fake):
    story, quay, _ = make_story(db)
    use_a1111(db, a1111_fake, timeout=0.5)
    a1111_fake.hang_next(5)
    with pytest.raises(provider_errors.TimedOut, match="did not answer within 0.5 s"):
        illustrate(db, story.id, quay.uid)
    assert illustrations.scene_images(db, story.id) == []


def test_without_an_image_provider_the_message_says_how_to_add_one(db):
    story, quay, _ = make_story(db)
    with pytest.raises(ai_calls.NoProvider) as err:
        illustrate(db, story.id, quay.uid)
    assert "No provider for images" in str(err.value) and "AI providers" in str(err.value)
    assert illustrations.scene_images(db, story.id) == []


def test_a_preset_uses_its_own_provider(db, a1111_fake):
    story, quay, _ = make_story(db)
    # The default image provider is down; the preset names the one that works.
    broken = providers.save_provider(db, "a1111", "Broken", {"base_url": closed_port_url(),
                                                             "retries": 0})
    providers.set_default(db, Capability.IMAGE.value, broken.id)
    good = providers.save_provider(db, "a1111", "Studio GPU",
                                   dict(a1111_fake.config().settings))
    illustrations.save_preset(db, ImagePreset(name="On the GPU", provider_id=good.id))
    illustrations.save_preset(db, ImagePreset(name="Plain"))
    info = illustrate(db, story.id, quay.uid, preset_name="On the GPU")
    assert info.provider_name == "Studio GPU"
    with pytest.raises(provider_errors.Unreachable, match="cannot be reached"):
        illustrate(db, story.id, quay.uid, preset_name="Plain")  # no provider: the default
    # A preset naming a provider that cannot draw is refused with a clear message.
    text = providers.save_provider(db, "openai", "Chat", {"base_url": "http://127.0.0.1:9/v1",
                                                          "model": "m"})
    illustrations.save_preset(db, ImagePreset(name="Wrong", provider_id=text.id))
    with pytest.raises(ai_calls.NoProvider, match="Chat cannot do images"):
        illustrate(db, story.id, quay.uid, preset_name="Wrong")
    assert len(illustrations.scene_images(db, story.id)) == 1
