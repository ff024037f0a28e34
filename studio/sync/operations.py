"""The ``send`` half of each outbox operation: request specs → marketplace requests.

Each function is ``async send(client, spec, key) -> result`` for ``studio.sync.outbox.Handler``;
it uses only the client.  ``key`` is the outbox entry's idempotency key, the same on every
retry; an operation of several requests derives one sub-key per step (``f"{key}:fork"``…), so a
retry after any step replays the steps that landed and does only the rest.  The ``prepare``
(spec from the local database) and ``complete`` (result into the local database) halves live in
``studio.services.marketplace_ops``.

Specs and results:

``publish``
    spec ``{"remote_story_id": str | None, "meta": {title, description, genre, tags, licence,
    visibility}, "content": {modules, manuscript, scene_bible, chapter_graph}, "changelog": str,
    "update_meta": bool (optional), "base_version": int (optional)}`` → ``POST /v1/stories``
    (meta + changelog + content) when ``remote_story_id`` is None, else
    ``POST /v1/stories/{id}/versions`` (and, with ``update_meta``, ``PATCH /v1/stories/{id}``
    first, sub-key ``:meta``); with ``base_version`` the server refuses it when another version
    was published since (409 ``version_moved``: a ``ConflictError`` saying who published what
    and to update from the collaborators, so the outbox entry waits for the author).
    result ``{"remote_story_id", "remote_version", "story", "version"}``.
``like`` / ``unlike``
    spec ``{"story_id"}`` → result ``{"story_id", "liked", "likes"}``.
``report``
    spec ``{"item_type", "item_id", "reason", "note"}`` (the server's ``/v1/flags`` body) →
    the flag; an item the author already reported (409 ``already_reported``) counts as done:
    ``{"already_reported": True, "flag_id"}``.
``register_fork``
    spec ``{"story_id", "version"}`` → ``POST /v1/stories/{id}/forks``; result
    ``{"fork_id", "fork"}``.
``publish_remix``
    spec ``{"source_story_id", "source_version", "remote_fork_id": str | None,
    "segments": {seg_id: text}, "parts": {...} | None, "meta": {...}, "changelog": str}`` →
    the server fork is created when ``remote_fork_id`` is None (``:fork``), its segments
    (``:edit``) and parts (``:parts``) are patched when non-empty, then it is published
    (``:publish``).  result ``{"fork_id", "remote_story_id", "remote_version", "story"}``.
``publish_voice_template``
    spec ``{"template_uid", "body": {name, description, emotion, parameters, tags, licence,
    visibility, supersedes?}}`` → ``POST /v1/voice-templates``; result ``{"template_id",
    "template"}``.
"""

from __future__ import annotations

import re
from typing import Any, Awaitable, Callable

from studio.sync.client import MarketplaceClient
from studio.sync.errors import ConflictError, ServerFault

META_FIELDS = ("title", "description", "genre", "tags", "licence", "visibility")
PART_FIELDS = ("modules", "scene_bible", "chapter_graph")

Send = Callable[[MarketplaceClient, dict, str], Awaitable[dict]]


def _meta(spec: dict) -> dict[str, Any]:
    meta = spec.get("meta") or {}
    return {k: meta[k] for k in META_FIELDS if meta.get(k) is not None}


def _need(data: dict, *path: str) -> Any:
    """``data[path[0]][path[1]]…`` or a ServerFault: the answer lacks what was expected."""
    value: Any = data
    for name in path:
        if not isinstance(value, dict) or name not in value:
            raise ServerFault("The marketplace's answer lacks the "
                              f"“{'.'.join(path)}” Story Studio expects. Try again later.")
        value = value[name]
    return value


