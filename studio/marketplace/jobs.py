"""The job queue and its worker: the reference analysis of every published story version.

Publishing a version inserts one ``jobs`` row in the publish's own transaction
(``enqueue_analysis``; its ``idempotency_key`` is unique, so nothing can queue a version twice).
A worker then:

1. **claims** a job in one short transaction: the job becomes ``running``, its ``attempts``
   go up by one and it is leased to the worker (``locked_by``, ``locked_until``).  Claimable
   are queued jobs whose ``run_after`` has come, and running jobs whose lease expired (their
   worker crashed or hung).  On PostgreSQL the candidate is picked with ``FOR UPDATE SKIP
   LOCKED``, so concurrent workers (threads, uvicorn processes, hosts) each take a different
   job without waiting for one another; on SQLite the single ``UPDATE … WHERE id = (SELECT …
   LIMIT 1) AND <still claimable>`` runs inside ``BEGIN IMMEDIATE``, which serialises writers,
   so a second worker finds the job taken.  Either way the claim is one atomic statement.
2. reads the version's content (as the story's owner, for row-level security) and runs the
   analyser outside any transaction.  The analyser's ``progress(stage, fraction)`` calls are
   written back (at most every ``progress_seconds``) and extend the lease; if the lease was
   lost meanwhile (another worker reclaimed the job) the analysis is abandoned.
3. on success stores the ``analyses`` row and marks the job ``done`` in one transaction,
   only if it still holds the lease; on an exception records ``last_error`` and queues the job
   again after a backoff (``retry_seconds × 2^(attempt-1)``), or marks it ``failed`` once
   ``max_attempts`` attempts were made.  A lease that expires on the last attempt fails the
   job too.

The analyser is a parameter (``analyse(content, progress) -> dict``), so tests run the queue
with their own functions; by default it is ``studio.domain.analysis.analyse_story``.

Workers run as threads inside each server process (``serve --workers-jobs N``, default 1;
0 disables them) or on their own (``studio-marketplace worker``).  Between jobs they also run
the periodic upkeep they are given (``maintenance``: the trending count's refresh,
``studio.marketplace.trending``).
"""

from __future__ import annotations

import json
import logging
import math
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from studio.marketplace import content
from studio.marketplace.db import Database
from studio.marketplace.models import Story, StoryVersion, utcnow
from studio.marketplace.models_ops import Analysis, Job
from studio.marketplace.settings import ENV_PREFIX

log = logging.getLogger("studio.marketplace.jobs")

Progress = Callable[[str, float], None]
Analyse = Callable[[Mapping[str, Any], Progress | None], dict]

JOBS = Job.__table__
ANALYSES = Analysis.__table__
MAX_ATTEMPTS = 3
LEASE_LOST = ("the worker running it stopped before finishing (its lease expired) and no "
              "attempts were left")


@dataclass(frozen=True)
class WorkerConfig:
    threads: int = 1  # in-process worker threads (per server process); 0: none
    lease_seconds: float = 120.0  # a running job is reclaimable this long after its last sign
    poll_seconds: float = 1.0  # an idle worker looks for work this often
    retry_seconds: float = 5.0  # backoff before retry n: retry_seconds × 2^(n-1)
    max_retry_seconds: float = 600.0
    progress_seconds: float = 0.5  # at most one progress write per job this often

    ENV = {"threads": "JOB_WORKERS", "lease_seconds": "JOB_LEASE_SECONDS",
           "poll_seconds": "JOB_POLL_SECONDS", "retry_seconds": "JOB_RETRY_SECONDS"}

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "WorkerConfig":
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + cls.ENV.get(f.name, ""))
            if f.name in cls.ENV and raw not in (None, ""):
                values[f.name] = int(raw) if f.type == "int" else float(raw)
        return cls(**values)

    def backoff(self, attempt: int) -> float:
        return min(self.max_retry_seconds, self.retry_seconds * 2 ** max(attempt - 1, 0))


# --- the analyser ------------------------------------------------------------------------

