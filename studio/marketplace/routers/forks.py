"""Forks: copy-on-write working copies of a story, private to their owner; remixes."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import select

from studio.marketplace import content, idempotency, quotas
from studio.marketplace.deps import Ctx, get_user_ctx
from studio.marketplace.errors import ApiError, forbidden
from studio.marketplace.models import Fork, Story, utcnow
from studio.marketplace.routers.common import (
    ForkId, StoryId, bump, create_story, fork_out, fork_source, load_fork, load_story,
    load_version, new_public_id, stories_out,
)
from studio.marketplace.schemas import CreateFork, EditParts, EditSegments, PublishRemix
from studio.marketplace.security_community import check_not_hidden

router = APIRouter(prefix="/v1", tags=["forks"])


@router.post("/stories/{story_id}/forks", status_code=201,
             summary="Fork a story version (stores only a reference to it)")
def create_fork(body: CreateFork, story_id: StoryId,
                ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        story = load_story(ctx, story_id)
        check_not_hidden(ctx.user, story, "story", story_id)
        quotas.check_storage_room(ctx)  # a fork is free, but not once storage is full
        if story.latest_version < 1:
            raise ApiError(409, "This story has no version to fork yet.", "no_version")
        version = load_version(ctx, story, body.version or story.latest_version)
        now = utcnow()
        fork = Fork(public_id=new_public_id("fk_"), owner_id=ctx.user_id,
                    source_story_id=story.id, source_version_id=version.id,
                    synced_version=version.number, strategy="reference",
                    title=body.title or story.title, created_at=now, updated_at=now)
        ctx.session.add(fork)
        ctx.session.flush()
        bump(ctx, story.id, forks=1)
        return fork_out(ctx, fork)

    return idempotency.run(ctx, body, action, status_code=201)


@router.get("/forks", summary="My forks")
def my_forks(ctx: Ctx = Depends(get_user_ctx)) -> dict:
    forks = ctx.session.scalars(select(Fork).where(Fork.owner_id == ctx.user_id)
                                .order_by(Fork.updated_at.desc(), Fork.id.desc()))
    return {"items": [fork_out(ctx, f) for f in forks]}


@router.get("/forks/{fork_id}", summary="A fork of mine: strategy and how far behind it is")
def get_fork(fork_id: ForkId, ctx: Ctx = Depends(get_user_ctx)) -> dict:
    return fork_out(ctx, load_fork(ctx, fork_id))


@router.get("/forks/{fork_id}/content", summary="The fork's merged content")
def get_fork_content(fork_id: ForkId, ctx: Ctx = Depends(get_user_ctx)) -> dict:
    fork = load_fork(ctx, fork_id)
    fork_source(ctx, fork)  # a private source: only while still a member
    return {"fork": fork_out(ctx, fork), "content": content.fork_content(ctx.session, fork)}


@router.patch("/forks/{fork_id}/segments",
              summary="Edit segment texts (stored as overrides, or materialised)")
def edit_segments(body: EditSegments, fork_id: ForkId,
                  ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        fork = load_fork(ctx, fork_id)
        fork_source(ctx, fork)
        state = content.edit_segments(ctx.db, ctx.session, fork, body.segments,
                                      ctx.settings.fork_full_threshold)
        return {**fork_out(ctx, fork), "modified": state.modified, "total": state.total}

    return idempotency.run(ctx, body, action)


@router.patch("/forks/{fork_id}/parts",
              summary="Replace the fork's modules, scene bible or chapter graph (null: "
                      "follow the source again)")
def edit_parts(body: EditParts, fork_id: ForkId,
               ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        fork = load_fork(ctx, fork_id)
        for name in body.model_fields_set:
            setattr(fork, name, getattr(body, name))
        fork.updated_at = utcnow()
        ctx.session.flush()
        return fork_out(ctx, fork)

    return idempotency.run(ctx, body, action)


@router.delete("/forks/{fork_id}", summary="Delete a fork of mine")
def delete_fork(fork_id: ForkId, ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        fork = load_fork(ctx, fork_id)
        bump(ctx, fork.source_story_id, forks=-1)
        ctx.session.delete(fork)
        ctx.session.flush()
        return {"deleted": fork_id}

    return idempotency.run(ctx, None, action)


@router.post("/forks/{fork_id}/publish", status_code=201,
             summary="Publish the fork as a remix: a new story crediting its source")
def publish_remix(body: PublishRemix, fork_id: ForkId,
                  ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        fork = load_fork(ctx, fork_id)
        source_story = fork_source(ctx, fork)
        if source_story.members_only and source_story.owner_id != ctx.user_id:
            raise ApiError(403, "The source story is private: only its owner can publish a "
                           "remix of it. Keep your fork, or propose your changes to the "
                           "story instead.", "source_private")
        if source_story.hidden and source_story.owner_id != ctx.user_id:
            raise forbidden("The source story was hidden by moderation, so a remix of it "
                            "cannot be published.")
        _check_licence(ctx, source_story, body.licence)
        version = content.source_version(ctx.session, fork)
        manifest = content.fork_manifest(ctx.session, fork, version)
        content.store_own_texts(ctx.db, ctx.session, fork)  # the remix version needs them
        parts = content.fork_parts(fork, version)
        remix = ctx.session.get(Story, fork.remix_story_id) if fork.remix_story_id else None
        if remix is None:
            quotas.check_new_item(ctx)
            remix = create_story(ctx, body, forked_from_story_id=source_story.id,
                                 forked_from_version=fork.synced_version,
                                 forked_from_owner_id=source_story.owner_id)
            fork.remix_story_id = remix.id
        else:
            remix.forked_from_version = fork.synced_version
        new = content.add_version(ctx.session, remix, ctx.user, manifest, parts,
                                  body.changelog)
        quotas.charge(ctx, quotas.story_version_bytes(manifest, parts))
        return {"story": stories_out(ctx, [remix])[0], "version": new.number}

    return idempotency.run(ctx, body, action, status_code=201)


def _check_licence(ctx: Ctx, source: Story, licence: str) -> None:
    if source.owner_id == ctx.user_id:
        return
    if source.licence == "all-rights-reserved":
        raise forbidden("The source story is 'all-rights-reserved': you may fork it for "
                        "yourself, but not publish a remix of it.")
    if source.licence == "CC-BY-NC" and licence != "CC-BY-NC":
        raise ApiError(422, "The source story is CC-BY-NC, so a remix of it must be "
                       "CC-BY-NC too.", "licence_mismatch")