def version_moved(exc: ConflictError, base: int | None) -> ConflictError:
    """The refusal of a publish based on an outdated version, in the words the outbox shows:
    who published what since, and what the author does about it (the entry waits for them)."""
    latest = exc.body.get("latest_version")
    found = re.search(r"published by (.+?) since your version", exc.detail or "")
    who = found.group(1) if found else "a collaborator"
    since = f"Version {latest}" if isinstance(latest, int) else "A newer version"
    sentence = (f"{since} was published by {who} since your version {base}: use Update from "
                "Collaborators, then publish again.")
    return ConflictError(sentence, status=exc.status, code=exc.code, detail=exc.detail,
                         body=exc.body)


async def send_publish(client: MarketplaceClient, spec: dict, key: str) -> dict:
    remote_id = spec.get("remote_story_id")
    changelog = spec.get("changelog") or ""
    content = spec["content"]
    if remote_id is None:
        body = {**_meta(spec), "content": content}
        if changelog:
            body["changelog"] = changelog
        answer = await client.publish_story(body, key)
    else:
        if spec.get("update_meta") and _meta(spec):
            await client.update_story(remote_id, _meta(spec), f"{key}:meta")
        base = spec.get("base_version")
        try:
            answer = await client.publish_version(
                remote_id, {"changelog": changelog or "New version", "content": content},
                key, base_version=base if isinstance(base, int) else None)
        except ConflictError as exc:
            if exc.code == "version_moved":
                raise version_moved(exc, base) from exc
            raise
    return {"remote_story_id": _need(answer, "story", "id"),
            "remote_version": _need(answer, "version", "number"),
            "story": answer["story"], "version": answer["version"]}


async def send_like(client: MarketplaceClient, spec: dict, key: str) -> dict:
    return await client.like(spec["story_id"], key)


async def send_unlike(client: MarketplaceClient, spec: dict, key: str) -> dict:
    return await client.unlike(spec["story_id"], key)


async def send_report(client: MarketplaceClient, spec: dict, key: str) -> dict:
    try:
        return await client.report(spec["item_type"], spec["item_id"], spec["reason"],
                                   spec.get("note") or "", key)
    except ConflictError as exc:
        if exc.code == "already_reported":  # what the author wanted is already so
            return {"already_reported": True, "flag_id": exc.body.get("flag_id"),
                    "detail": exc.detail}
        raise


async def send_register_fork(client: MarketplaceClient, spec: dict, key: str) -> dict:
    fork = await client.create_fork(spec["story_id"], spec.get("version"), key)
    return {"fork_id": _need(fork, "id"), "fork": fork}


async def send_publish_remix(client: MarketplaceClient, spec: dict, key: str) -> dict:
    fork_id = spec.get("remote_fork_id")
    if fork_id is None:
        fork = await client.create_fork(spec["source_story_id"], spec.get("source_version"),
                                        f"{key}:fork")
        fork_id = _need(fork, "id")
    segments = spec.get("segments") or {}
    if segments:
        await client.edit_fork_segments(fork_id, segments, f"{key}:edit")
    parts = {k: v for k, v in (spec.get("parts") or {}).items() if k in PART_FIELDS}
    if parts:
        await client.edit_fork_parts(fork_id, parts, f"{key}:parts")
    body = _meta(spec)
    if spec.get("changelog"):
        body["changelog"] = spec["changelog"]
    answer = await client.publish_remix(fork_id, body, f"{key}:publish")
    return {"fork_id": fork_id, "remote_story_id": _need(answer, "story", "id"),
            "remote_version": _need(answer, "version"), "story": answer["story"]}


async def send_publish_voice_template(client: MarketplaceClient, spec: dict, key: str
                                      ) -> dict:
    answer = await client.publish_voice_template(spec["body"], key)
    return {"template_id": _need(answer, "id"), "template": answer}


#: ``kind`` → ``send`` for ``Handler(prepare, SENDERS[kind], complete)``.
SENDERS: dict[str, Send] = {
    "publish": send_publish,
    "like": send_like,
    "unlike": send_unlike,
    "report": send_report,
    "register_fork": send_register_fork,
    "publish_remix": send_publish_remix,
    "publish_voice_template": send_publish_voice_template,
}
