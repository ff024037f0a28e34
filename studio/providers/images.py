"""Image providers: an OpenAI-compatible images API, and a local Automatic1111 / Forge WebUI.

- ``openai_images``: ``POST /images/generations`` → ``data[0].b64_json`` (or ``data[0].url``,
  then downloaded without the key: such links point at a storage host, not the API).  OpenAI's
  own models take only a few sizes, so the preset's size is mapped to the nearest aspect they
  offer (gpt-image-*, dall-e-3, dall-e-2); any other model gets the preset's size as it is.
- ``a1111``: ``POST /sdapi/v1/txt2img`` with the preset's parameters, its LoRAs written in the
  WebUI prompt syntax ``<lora:name:strength>`` and the checkpoint as an override setting;
  answers base64 images and an ``info`` JSON string holding the seed.  Runs locally: no key.

Every image is decoded and checked (PNG, JPEG or WebP by its first bytes) before it is
returned, so a broken answer is ``BadResponse``, never a file that will not open.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Mapping
from urllib.parse import urljoin

import httpx

from studio.providers.base import (
    Capability, ImagePreset, ImageResult, ProviderConfig, ProviderKind, Setting, Usage,
)
from studio.providers.http import DEFAULT_RETRIES, HttpProvider
from studio.providers.openai_compat import as_count, models_message

OPENAI_DEFAULT_URL = "https://api.openai.com/v1"
A1111_DEFAULT_URL = "http://127.0.0.1:7860"


def image_mime(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def openai_size(model: str, width: int, height: int) -> str:
    """The size to ask for: the nearest one OpenAI's own models accept, else ``WxH``."""
    ratio = width / height if height else 1.0
    shape = "landscape" if ratio > 1.2 else "portrait" if ratio < 1 / 1.2 else "square"
    name = model.lower()
    if name.startswith("gpt-image"):
        return {"landscape": "1536x1024", "portrait": "1024x1536"}.get(shape, "1024x1024")
    if name.startswith("dall-e-3"):
        return {"landscape": "1792x1024", "portrait": "1024x1792"}.get(shape, "1024x1024")
    if name.startswith("dall-e-2"):
        side = next((s for s in (256, 512) if max(width, height) <= s), 1024)
        return f"{side}x{side}"
    return f"{int(width)}x{int(height)}"


def lora_prompt(preset: ImagePreset, text: str) -> str:
    """The preset's prompt followed by each LoRA as ``<lora:name:strength>``."""
    tags = []
    for lora in preset.loras:
        name = lora.name.strip().replace(">", "").replace("<", "")
        if name:
            tags.append(f"<lora:{name}:{float(lora.strength):g}>")
    return ", ".join(p for p in (preset.prompt(text), *tags) if p)


class _ImageProvider(HttpProvider):
    default_url = ""

    def __init__(self, config: ProviderConfig, key: str | None,
                 transport: httpx.AsyncBaseTransport | None = None):
        if not config.get("base_url"):
            config = ProviderConfig(config.kind, config.name,
                                    {**config.settings, "base_url": self.default_url}, config.id)
        super().__init__(config, key, transport)

    def decode(self, value: Any) -> tuple[bytes, str]:
        if not isinstance(value, str) or not value.strip():
            raise self.bad("an image is missing")
        if value.startswith("data:"):  # some servers send a data URL
            value = value.partition(",")[2]
        try:
            data = base64.b64decode("".join(value.split()), validate=True)
        except (binascii.Error, ValueError):
            raise self.bad("an image is not valid base64") from None
        mime = image_mime(data)
        if mime is None:
            raise self.bad("the image is neither PNG, JPEG nor WebP")
        return data, mime


class OpenAIImagesProvider(_ImageProvider):
    service = "the images API"
    default_url = OPENAI_DEFAULT_URL

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"} if self._key else {}

    def model(self, preset: ImagePreset | None = None) -> str:
        return (preset.model if preset and preset.model else "") or str(
            self.config.get("model", "gpt-image-1"))

    async def test_connection(self) -> str:
        return models_message(self, await self.request("GET", "/models"), self.model())

    async def generate_image(self, prompt: str, preset: ImagePreset) -> ImageResult:
        model = self.model(preset)
        body: dict[str, Any] = {"model": model, "prompt": preset.prompt(prompt), "n": 1,
                                "size": openai_size(model, preset.width, preset.height)}
        if not model.lower().startswith("gpt-image"):  # gpt-image-* always answer base64
            body["response_format"] = "b64_json"
        data = await self.request("POST", "/images/generations", json_body=body)
        items = data.get("data") if isinstance(data, Mapping) else None
        if not isinstance(items, list) or not items or not isinstance(items[0], Mapping):
            raise self.bad("no “data” in the image answer")
        first = items[0]
        if first.get("b64_json"):
            image, mime = self.decode(first["b64_json"])
        elif isinstance(first.get("url"), str) and first["url"].strip():
            image, mime = await self._download(first["url"].strip())
        else:
            raise self.bad("the image has neither “b64_json” nor “url”")
        usage = data.get("usage") if isinstance(data.get("usage"), Mapping) else {}
        return ImageResult([image], mime, Usage(
            Capability.IMAGE.value, model, as_count(usage.get("input_tokens")) or 0,
            as_count(usage.get("output_tokens")) or 0, images=1,
            cost=self.config.number("price_per_image", 0.04)))

    async def _download(self, url: str) -> tuple[bytes, str]:
        url = urljoin(self.base_url + "/", url)
        if not url.startswith(("http://", "https://")):
            raise self.bad("the image link is not a web address")
        image = await self.request("GET", url, raw=True, auth=False)
        mime = image_mime(image)
        if mime is None:
            raise self.bad("the downloaded image is neither PNG, JPEG nor WebP")
        return image, mime