def default_analyser() -> tuple[Analyse, str, tuple[str, ...]]:
    """``analyse_story``, its version and its stage names (imported when first needed)."""
    from studio.domain import analysis

    return (analysis.analyse_story, str(analysis.ANALYSER_VERSION),
            tuple(getattr(analysis, "STAGES", ())))


def current_analyser_version() -> str:
    return default_analyser()[1]


# --- queueing ----------------------------------------------------------------------------

def analysis_key(story_id: int, version: int, analyser_version: str) -> str:
    return f"analysis:{story_id}:{version}:{analyser_version}"


def enqueue_analysis(db: Database, session: Session, story: Story, version: int,
                     analyser_version: str | None = None) -> str:
    """Queue the analysis of a story version in the caller's transaction (a no-op when it is
    queued already).  Returns the job's idempotency key."""
    analyser_version = analyser_version or current_analyser_version()
    key = analysis_key(story.id, version, analyser_version)
    now = utcnow()
    session.execute(db.insert(JOBS).values(
        public_id="jb_" + secrets.token_urlsafe(12), kind="analysis", story_id=story.id,
        version=version, owner_id=story.owner_id, status="queued", stage="queued",
        progress=0.0, attempts=0, max_attempts=MAX_ATTEMPTS, idempotency_key=key,
        run_after=now, created_at=now, updated_at=now,
    ).on_conflict_do_nothing(index_elements=["idempotency_key"]))
    return key


# --- claiming ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Claim:
    id: int
    public_id: str
    story_id: int
    version: int
    owner_id: int
    attempts: int
    max_attempts: int
    worker: str


def _claimable(now: datetime):
    return or_(and_(JOBS.c.status == "queued", JOBS.c.run_after <= now),
               and_(JOBS.c.status == "running", JOBS.c.locked_until < now,
                    JOBS.c.attempts < JOBS.c.max_attempts))


def _expired_for_good(now: datetime):
    return and_(JOBS.c.status == "running", JOBS.c.locked_until < now,
                JOBS.c.attempts >= JOBS.c.max_attempts)


def has_work(db: Database, now: datetime | None = None) -> bool:
    """A cheap read: is anything claimable (or due to be failed)?  Idle workers ask this
    before they open a write transaction."""
    now = now or utcnow()
    session = db.session(write=False)
    try:
        return session.execute(select(JOBS.c.id).where(
            or_(_claimable(now), _expired_for_good(now))).limit(1)).first() is not None
    finally:
        session.close()


def claim(db: Database, worker: str, lease_seconds: float,
          now: datetime | None = None) -> Claim | None:
    """Take the next job for ``worker`` (see the module's docstring), or None."""
    now = now or utcnow()
    session = db.session(write=True)
    try:
        session.execute(update(JOBS).where(_expired_for_good(now)).values(
            status="failed", stage="failed", last_error=LEASE_LOST, locked_by=None,
            locked_until=None, finished_at=now, updated_at=now))
        pick = select(JOBS.c.id).where(_claimable(now)) \
            .order_by(JOBS.c.run_after, JOBS.c.id).limit(1)
        if db.is_postgres:
            pick = pick.with_for_update(skip_locked=True)
        row = session.execute(
            update(JOBS).where(JOBS.c.id == pick.scalar_subquery(), _claimable(now))
            .values(status="running", stage="starting", progress=0.0,
                    attempts=JOBS.c.attempts + 1, locked_by=worker,
                    locked_until=now + timedelta(seconds=lease_seconds), started_at=now,
                    updated_at=now)
            .returning(JOBS.c.id, JOBS.c.public_id, JOBS.c.story_id, JOBS.c.version,
                       JOBS.c.owner_id, JOBS.c.attempts, JOBS.c.max_attempts)).first()
        session.commit()
    finally:
        session.close()
    return None if row is None else Claim(*row, worker=worker)


def _mine(job: Claim):
    return and_(JOBS.c.id == job.id, JOBS.c.locked_by == job.worker,
                JOBS.c.status == "running")


def _write(db: Database, statement) -> int:
    session = db.session(write=True)
    try:
        count = session.execute(statement).rowcount
        session.commit()
        return count
    finally:
        session.close()


class LeaseLost(Exception):
    """The job is no longer this worker's: its lease expired and someone reclaimed it."""


