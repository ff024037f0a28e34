"""The image providers (OpenAI-compatible images, Automatic1111) against fake servers."""

from __future__ import annotations

import base64
import json

import pytest

from studio.providers import errors as E
from studio.providers import registry
from studio.providers.base import Capability, ImagePreset, Lora, ProviderConfig
from studio.providers.images import A1111, KINDS, OPENAI_IMAGES, openai_size
from tests.providers.fake_server import png_bytes
from tests.providers.fakes import OPENAI_KEY, closed_port_url
from tests.providers.helpers import call, everything_said

PRESET = ImagePreset(
    "Moody harbour", width=768, height=512, steps=30, cfg_scale=6.5, sampler="DPM++ 2M",
    seed=None, style="oil painting, muted colours", negative="blurry, text",
    loras=(Lora("harbourStyle_v2", "harbour style", 0.8), Lora("detailTweaker", "", 1.0)))
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20


def draw(prompt="a lighthouse at dusk", preset=PRESET):
    return lambda p: p.generate_image(prompt, preset)


# --- Automatic1111 ---

def test_a1111_sends_the_preset_and_writes_loras_in_the_prompt(a1111_fake):
    result = call(a1111_fake.config(), None, draw())
    assert result.images == [png_bytes(seed=1234567)] and result.mime == "image/png"
    assert result.seed == 1234567
    assert result.usage.images == 1 and result.usage.cost == 0
    assert result.usage.capability == Capability.IMAGE.value
    sent = a1111_fake.requests[-1]
    assert (sent.method, sent.path) == ("POST", "/sdapi/v1/txt2img")
    assert sent.json["prompt"] == ("a lighthouse at dusk, oil painting, muted colours, "
                                   "harbour style, <lora:harbourStyle_v2:0.8>, "
                                   "<lora:detailTweaker:1>")
    assert {k: sent.json[k] for k in ("negative_prompt", "steps", "cfg_scale", "width",
                                      "height", "sampler_name", "seed")} == {
        "negative_prompt": "blurry, text", "steps": 30, "cfg_scale": 6.5, "width": 768,
        "height": 512, "sampler_name": "DPM++ 2M", "seed": -1}
    assert "override_settings" not in sent.json
    assert not any(h in sent.headers for h in ("authorization", "xi-api-key"))


def test_a1111_model_and_seed(a1111_fake):
    preset = ImagePreset("Fixed", model="sdxl_base_1.0.safetensors [31e35c80fc]", seed=42)
    result = call(a1111_fake.config(), None, draw(preset=preset))
    assert result.seed == 42 and result.images == [png_bytes(seed=42)]
    assert result.usage.model == "sdxl_base_1.0.safetensors [31e35c80fc]"
    sent = a1111_fake.requests[-1].json
    assert sent["override_settings"] == {"sd_model_checkpoint":
                                         "sdxl_base_1.0.safetensors [31e35c80fc]"}
    assert sent["seed"] == 42 and sent["prompt"] == "a lighthouse at dusk"
    assert "sampler_name" not in sent  # the WebUI's default


def test_a1111_configured_checkpoint_and_sampler(a1111_fake):
    call(a1111_fake.config(model="v1-5-pruned-emaonly", sampler="Euler a"), None,
         draw(preset=ImagePreset("Plain")))
    sent = a1111_fake.requests[-1].json
    assert sent["override_settings"] == {"sd_model_checkpoint": "v1-5-pruned-emaonly"}
    assert sent["sampler_name"] == "Euler a"


@pytest.mark.parametrize("images, what", [
    (["not base64 at all!"], "not valid base64"),
    ([base64.b64encode(b"GIF89a....").decode()], "neither PNG, JPEG nor WebP"),
    ([], "no “images”"),
    ([None], "missing"),
])
def test_a1111_broken_images_are_bad_response(a1111_fake, images, what):
    a1111_fake.respond_next({"images": images, "parameters": {}, "info": "{}"})
    with pytest.raises(E.BadResponse, match=what):
        call(a1111_fake.config(), None, draw())


def test_a1111_jpeg_and_a_broken_info(a1111_fake):
    a1111_fake.respond_next({"images": ["data:image/jpeg;base64,"
                                        + base64.b64encode(JPEG).decode()], "info": "{oops"})
    result = call(a1111_fake.config(), None, draw())
    assert result.images == [JPEG] and result.mime == "image/jpeg" and result.seed is None


def test_a1111_error_message_from_its_error_shape(a1111_fake):
    a1111_fake.fail_next(500, {"error": "OutOfMemoryError", "detail": "",
                               "body": "", "errors": "CUDA out of memory."})
    with pytest.raises(E.ServiceFault, match="OutOfMemoryError"):
        call(a1111_fake.config(), None, draw())


def test_a1111_validation_error(a1111_fake):
    a1111_fake.fail_next(422, {"detail": [{"loc": ["body", "steps"],
                                           "msg": "value is not a valid integer",
                                           "type": "type_error.integer"}]})
    with pytest.raises(E.Refused, match="value is not a valid integer"):
        call(a1111_fake.config(), None, draw())


def test_a1111_not_running():
    config = ProviderConfig("a1111", "Local SD", {"base_url": closed_port_url(), "retries": 0})
    with pytest.raises(E.Unreachable, match="Local SD"):
        call(config, None, draw())