class A1111Provider(_ImageProvider):
    service = "the Stable Diffusion WebUI"
    default_url = A1111_DEFAULT_URL

    def model(self, preset: ImagePreset | None = None) -> str:
        return (preset.model if preset and preset.model else "") or str(
            self.config.get("model", ""))

    async def test_connection(self) -> str:
        data = await self.request("GET", "/sdapi/v1/sd-models")
        if not isinstance(data, list):
            raise self.bad("the checkpoint list is not a list")
        names = {str(m.get(k)) for m in data if isinstance(m, Mapping)
                 for k in ("title", "model_name") if m.get(k)}
        count = f"{len(data)} checkpoint{'s' if len(data) != 1 else ''}"
        model = self.model()
        if not model:
            return f"Connected: {count} installed."
        if model in names or any(n.startswith(model) for n in names):
            return f"Connected: {count} installed, including “{model}”."
        return f"Connected: {count} installed, but “{model}” is not among them."

    async def generate_image(self, prompt: str, preset: ImagePreset) -> ImageResult:
        model = self.model(preset)
        body: dict[str, Any] = {
            "prompt": lora_prompt(preset, prompt), "negative_prompt": preset.negative,
            "steps": int(preset.steps), "cfg_scale": float(preset.cfg_scale),
            "width": int(preset.width), "height": int(preset.height),
            "seed": -1 if preset.seed is None else int(preset.seed),
            "batch_size": 1, "n_iter": 1,
        }
        sampler = preset.sampler or str(self.config.get("sampler", ""))
        if sampler:
            body["sampler_name"] = sampler
        if model:
            body["override_settings"] = {"sd_model_checkpoint": model}
        data = await self.request("POST", "/sdapi/v1/txt2img", json_body=body)
        images = data.get("images") if isinstance(data, Mapping) else None
        if not isinstance(images, list) or not images:
            raise self.bad("no “images” in the txt2img answer")
        image, mime = self.decode(images[0])  # extensions may append extra maps after it
        return ImageResult([image], mime, Usage(Capability.IMAGE.value, model or "a1111",
                                                images=1), seed=self._seed(data.get("info")))

    @staticmethod
    def _seed(info: Any) -> int | None:
        if isinstance(info, str):
            try:
                info = json.loads(info)
            except ValueError:
                return None
        seed = info.get("seed") if isinstance(info, Mapping) else None
        return seed if isinstance(seed, int) and not isinstance(seed, bool) else None


OPENAI_IMAGES = ProviderKind(
    id="openai_images", label="Images (OpenAI-compatible)",
    capabilities=frozenset({Capability.IMAGE}),
    settings=(
        Setting("base_url", "Base URL", "url", OPENAI_DEFAULT_URL, required=True,
                help="The API root, ending in /v1 (OpenAI, or a compatible server)"),
        Setting("model", "Model", "text", "gpt-image-1", required=True,
                help="e.g. gpt-image-1, dall-e-3; a preset's model takes precedence"),
        Setting("price_per_image", "Price per image", "number", 0.04,
                help="For the cost estimate (depends on model, size and quality)"),
        Setting("timeout", "Timeout (seconds)", "number", 180),
        Setting("retries", "Retries", "int", DEFAULT_RETRIES),
    ),
    create=OpenAIImagesProvider,
    needs_key=True, key_optional=True,
    description="Pictures from an OpenAI-compatible images API (gpt-image-1, DALL·E, or a "
                "local server that speaks the same API).")

A1111 = ProviderKind(
    id="a1111", label="Images (Automatic1111 / Forge local API)",
    capabilities=frozenset({Capability.IMAGE}),
    settings=(
        Setting("base_url", "Base URL", "url", A1111_DEFAULT_URL, required=True,
                help="The WebUI started with --api, e.g. http://127.0.0.1:7860"),
        Setting("model", "Checkpoint", "text", "",
                help="Empty: the WebUI's current checkpoint; a preset's model takes precedence"),
        Setting("sampler", "Sampler", "text", "",
                help="e.g. DPM++ 2M; empty: the WebUI's default (a preset's sampler wins)"),
        Setting("timeout", "Timeout (seconds)", "number", 300,
                help="A picture on a slow GPU can take minutes"),
        Setting("retries", "Retries", "int", 1),
    ),
    create=A1111Provider,
    needs_key=False, key_optional=True,
    description="Pictures from a Stable Diffusion WebUI (Automatic1111 or Forge) running "
                "on this computer with --api; LoRAs are written into the prompt.")

KINDS = (OPENAI_IMAGES, A1111)
