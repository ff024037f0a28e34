"""Source sync: what changed in the source since the fork's synced version, and the merge.

GET shows the changes (only changed segments travel) and the three-way merge outcome with its
conflicts; nothing is written.  POST applies the merge with the client's resolutions and only
then advances the fork's synced version.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from studio.marketplace import content, idempotency
from studio.marketplace.deps import Ctx, get_user_ctx
from studio.marketplace.errors import ApiError
from studio.marketplace.models import Fork
from studio.marketplace.routers.common import (
    ForkId, fork_out, fork_source, load_fork, load_version,
)
from studio.marketplace.schemas import ApplySync

router = APIRouter(prefix="/v1/forks", tags=["sync"])


def _target(ctx: Ctx, fork: Fork, to_version: int | None):
    source = fork_source(ctx, fork)  # a private source: only while still a member
    number = to_version or source.latest_version
    if number < fork.synced_version:
        raise ApiError(422, f"The fork is already synced to version {fork.synced_version}; "
                       f"it cannot sync back to {number}.", "version_behind")
    return load_version(ctx, source, number)


@router.get("/{fork_id}/sync", summary="Changes in the source since the last sync, merged")
def sync_preview(fork_id: ForkId, ctx: Ctx = Depends(get_user_ctx),
                 to_version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None) -> dict:
    fork = load_fork(ctx, fork_id)
    target = _target(ctx, fork, to_version)
    plan = content.plan_sync(ctx.session, fork, target)
    return {"fork": fork_out(ctx, fork), "from_version": fork.synced_version,
            "to_version": target.number, "up_to_date": target.id == fork.source_version_id,
            **content.preview(ctx.session, plan)}


@router.post("/{fork_id}/sync", summary="Apply the sync with resolutions for the conflicts")
def sync_apply(body: ApplySync, fork_id: ForkId,
               ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        fork = load_fork(ctx, fork_id)
        target = _target(ctx, fork, body.to_version)
        from_version = fork.synced_version
        if target.id == fork.source_version_id:
            if body.resolutions:
                raise ApiError(422, "The fork is already synced to this version; there is "
                               "nothing to resolve.", "up_to_date")
            return {"fork": fork_out(ctx, fork), "from_version": from_version,
                    "to_version": target.number, "modified": None}
        plan = content.plan_sync(ctx.session, fork, target)
        state = content.apply_sync(ctx.db, ctx.session, fork, plan, body.resolutions,
                                   ctx.settings.fork_full_threshold)
        return {"fork": fork_out(ctx, fork), "from_version": from_version,
                "to_version": target.number, "modified": state.modified,
                "total": state.total}

    return idempotency.run(ctx, body, action)
