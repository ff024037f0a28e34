"""Fake AI services for the provider tests: a real HTTP server (uvicorn, run as a subprocess by
``tests/providers/fakes.py``) that speaks one API faithfully, error shapes included.

    python tests/providers/fake_server.py --kind openai|elevenlabs|a1111 --fd N [--key KEY]

- ``openai``: ``/v1/models``, ``/v1/chat/completions``, ``/v1/embeddings``,
  ``/v1/images/generations`` (base64 or a link to ``/files/…``); ``Authorization: Bearer``.
- ``elevenlabs``: ``/v1/voices``, ``/v1/user``, ``/v1/text-to-speech/{voice_id}`` (MP3
  frames), ``/v1/voices/add`` (multipart, samples recorded); ``xi-api-key``.
- ``a1111``: ``/sdapi/v1/sd-models``, ``/sdapi/v1/txt2img`` (a real PNG); no key.

Control (not recorded): ``GET /__fake/ping``, ``GET /__fake/requests``, ``POST /__fake/reset``
(body: settings), ``POST /__fake/config`` (settings merged), ``POST /__fake/script`` (a
one-shot behaviour for the next API request whose path matches ``path`` (a regex): ``fail``
with status/body/headers, ``hang`` for seconds (the client's disconnect is recorded),
``malformed`` JSON, ``truncate`` the body, ``respond`` with a body of the test's choosing).
In a scripted body the text ``{sent_key}`` becomes the key the client sent.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import email.parser
import email.policy
import hashlib
import json
import re
import socket
import struct
import zlib
from urllib.parse import parse_qsl

import uvicorn

KIND = "openai"
START_KEY: str | None = None
STATE: dict = {}


def fresh_state(**settings) -> dict:
    state = {
        "key": START_KEY, "requests": [], "script": [], "image_mode": "b64",
        "reply": None, "shuffle_embeddings": False, "embedding_size": 8,
        "models": ["gpt-4o-mini", "text-embedding-3-small", "gpt-image-1", "dall-e-3",
                   "o3-mini"],
        "reasoning_models": ["o3-mini"],
        "voices": [{"voice_id": "21m00Tcm4TlvDq8ikWAM", "name": "Rachel", "category": "premade"},
                   {"voice_id": "AZnzlk1XvdvUeBnXmlld", "name": "Domi", "category": "premade"}],
        "character_count": 500, "character_limit": 10000, "tier": "creator",
        "user_forbidden": False, "min_sample_bytes": 1000,
        "checkpoints": ["v1-5-pruned-emaonly.safetensors [6ce0161689]",
                        "sdxl_base_1.0.safetensors [31e35c80fc]"],
    }
    state.update(settings)
    return state


# --- tiny real media ---

def png_bytes(width: int = 8, height: int = 8, seed: int = 0) -> bytes:
    """A valid RGB PNG (a flat colour that depends on ``seed``)."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))
    colour = bytes(((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256))
    raw = b"".join(b"\x00" + colour * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                              0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def mp3_bytes(frames: int = 6) -> bytes:
    """MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz) of silence: 417 bytes each."""
    return (b"\xff\xfb\x90\x64" + b"\x00" * 413) * frames


# --- HTTP helpers ---

def j(status: int, body, headers: dict | None = None) -> tuple:
    return status, {"content-type": "application/json", **(headers or {})}, \
        json.dumps(body).encode()


def openai_error(status: int, message: str, type_: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None) -> tuple:
    return j(status, {"error": {"message": message, "type": type_, "param": param,
                                "code": code}})


def eleven_error(status: int, kind: str, message: str) -> tuple:
    return j(status, {"detail": {"status": kind, "message": message}})


def words(text: str) -> int:
    return len(str(text).split())


def vector(text: str, size: int) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [round((digest[i % 32] - 128) / 128, 6) for i in range(size)]


def parse_multipart(content_type: str, body: bytes) -> tuple[dict, list]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    form, files = {}, []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        data = part.get_payload(decode=True) or b""
        if filename is None:
            form[name] = data.decode()
        else:
            files.append({"field": name, "filename": filename, "size": len(data),
                          "content_type": part.get_content_type(),
                          "data_b64": base64.b64encode(data).decode()})
    return form, files


# --- the APIs ---

def check_openai_key(req: dict) -> tuple | None:
    if STATE["key"] is None:
        return None
    auth = req["headers"].get("authorization", "")
    if not auth:
        return openai_error(401, "You didn't provide an API key. You need to provide your API "
                                 "key in an Authorization header using Bearer auth (i.e. "
                                 "Authorization: Bearer YOUR_KEY).")
    sent = auth.removeprefix("Bearer ").strip()
    if sent != STATE["key"]:  # the real service echoes (part of) the key: we echo it all
        return openai_error(401, f"Incorrect API key provided: {sent}. You can find your API "
                                 "key at https://platform.openai.com/account/api-keys.",
                            code="invalid_api_key")
    return None


def openai_api(req: dict) -> tuple:
    path, body = req["path"], req["json"]
    if path.startswith("/files/"):  # image links: no key needed (a storage host)
        return 200, {"content-type": "image/png"}, png_bytes(seed=7)
    if (denied := check_openai_key(req)) is not None:
        return denied
    if path == "/v1/models" and req["method"] == "GET":
        return j(200, {"object": "list", "data": [
            {"id": m, "object": "model", "created": 1700000000, "owned_by": "fake"}
            for m in STATE["models"]]})
    if req["method"] != "POST" or not isinstance(body, dict):
        return openai_error(404, f"Invalid URL ({req['method']} {path})")
    model = body.get("model")
    if not model:
        return openai_error(400, "you must provide a model parameter", param="model")
    if model not in STATE["models"]:
        return openai_error(404, f"The model `{model}` does not exist or you do not have "
                                 "access to it.", code="model_not_found")
    if path == "/v1/chat/completions":
        return chat(body)
    if path == "/v1/embeddings":
        texts = body.get("input")
        texts = [texts] if isinstance(texts, str) else texts
        if not isinstance(texts, list) or not texts:
            return openai_error(400, "'input' : input must be a string or a non-empty array",
                                param="input")
        data = [{"object": "embedding", "index": i,
                 "embedding": vector(t, STATE["embedding_size"])} for i, t in enumerate(texts)]
        if STATE["shuffle_embeddings"]:
            data.reverse()
        tokens = sum(words(t) for t in texts)
        return j(200, {"object": "list", "data": data, "model": model,
                       "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})
    if path == "/v1/images/generations":
        return openai_image(body, model, req)
    return openai_error(404, f"Invalid URL (POST {path})")


def chat(body: dict) -> tuple:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return openai_error(400, "[] is too short - 'messages'", param="messages")
    model = body["model"]
    if model in STATE["reasoning_models"]:
        if "max_tokens" in body:
            return openai_error(400, "Unsupported parameter: 'max_tokens' is not supported with "
                                     "this model. Use 'max_completion_tokens' instead.",
                                code="unsupported_parameter", param="max_tokens")
        if body.get("temperature", 1) != 1:
            return openai_error(400, f"Unsupported value: 'temperature' does not support "
                                     f"{body['temperature']} with this model. Only the default "
                                     "(1) value is supported.", code="unsupported_value",
                                param="temperature")
    limit = body.get("max_tokens") or body.get("max_completion_tokens") or 4096
    last = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"),
                "")
    reply = STATE["reply"] if STATE["reply"] is not None else f"Echo: {last}"
    out = reply.split()
    finish = "stop"
    if len(out) > limit:
        out, finish = out[:limit], "length"
        reply = " ".join(out)
    prompt_tokens = sum(words(m.get("content", "")) + 3 for m in messages)
    return j(200, {"id": "chatcmpl-fake", "object": "chat.completion", "created": 1700000000,
                   "model": model, "choices": [
                       {"index": 0, "message": {"role": "assistant", "content": reply,
                                                "refusal": None},
                        "logprobs": None, "finish_reason": finish}],
                   "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(out),
                             "total_tokens": prompt_tokens + len(out)}})


def openai_image(body: dict, model: str, req: dict) -> tuple:
    size = str(body.get("size", "1024x1024"))
    allowed = {"gpt-image-1": {"1024x1024", "1536x1024", "1024x1536", "auto"},
               "dall-e-3": {"1024x1024", "1792x1024", "1024x1792"}}.get(model)
    if allowed and size not in allowed:
        return openai_error(400, f"Invalid value: '{size}'. Supported values are: "
                                 f"{', '.join(sorted(allowed))}.", code="invalid_value",
                            param="size")
    if not str(body.get("prompt", "")).strip():
        return openai_error(400, "Missing required parameter: 'prompt'.", param="prompt")
    if STATE["image_mode"] == "url":
        root = f"http://{req['headers'].get('host', '127.0.0.1')}"
        item = {"url": f"{root}/files/img-1.png?sig=abc"}
    else:
        item = {"b64_json": base64.b64encode(png_bytes(seed=3)).decode()}
    answer = {"created": 1700000000, "data": [item]}
    if model.startswith("gpt-image"):
        answer["usage"] = {"input_tokens": words(body["prompt"]), "output_tokens": 272,
                           "total_tokens": words(body["prompt"]) + 272}
    return j(200, answer)


def elevenlabs_api(req: dict) -> tuple:
    path, method = req["path"], req["method"]
    sent = req["headers"].get("xi-api-key")
    if not sent:
        return eleven_error(401, "needs_authorization", "Neither authorization header nor "
                                                        "xi-api-key received, please provide one.")
    if sent != STATE["key"]:
        return eleven_error(401, "invalid_api_key", f"Invalid API key: {sent}")
    if path == "/v1/voices" and method == "GET":
        return j(200, {"voices": STATE["voices"]})
    if path == "/v1/user" and method == "GET":
        if STATE["user_forbidden"]:
            return eleven_error(401, "missing_permissions", "The API key you used is missing "
                                "the permission user_read to execute this operation.")
        return j(200, {"user_id": "u1", "subscription": {
            "tier": STATE["tier"], "character_count": STATE["character_count"],
            "character_limit": STATE["character_limit"], "status": "active"}})
    if (m := re.fullmatch(r"/v1/text-to-speech/([^/]+)", path)) and method == "POST":
        body = req["json"] if isinstance(req["json"], dict) else {}
        text = body.get("text")
        if not isinstance(text, str) or not text:
            return j(422, {"detail": [{"loc": ["body", "text"], "msg": "field required",
                                       "type": "value_error.missing"}]})
        if m.group(1) not in {v["voice_id"] for v in STATE["voices"]}:
            return eleven_error(400, "voice_not_found", f"A voice with the voice_id "
                                                        f"{m.group(1)} was not found.")
        left = STATE["character_limit"] - STATE["character_count"]
        if len(text) > left:
            return eleven_error(401, "quota_exceeded", f"This request exceeds your quota of "
                                f"{STATE['character_limit']}. You have {left} credits "
                                f"remaining, while {len(text)} credits are required for this "
                                "request.")
        STATE["character_count"] += len(text)
        fmt = req["query"].get("output_format", "mp3_44100_128")
        if not fmt.startswith("mp3_"):
            return 200, {"content-type": "application/octet-stream"}, b"\x00\x01" * 800
        return 200, {"content-type": "audio/mpeg"}, mp3_bytes()
    if path == "/v1/voices/add" and method == "POST":
        form, files = req["form"], req["files"]
        if not form.get("name"):
            return j(422, {"detail": [{"loc": ["body", "name"], "msg": "field required",
                                       "type": "value_error.missing"}]})
        if not files:
            return j(422, {"detail": [{"loc": ["body", "files"], "msg": "field required",
                                       "type": "value_error.missing"}]})
        for f in files:
            if f["size"] < STATE["min_sample_bytes"]:
                return eleven_error(400, "voice_too_short", f"The sample {f['filename']} is "
                                    "too short: at least 1 second of clear speech is needed.")
        voice_id = f"cloned{len(STATE['voices']):04d}"
        STATE["voices"].append({"voice_id": voice_id, "name": form["name"],
                                "category": "cloned"})
        return j(200, {"voice_id": voice_id, "requires_verification": False})
    return j(404, {"detail": {"status": "not_found", "message": "Not Found"}})


def a1111_api(req: dict) -> tuple:
    path, method = req["path"], req["method"]
    if path == "/sdapi/v1/sd-models" and method == "GET":
        return j(200, [{"title": t, "model_name": t.split(".")[0], "hash": t[-11:-1],
                        "filename": f"/models/Stable-diffusion/{t.split(' ')[0]}",
                        "config": None} for t in STATE["checkpoints"]])
    if path == "/sdapi/v1/txt2img" and method == "POST":
        body = req["json"]
        if not isinstance(body, dict):
            return j(422, {"detail": [{"loc": ["body"], "msg": "field required",
                                       "type": "value_error.missing"}]})
        seed = body.get("seed", -1)
        seed = 1234567 if seed in (-1, None) else seed
        info = {"prompt": body.get("prompt", ""), "negative_prompt": body.get("negative_prompt",
                                                                              ""),
                "seed": seed, "all_seeds": [seed], "width": body.get("width", 512),
                "height": body.get("height", 512), "sampler_name": body.get("sampler_name",
                                                                            "Euler a"),
                "sd_model_name": (body.get("override_settings") or {}).get(
                    "sd_model_checkpoint", STATE["checkpoints"][0])}
        return j(200, {"images": [base64.b64encode(png_bytes(seed=seed)).decode()],
                       "parameters": body, "info": json.dumps(info)})
    return j(404, {"detail": "Not Found"})


API = {"openai": openai_api, "elevenlabs": elevenlabs_api, "a1111": a1111_api}


# --- the ASGI app ---

async def send_answer(send, status: int, headers: dict, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(k.encode(), str(v).encode()) for k, v in headers.items()]})
    await send({"type": "http.response.body", "body": body})