class WorkerStopping(Exception):
    """The worker is shutting down: the job goes back to the queue."""


def report_progress(db: Database, job: Claim, stage: str, progress: float,
                    lease_seconds: float) -> None:
    """Write the stage and progress back and extend the lease (LeaseLost if not ours)."""
    now = utcnow()
    progress = 0.0 if not math.isfinite(progress) else min(max(progress, 0.0), 1.0)
    count = _write(db, update(JOBS).where(_mine(job)).values(
        stage=stage[:60], progress=progress, updated_at=now,
        locked_until=now + timedelta(seconds=lease_seconds)))
    if count != 1:
        raise LeaseLost(job.public_id)


def complete(db: Database, job: Claim, analyser_version: str, result: dict) -> bool:
    """Store the analysis and mark the job done, if the job is still ours."""
    now = utcnow()
    session = db.session(write=True)
    try:
        done = session.execute(update(JOBS).where(_mine(job)).values(
            status="done", stage="done", progress=1.0, locked_by=None, locked_until=None,
            finished_at=now, updated_at=now)).rowcount
        if done != 1:
            session.rollback()
            return False
        session.execute(db.insert(ANALYSES).values(
            story_id=job.story_id, version=job.version, analyser_version=analyser_version,
            result=result, created_at=now,
        ).on_conflict_do_nothing(index_elements=["story_id", "version", "analyser_version"]))
        session.commit()
        return True
    finally:
        session.close()


def fail(db: Database, job: Claim, error: str, config: WorkerConfig) -> str:
    """Record the error; queue the job again after a backoff, or fail it for good.  Returns
    the job's new status ("queued", "failed"), or "lost" if it was not ours any more."""
    now = utcnow()
    error = error.replace("\x00", "")[:2000]
    if job.attempts < job.max_attempts:
        values = dict(status="queued", stage="retrying", progress=0.0, last_error=error,
                      locked_by=None, locked_until=None, updated_at=now,
                      run_after=now + timedelta(seconds=config.backoff(job.attempts)))
    else:
        values = dict(status="failed", stage="failed", last_error=error, locked_by=None,
                      locked_until=None, finished_at=now, updated_at=now)
    if _write(db, update(JOBS).where(_mine(job)).values(**values)) != 1:
        return "lost"
    return values["status"]


def release(db: Database, job: Claim) -> None:
    """Give a job back untouched (the worker is stopping): the attempt does not count."""
    _write(db, update(JOBS).where(_mine(job)).values(
        status="queued", stage="queued", progress=0.0, attempts=JOBS.c.attempts - 1,
        locked_by=None, locked_until=None, updated_at=utcnow()))


def load_content(db: Database, job: Claim) -> dict:
    """The version's content as ``content.version_content`` assembles it, read as the
    story's owner (so row-level security lets an unlisted story's versions through)."""
    session = db.session(write=False)
    try:
        db.set_rls(session, "app.user_id", job.owner_id)
        version = session.scalar(select(StoryVersion).where(
            StoryVersion.story_id == job.story_id, StoryVersion.number == job.version))
        if version is None:
            raise LookupError(f"version {job.version} of story #{job.story_id} is missing")
        return content.version_content(session, version)
    finally:
        session.close()


def _plain_json(result: Any) -> dict:
    if not isinstance(result, dict):
        raise TypeError(f"the analyser returned {type(result).__name__}, not a dict")
    return json.loads(json.dumps(result, allow_nan=False))


# --- the worker --------------------------------------------------------------------------

class _Reporter:
    """The ``progress`` callback handed to the analyser."""

    def __init__(self, worker: "JobWorker", job: Claim):
        self.worker, self.job = worker, job
        self.last_write = 0.0
        self.last_stage: str | None = None

    def __call__(self, stage: str, fraction: float) -> None:
        if self.worker.stop_event.is_set():
            raise WorkerStopping()
        stage = str(stage)
        now = time.monotonic()
        if stage == self.last_stage and now - self.last_write < \
                self.worker.config.progress_seconds:
            return
        self.last_write, self.last_stage = now, stage
        stages = self.worker.stages
        try:
            fraction = float(fraction)
        except (TypeError, ValueError):
            fraction = 0.0
        overall = ((stages.index(stage) + min(max(fraction, 0.0), 1.0)) / len(stages)
                   if stage in stages else fraction)
        report_progress(self.worker.db, self.job, stage, overall,
                        self.worker.config.lease_seconds)


