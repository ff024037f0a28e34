"""Scene illustrations: a picture for a scene from its synopsis, the bible's style guide and
the emotions of the characters in it, made with a generation preset by the preset's image
provider (or the default one when the preset names none), and stored with the story (so
backups and exports carry it).

Presets (``image_presets``) hold the provider, model, parameters, style words and LoRA
references; with none saved, ``DEFAULT_PRESET`` is used.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from studio.domain.emotions import prompt_modifiers
from studio.domain.errors import NotFoundError, ValidationError
from studio.providers.base import Capability, ImagePreset, Lora
from studio.services import bible as bible_service
from studio.services import emotions as emotion_service
from studio.services.ai_calls import RunDb, call
from studio.store.database import Database
from studio.store.repositories import illustrations as repo
from studio.store.repositories import manuscript as manuscript_repo
from studio.store.repositories import providers as providers_repo

DEFAULT_PRESET = ImagePreset(name="Book illustration", style="detailed book illustration, "
                             "soft light, painterly", negative="text, watermark, signature")
MAX_PROMPT = 1500
STYLE_KEYS = ("visual_style", "tone", "genre")  # from the bible's style guide, in this order
STYLE_CHARS = 300
MAX_IMAGE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class ImageInfo:
    id: int
    scene_uid: str
    prompt: str
    preset_name: str
    provider_name: str
    mime: str
    bytes_size: int
    created_at: datetime


def _info(row) -> ImageInfo:
    return ImageInfo(row.id, row.scene_uid, row.prompt, row.preset_name, row.provider_name,
                     row.mime, row.bytes_size, row.created_at)


# --- presets ---

def preset_from_dict(name: str, data: dict[str, Any], provider_id: int | None) -> ImagePreset:
    try:
        loras = tuple(Lora(str(x["name"]), str(x.get("trigger_words") or ""),
                           float(x.get("strength", 1.0))) for x in data.get("loras") or [])
        return ImagePreset(
            name=name, provider_id=provider_id, model=str(data.get("model") or ""),
            width=int(data.get("width") or 768), height=int(data.get("height") or 512),
            steps=int(data.get("steps") or 25), cfg_scale=float(data.get("cfg_scale") or 7.0),
            sampler=str(data.get("sampler") or ""),
            seed=None if data.get("seed") in (None, "") else int(data["seed"]),
            style=str(data.get("style") or ""), negative=str(data.get("negative") or ""),
            loras=loras)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationError("Image preset", [name], f"is malformed: {exc}") from None


def list_presets(db: Database) -> list[ImagePreset]:
    with db.session() as s:
        rows = providers_repo.presets(s)
        return [preset_from_dict(r.name, json.loads(r.settings_json or "{}"), r.provider_id)
                for r in rows] or [DEFAULT_PRESET]


def save_preset(db: Database, preset: ImagePreset) -> None:
    name = " ".join(preset.name.split())
    if not name:
        raise ValidationError("Image preset", ["name"], "is required")
    if not (64 <= preset.width <= 4096 and 64 <= preset.height <= 4096):
        raise ValidationError("Image preset", [name], "width and height must be 64–4096")
    if not 1 <= preset.steps <= 200:
        raise ValidationError("Image preset", [name], "steps must be 1–200")
    for lora in preset.loras:
        if not lora.name.strip() or not -5.0 <= lora.strength <= 5.0:
            raise ValidationError("Image preset", [name, "LoRA"],
                                  "needs a name and a strength from -5 to 5")
    data = {k: v for k, v in asdict(preset).items() if k not in ("name", "provider_id",
                                                                  "extra")}
    with db.session() as s:
        providers_repo.upsert_preset(s, name, preset.provider_id or None,
                                     json.dumps(data, sort_keys=True))


def delete_preset(db: Database, name: str) -> None:
    """Forget a saved preset (pictures made with it keep its name)."""
    with db.session() as s:
        row = providers_repo.preset_by_name(s, name)
        if row is None:
            raise NotFoundError(f"There is no image preset “{name}”.")
        s.delete(row)


def get_preset(db: Database, name: str | None) -> ImagePreset:
    presets = list_presets(db)
    if name is None:
        return presets[0]
    found = next((p for p in presets if p.name == name), None)
    if found is None:
        raise NotFoundError(f"There is no image preset “{name}”.")
    return found


# --- prompts and pictures ---

def scene_prompt(db: Database, story_id: int, scene_uid: str) -> str:
    """Synopsis (or the scene's opening), the style guide, and the characters' emotions."""
    with db.session() as s:
        scene = manuscript_repo.scene(s, story_id, scene_uid)
        base = scene.synopsis.strip()
        if not base:
            text = " ".join(seg.text for seg in manuscript_repo.segments_of(s, scene.id))
            base = " ".join(text.split())[:400]
        title = scene.title.strip()
    bible = bible_service.effective_bible(db, story_id)
    names = {c.get("id"): c.get("name") for c in bible.get("characters") or []}
    moods = [f"{names.get(st.character_id, 'a character')}: {', '.join(prompt_modifiers(st))}"
             for st in emotion_service.list_states(db, story_id) if st.scene_uid == scene_uid]
    style = bible.get("style_guide") or {}
    # The visual style is what a picture needs most; tone and genre colour it.  (The narrative
    # style is about prose, not pictures.)  Each is cut short so one long note cannot crowd
    # the scene itself out of the prompt.
    style_words = [" ".join(str(style[k]).split())[:STYLE_CHARS] for k in STYLE_KEYS
                   if isinstance(style.get(k), str) and style[k].strip()]
    parts = [f"{title}: {base}" if title and base else (base or title or "A scene"),
             *(f"mood — {m}" for m in moods), *style_words]
    return ". ".join(p.strip().rstrip(".") for p in parts if p.strip())[:MAX_PROMPT]


def store_image(db: Database, story_id: int, scene_uid: str, prompt: str, preset: str,
                provider: str, data: bytes, mime: str) -> ImageInfo:
    if not data or len(data) > MAX_IMAGE_BYTES:
        raise ValidationError("Illustration", [scene_uid], "the image is empty or too large")
    with db.session() as s:
        manuscript_repo.scene(s, story_id, scene_uid)
        row = repo.add(s, story_id=story_id, scene_uid=scene_uid, prompt=prompt,
                       preset_name=preset, provider_name=provider, mime=mime,
                       bytes_size=len(data), data=data)
        return _info(row)


async def illustrate(run_db: RunDb, db: Database, story_id: int, scene_uid: str,
                     preset_name: str | None = None, prompt: str | None = None) -> ImageInfo:
    """Make and store a picture of the scene (nothing stored when the provider fails)."""
    preset = await run_db(get_preset, db, preset_name)
    text = prompt or await run_db(scene_prompt, db, story_id, scene_uid)
    result, config = await call(run_db, db, Capability.IMAGE,
                                lambda p: p.generate_image(text, preset),
                                story_id=story_id, purpose="illustration", offline_ok=False,
                                provider_id=preset.provider_id)
    if not result.images:
        from studio.providers.errors import BadResponse

        raise BadResponse(f"{config.name} sent no image.")
    return await run_db(store_image, db, story_id, scene_uid, preset.prompt(text),
                        preset.name, config.name, result.images[0], result.mime)


def scene_images(db: Database, story_id: int, scene_uid: str | None = None) -> list[ImageInfo]:
    with db.session() as s:
        return [_info(r) for r in repo.of_story(s, story_id, scene_uid)]


def latest_images(db: Database, story_id: int) -> dict[str, bytes]:
    """The newest picture of every illustrated scene (for the outline)."""
    with db.session() as s:
        newest = {r.scene_uid: r for r in repo.of_story(s, story_id)}  # ordered by id
        # Only the newest picture of each scene is read (``data`` is deferred): a scene drawn
        # ten times costs one image, not ten.
        return {uid: row.data for uid, row in newest.items()}


def image_data(db: Database, story_id: int, image_id: int) -> bytes:
    with db.session() as s:
        row = repo.get(s, story_id, image_id)
        if row is None:
            raise NotFoundError(f"There is no picture {image_id} in this story.")
        return row.data


def delete_image(db: Database, story_id: int, image_id: int) -> None:
    with db.session() as s:
        row = repo.get(s, story_id, image_id)
        if row is None:
            raise NotFoundError(f"There is no picture {image_id} in this story.")
        s.delete(row)