def control(method: str, path: str, body) -> tuple:
    global STATE
    if path == "/__fake/ping":
        return j(200, {"kind": KIND})
    if path == "/__fake/requests":
        return j(200, STATE["requests"])
    if path == "/__fake/reset" and method == "POST":
        STATE = fresh_state(**(body or {}))
        return j(200, {"ok": True})
    if path == "/__fake/config" and method == "POST":
        STATE.update(body or {})
        return j(200, {"ok": True})
    if path == "/__fake/script" and method == "POST":
        STATE["script"].append(body)
        return j(200, {"ok": True})
    if path == "/__fake/state":
        return j(200, {k: v for k, v in STATE.items() if k not in ("requests", "script")})
    return j(404, {"detail": "no such control"})


async def app(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] != "http":
        return
    raw = b""
    while True:
        message = await receive()
        raw += message.get("body", b"")
        if not message.get("more_body"):
            break
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    path, method = scope["path"], scope["method"]
    content_type = headers.get("content-type", "")
    parsed = None
    if raw and "json" in content_type:
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
    if path.startswith("/__fake/"):
        await send_answer(send, *control(method, path, parsed))
        return
    form, files = ({}, [])
    if content_type.startswith("multipart/form-data"):
        form, files = parse_multipart(content_type, raw)
    req = {"method": method, "path": path,
           "query": dict(parse_qsl(scope["query_string"].decode("latin-1"))),
           "headers": headers, "json": parsed, "form": form, "files": files,
           "body_size": len(raw), "disconnected": False}
    STATE["requests"].append(req)
    step = next((s for s in STATE["script"] if re.search(s.get("path") or "", path)), None)
    if step is not None:
        STATE["script"].remove(step)
        sent_key = headers.get("authorization", "").removeprefix("Bearer ").strip() or \
            headers.get("xi-api-key", "")
        action = step["action"]
        if action == "hang":
            try:
                message = await asyncio.wait_for(receive(), step.get("seconds", 3600))
                if message["type"] == "http.disconnect":
                    req["disconnected"] = True
                    return
            except asyncio.TimeoutError:
                pass
        elif action == "fail" or action == "respond":
            body = step.get("body")
            if step.get("raw") is not None:
                data = step["raw"].replace("{sent_key}", sent_key).encode()
                kind = step.get("content_type", "text/plain")
            elif isinstance(body, str):
                data, kind = body.replace("{sent_key}", sent_key).encode(), "text/plain"
            else:
                data = json.dumps(body).replace("{sent_key}", sent_key).encode()
                kind = "application/json"
            if step.get("b64") is not None:
                data = base64.b64decode(step["b64"])
            kind = step.get("content_type", kind)
            status = step.get("status", 200 if action == "respond" else 500)
            await send_answer(send, status,
                              {"content-type": kind, **(step.get("headers") or {})}, data)
            return
        elif action == "malformed":
            await send_answer(send, 200, {"content-type": "application/json"},
                              b'{"choices": [{"message": {"content": "hi"}, oops')
            return
        elif action == "truncate":
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"application/json"), (b"content-length", b"5000")]})
            await send({"type": "http.response.body", "body": b'{"choices": [{"mess',
                        "more_body": True})
            raise ConnectionAbortedError("truncated on purpose")  # uvicorn closes the socket
    await send_answer(send, *API[KIND](req))


def main() -> None:
    global KIND, START_KEY, STATE
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", choices=sorted(API), required=True)
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--key")
    args = parser.parse_args()
    KIND, START_KEY = args.kind, args.key
    STATE = fresh_state()
    sock = socket.socket(fileno=args.fd)
    config = uvicorn.Config(app, log_level="error", lifespan="off", access_log=False)
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


if __name__ == "__main__":
    main()
