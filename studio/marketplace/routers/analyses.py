"""Reference analyses of story versions, and the jobs that make them.

``GET /v1/stories/{id}/versions/{n}/analysis`` answers:

- 200 with the analysis (characters, emotions, themes, summary) by the current analyser;
- 202 with the job's status, stage and progress while it is queued or running (a version
  published before the queue existed, or a remix, is queued by this first request);
- 409 ``analysis_failed`` when the job failed for good (the job says why);
- 404 when the story is not visible or has no such version.

``GET /v1/jobs/{id}``: a job, for the owner of its story and for moderators (404 to others).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from fastapi.encoders import jsonable_encoder
from sqlalchemy import select

from studio.marketplace import jobs
from studio.marketplace.deps import Ctx, get_ctx, get_user_ctx
from studio.marketplace.errors import not_found
from studio.marketplace.models import Story
from studio.marketplace.models_ops import Analysis, Job
from studio.marketplace.routers.common import StoryId, VersionNumber, load_story, load_version
from studio.marketplace.schemas_ops import JOB_ID_RE, AnalysisPending, ErrorOut
from studio.marketplace.security_community import check_not_hidden, is_moderator

router = APIRouter(prefix="/v1", tags=["analyses"])

JobId = Annotated[str, Path(pattern=JOB_ID_RE, description="a job id, jb_…")]
RETRY_AFTER = "2"


def job_out(ctx: Ctx, job: Job, story_public_id: str | None) -> dict:
    """A job as its story's owner and moderators see it (others see no error text)."""
    private = ctx.user is not None and (job.owner_id == ctx.user_id or is_moderator(ctx.user))
    return {
        "id": job.public_id, "kind": job.kind, "story_id": story_public_id,
        "version": job.version, "status": job.status, "stage": job.stage,
        "progress": round(job.progress, 4), "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "last_error": job.last_error if private else None,
        "created_at": job.created_at, "updated_at": job.updated_at,
        "started_at": job.started_at, "finished_at": job.finished_at,
    }


def _analysis_out(story: Story, row: Analysis) -> dict:
    return {"story_id": story.public_id, "version": row.version,
            "analyser_version": row.analyser_version, "created_at": row.created_at,
            "analysis": row.result}


def _enqueue_now(ctx: Ctx, story: Story, number: int, analyser_version: str) -> None:
    """Queue a version nobody queued (in a transaction of its own: this is a GET).  The
    request's read transaction ends first, so the request never holds two pooled connections
    at once (as ``common.counter_session``)."""
    ctx.session.commit()
    session = ctx.db.session(write=True)
    try:
        jobs.enqueue_analysis(ctx.db, session, story, number, analyser_version)
        session.commit()
    finally:
        session.close()


@router.get("/stories/{story_id}/versions/{number}/analysis",
            summary="A version's reference analysis (202 while it is being made)",
            responses={202: {"model": AnalysisPending, "description": "Queued or running"},
                       409: {"model": ErrorOut, "description": "The analysis failed"}})
def get_analysis(story_id: StoryId, number: VersionNumber,
                 ctx: Ctx = Depends(get_ctx)) -> JSONResponse:
    story = load_story(ctx, story_id)
    check_not_hidden(ctx.user, story, "story", story_id)
    load_version(ctx, story, number)
    analyser_version = jobs.current_analyser_version()
    key = jobs.analysis_key(story.id, number, analyser_version)
    # The job first: a job read as done has its analysis committed with it, so the next
    # statement sees that analysis (each statement sees what was committed before it).
    job = ctx.session.scalar(select(Job).where(Job.idempotency_key == key))
    rows = {r.analyser_version: r for r in ctx.session.scalars(
        select(Analysis).where(Analysis.story_id == story.id, Analysis.version == number)
        .order_by(Analysis.created_at, Analysis.id))}
    if analyser_version in rows:
        return JSONResponse(jsonable_encoder(_analysis_out(story, rows[analyser_version])))
    if job is None:
        _enqueue_now(ctx, story, number, analyser_version)
        ctx.session.rollback()  # see the new job (a fresh snapshot)
        job = ctx.session.scalar(select(Job).where(Job.idempotency_key == key))
    if job.status in ("queued", "running"):
        body = {"story_id": story.public_id, "version": number, "status": job.status,
                "stage": job.stage, "progress": round(job.progress, 4),
                "job": job_out(ctx, job, story.public_id)}
        return JSONResponse(jsonable_encoder(body), status_code=202,
                            headers={"Retry-After": RETRY_AFTER})
    if rows:  # done by another analyser version (a rolling upgrade): the newest there is
        return JSONResponse(jsonable_encoder(_analysis_out(story, list(rows.values())[-1])))
    body = {"detail": f"The analysis of {story.public_id} v{number} failed after "
                      f"{job.attempts} attempts.", "code": "analysis_failed",
            "job": job_out(ctx, job, story.public_id)}
    return JSONResponse(jsonable_encoder(body), status_code=409)


@router.get("/jobs/{job_id}", summary="A job (its story's owner, or a moderator)")
def get_job(job_id: JobId, ctx: Ctx = Depends(get_user_ctx)) -> dict:
    job = ctx.session.scalar(select(Job).where(Job.public_id == job_id))
    if job is None or not (job.owner_id == ctx.user_id or is_moderator(ctx.user)):
        raise not_found("job", job_id)
    story_public_id = ctx.session.scalar(select(Story.public_id).where(Story.id == job.story_id))
    return job_out(ctx, job, story_public_id)