class JobWorker:
    """Claims and runs jobs one at a time; ``run_once`` for a single job, ``run`` until
    ``stop_event`` is set."""

    def __init__(self, db: Database, *, analyse: Analyse | None = None,
                 analyser_version: str | None = None, stages: tuple[str, ...] = (),
                 config: WorkerConfig | None = None, name: str | None = None,
                 stop_event: threading.Event | None = None,
                 maintenance: Callable[[], Any] | None = None):
        self.db = db
        self.maintenance = maintenance
        self.config = config or WorkerConfig()
        if analyse is None:
            analyse, default_version, stages = default_analyser()
            analyser_version = analyser_version or default_version
        if analyser_version is None:
            raise ValueError("a custom analyser needs its analyser_version")
        self.analyse, self.analyser_version, self.stages = analyse, analyser_version, stages
        self.name = (name or f"{socket.gethostname()}:{os.getpid()}:"
                     f"{secrets.token_hex(4)}")[:100]
        self.stop_event = stop_event or threading.Event()

    def run_once(self, now: datetime | None = None) -> str | None:
        """Claim one job and run it.  Returns None when there was nothing to do, else what
        became of the job: "done", "queued" (to be retried), "failed", "released" (the worker
        is stopping) or "lost" (another worker reclaimed it meanwhile)."""
        job = claim(self.db, self.name, self.config.lease_seconds, now)
        if job is None:
            return None
        log.info("job %s: analysing story #%s v%s (attempt %s of %s)", job.public_id,
                 job.story_id, job.version, job.attempts, job.max_attempts)
        try:
            data = load_content(self.db, job)
            result = _plain_json(self.analyse(data, _Reporter(self, job)))
        except WorkerStopping:
            release(self.db, job)
            return "released"
        except LeaseLost:
            log.warning("job %s: lease lost; another worker has it now", job.public_id)
            return "lost"
        except Exception as exc:  # noqa: BLE001 - recorded on the job, retried
            log.warning("job %s: attempt %s failed", job.public_id, job.attempts,
                        exc_info=True)
            return fail(self.db, job, f"{type(exc).__name__}: {exc}", self.config)
        return "done" if complete(self.db, job, self.analyser_version, result) else "lost"

    def run(self) -> None:
        while not self.stop_event.is_set():
            if self.maintenance is not None:
                try:
                    self.maintenance()
                except Exception:  # noqa: BLE001 - upkeep never stops the worker
                    log.exception("job worker %s: maintenance failed", self.name)
            try:
                busy = has_work(self.db) and self.run_once() is not None
            except Exception:  # noqa: BLE001 - e.g. the database restarting: try again
                log.exception("job worker %s: error while looking for work", self.name)
                busy = False
            if not busy:
                self.stop_event.wait(self.config.poll_seconds)


class WorkerPool:
    """``threads`` JobWorkers in daemon threads sharing one stop event."""

    def __init__(self, db: Database, config: WorkerConfig, analyse: Analyse | None = None,
                 analyser_version: str | None = None,
                 maintenance: Callable[[], Any] | None = None):
        self.stop_event = threading.Event()
        self.workers = [JobWorker(db, analyse=analyse, analyser_version=analyser_version,
                                  config=config, stop_event=self.stop_event,
                                  maintenance=maintenance)
                        for _ in range(max(config.threads, 0))]
        self.threads = [threading.Thread(target=w.run, name=f"job-worker-{i}", daemon=True)
                        for i, w in enumerate(self.workers)]

    def start(self) -> "WorkerPool":
        for thread in self.threads:
            thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the workers to stop (a running analysis is given back to the queue at its
        next progress call) and wait up to ``timeout`` seconds for them."""
        self.stop_event.set()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def wait(self) -> None:
        for thread in self.threads:
            while thread.is_alive():
                thread.join(0.5)