def test_a1111_connection(a1111_fake):
    assert call(a1111_fake.config(), None, lambda p: p.test_connection()) == \
        "Connected: 2 checkpoints installed."
    assert a1111_fake.requests[-1].path == "/sdapi/v1/sd-models"
    assert call(a1111_fake.config(model="sdxl_base_1.0"), None,
                lambda p: p.test_connection()) == \
        "Connected: 2 checkpoints installed, including “sdxl_base_1.0”."
    assert "not among them" in call(a1111_fake.config(model="flux-dev"), None,
                                    lambda p: p.test_connection())


# --- OpenAI-compatible images ---

def test_openai_images_base64(openai_images_fake):
    config = openai_images_fake.config(kind="openai_images", price_per_image=0.04)
    result = call(config, OPENAI_KEY, draw())
    assert result.images == [png_bytes(seed=3)] and result.mime == "image/png"
    assert result.usage.images == 1 and result.usage.cost == pytest.approx(0.04)
    assert result.usage.model == "gpt-image-1" and result.usage.output_tokens == 272
    sent = openai_images_fake.requests[-1]
    assert (sent.method, sent.path) == ("POST", "/v1/images/generations")
    assert sent.json == {"model": "gpt-image-1", "n": 1, "size": "1536x1024",
                         "prompt": PRESET.prompt("a lighthouse at dusk")}
    assert "<lora:" not in sent.json["prompt"] and "harbour style" in sent.json["prompt"]
    assert sent.headers["authorization"] == f"Bearer {OPENAI_KEY}"


def test_openai_images_from_a_link_are_downloaded_without_the_key(openai_images_fake):
    openai_images_fake.configure(image_mode="url")
    config = openai_images_fake.config(kind="openai_images", model="dall-e-3")
    result = call(config, OPENAI_KEY, draw(preset=ImagePreset("Tall", width=512, height=900)))
    assert result.images == [png_bytes(seed=7)] and result.mime == "image/png"
    generate, download = openai_images_fake.requests
    assert generate.json["response_format"] == "b64_json"
    assert generate.json["size"] == "1024x1792"
    assert download.path == "/files/img-1.png" and download.query == {"sig": "abc"}
    assert "authorization" not in download.headers


def test_openai_images_refused_size_shows_the_service_message(openai_images_fake):
    config = openai_images_fake.config(kind="openai_images", model="dall-e-3")
    openai_images_fake.fail_next(400, {"error": {
        "message": "Your request was rejected as a result of our safety system.",
        "type": "image_generation_user_error", "code": "content_policy_violation"}})
    with pytest.raises(E.Refused, match="safety system"):
        call(config, OPENAI_KEY, draw())


def test_any_other_model_gets_the_preset_size(openai_images_fake):
    openai_images_fake.configure(models=["sd-turbo"])
    call(openai_images_fake.config(kind="openai_images", model="sd-turbo"), OPENAI_KEY, draw())
    sent = openai_images_fake.requests[-1].json
    assert sent["size"] == "768x512" and sent["response_format"] == "b64_json"


@pytest.mark.parametrize("model, w, h, size", [
    ("gpt-image-1", 512, 512, "1024x1024"), ("gpt-image-1", 600, 1000, "1024x1536"),
    ("dall-e-3", 1000, 600, "1792x1024"), ("dall-e-2", 400, 300, "512x512"),
    ("dall-e-2", 200, 100, "256x256"), ("my-local-model", 640, 480, "640x480")])
def test_openai_size(model, w, h, size):
    assert openai_size(model, w, h) == size


@pytest.mark.parametrize("item, what", [
    ({"b64_json": base64.b64encode(b"<html>").decode()}, "neither PNG"),
    ({"b64_json": "%%%"}, "not valid base64"),
    ({"revised_prompt": "x"}, "neither “b64_json” nor “url”"),
    ({"url": "ftp://host/x.png"}, "not a web address"),
])
def test_openai_images_broken_answers(openai_images_fake, item, what):
    openai_images_fake.respond_next({"created": 1, "data": [item]})
    with pytest.raises(E.BadResponse, match=what):
        call(openai_images_fake.config(kind="openai_images"), OPENAI_KEY, draw())


def test_openai_images_wrong_key_is_redacted(openai_images_fake):
    with pytest.raises(E.AuthFailed) as caught:
        call(openai_images_fake.config(kind="openai_images"), "sk-bad-images-999", draw())
    assert "sk-bad-images-999" not in everything_said(caught.value)


def test_openai_images_connection(openai_images_fake):
    message = call(openai_images_fake.config(kind="openai_images"), OPENAI_KEY,
                   lambda p: p.test_connection())
    assert message == "Connected: 5 models available, including “gpt-image-1”."


def test_the_kinds():
    assert KINDS == (OPENAI_IMAGES, A1111)
    assert registry.kind("openai_images") is OPENAI_IMAGES and registry.kind("a1111") is A1111
    assert OPENAI_IMAGES.label == "Images (OpenAI-compatible)" and OPENAI_IMAGES.key_optional
    assert A1111.label == "Images (Automatic1111 / Forge local API)" and not A1111.needs_key
    assert OPENAI_IMAGES.defaults()["model"] == "gpt-image-1"
    assert OPENAI_IMAGES.defaults()["base_url"] == "https://api.openai.com/v1"
    assert A1111.defaults()["base_url"] == "http://127.0.0.1:7860"
    assert all(k.capabilities == {Capability.IMAGE} for k in KINDS)


def test_info_seed_parsing():
    from studio.providers.images import A1111Provider
    assert A1111Provider._seed(json.dumps({"seed": 9})) == 9
    assert A1111Provider._seed({"seed": 10}) == 10
    assert A1111Provider._seed("[]") is None and A1111Provider._seed(None) is None
