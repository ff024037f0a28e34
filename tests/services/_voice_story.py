"""Shared by the narration and roleplay tests: a ten-paragraph story with dialogue, the fake
ElevenLabs server configured as the speech provider, a sine-tone WAV, and a runner."""

from __future__ import annotations

import asyncio
import io
import math
import struct
import wave

from studio.providers.base import Capability
from studio.services import ai_calls, analysis_actions, bible, emotions, stories
from studio.services import manuscript as ms
from studio.services import providers

RACHEL = "21m00Tcm4TlvDq8ikWAM"   # the fake's premade voices
DOMI = "AZnzlk1XvdvUeBnXmlld"
ADA = {"id": "char_ada1", "name": "Ada Quill", "aliases": ["the keeper's daughter"]}
TOM = {"id": "char_tom1", "name": "Tom Harrow"}
NARRATOR = {"kind": "provider", "voice_id": RACHEL, "provider_id": None}
ADA_VOICE = {"kind": "provider", "voice_id": DOMI, "provider_id": None}

QUAY = ["The ferry came in under a bruised sky.",
        "“I waited all night,” said Ada.",
        "Tom tied the rope to the bollard and did not look up.",
        "“You should have gone home,” Tom said."]
LAMP = ["The lamp room smelled of oil and salt.",
        "“Light it,” said Ada. “Light it now.”",
        "Gulls argued on the gallery rail."]
STORM = ["Rain hammered the glass all evening.",
         "“It will hold,” Ada whispered.",
         "Morning came grey and quiet."]
PARAGRAPHS = QUAY + LAMP + STORM


def make_story(db, title: str = "The Lamp"):
    """Two chapters, three scenes, ten paragraphs; Ada and Tom in the bible; the quay's
    emotion is sadness (set as the analysis panel sets it); Ada is afraid in the lamp room."""
    story = stories.create_story(db, title)
    arrival = ms.add_chapter(db, story.id, "Arrival")
    night = ms.add_chapter(db, story.id, "Night")
    quay = ms.add_scene(db, story.id, arrival.uid, "The quay", text="\n\n".join(QUAY))
    lamp = ms.add_scene(db, story.id, arrival.uid, "The lamp", text="\n\n".join(LAMP))
    storm = ms.add_scene(db, story.id, night.uid, "The storm", text="\n\n".join(STORM))
    bible.save(db, story.id, "story", 0, {"characters": [ADA, TOM]})
    analysis_actions.set_scene_emotion(db, story.id, quay.uid, "sadness")
    emotions.set_state(db, story.id, {"character_id": ADA["id"], "scene_uid": lamp.uid,
                                      "primary": "fear", "intensity": 0.8})
    return story, (arrival, night), (quay, lamp, storm)


def use_elevenlabs(db, fake, name: str = "Voices") -> int:
    """The fake ElevenLabs server as the default speech provider (key in the keyring)."""
    config = providers.save_provider(db, "elevenlabs", name, dict(fake.config().settings),
                                     key=fake.key)
    providers.set_default(db, Capability.SPEECH.value, config.id)
    return config.id


def tts_requests(fake) -> list:
    return [r for r in fake.requests if r.path.startswith("/v1/text-to-speech/")]


def run(coro):
    return asyncio.run(coro)


def inline():
    return ai_calls.inline


def sine_wav(seconds: float = 1.0, freq: float = 440.0, rate: int = 22050) -> bytes:
    """A mono 16-bit WAV of a sine tone."""
    frames = b"".join(struct.pack("<h", int(12000 * math.sin(2 * math.pi * freq * i / rate)))
                      for i in range(int(seconds * rate)))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return buf.getvalue()
