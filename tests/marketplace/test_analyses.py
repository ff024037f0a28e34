"""Reference analyses: every published version gets one job, which the servers' in-process
workers run; and the queue itself (claims, leases, retries, concurrency) driven directly
through ``studio.marketplace.jobs`` against real SQLite and PostgreSQL databases, with fake
analysers passed in as arguments."""

from __future__ import annotations

import secrets
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import delete, select

from studio.domain.analysis import ANALYSER_VERSION
from studio.marketplace import content, jobs
from studio.marketplace.db import Database, migrate
from studio.marketplace.models import Story, StoryStats, User, utcnow
from studio.marketplace.models_ops import Analysis, Job
from tests.marketplace.conftest import PG_DSN
from tests.marketplace.helpers import manuscript, publish, story_body, unique

TEXTS = [
    '"We sail at dawn," said Marlow, smiling at the grey harbour.',
    "Marlow feared the dark water; the shadow of the reef terrified the crew.",
    '"Trust me," whispered Ines. Marlow trusted her, and the storm came anyway.',
    "At dawn the lighthouse keeper found the wreck, and Ines wept on the shore.",
]
BIBLE = {"characters": [{"id": "c1", "name": "Marlow"}, {"id": "c2", "name": "Ines"}]}


def _poll(client, path: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(path)
        if r.status_code != 202 or time.monotonic() > deadline:
            return r
        body = r.json()
        assert body["status"] in ("queued", "running") and 0 <= body["progress"] <= 1
        assert r.headers["retry-after"]
        time.sleep(0.2)


def _jobs_of(server, story_id: str) -> list[tuple]:
    return server.sql("SELECT j.version, j.status, j.public_id FROM jobs j JOIN stories s "
                      "ON s.id = j.story_id WHERE s.public_id = ? ORDER BY j.version",
                      (story_id,))


def test_publishing_makes_an_analysis(server, alice, bob, make_account, anon):
    sid = publish(alice, TEXTS, scene_bible=BIBLE)["story"]["id"]
    first = anon.get(f"/v1/stories/{sid}/versions/1/analysis")
    assert first.status_code in (200, 202), first.text
    if first.status_code == 202:
        assert {"status", "stage", "progress", "job"} <= set(first.json())
        assert first.json()["job"]["last_error"] is None  # the error text is not for anon
    r = _poll(anon, f"/v1/stories/{sid}/versions/1/analysis")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["story_id"] == sid and body["version"] == 1
    assert body["analyser_version"] == str(ANALYSER_VERSION)
    analysis = body["analysis"]
    assert {c["name"] for c in analysis["characters"]} >= {"Marlow", "Ines"}
    assert "keywords" in analysis["themes"] and analysis["summary"]
    assert analysis["segments"] == len(TEXTS)
    (job,) = _jobs_of(server, sid)
    assert job[:2] == (1, "done")
    # the job: its story's owner and moderators see it, nobody else
    r = alice.get(f"/v1/jobs/{job[2]}")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "done" and r.json()["progress"] == 1.0
    assert r.json()["story_id"] == sid and r.json()["attempts"] == 1
    assert bob.get(f"/v1/jobs/{job[2]}").status_code == 404
    assert anon.get(f"/v1/jobs/{job[2]}").status_code == 401
    moderator = make_account("mod")
    server.sql("UPDATE users SET role = 'moderator' WHERE username = ?", (moderator.username,))
    assert moderator.get(f"/v1/jobs/{job[2]}").json()["id"] == job[2]
    assert bob.get("/v1/jobs/jb_doesnotexist").status_code == 404
    assert bob.get("/v1/jobs/42").status_code == 422


def test_every_version_gets_one_job_even_when_retried(server, alice):
    key = {"Idempotency-Key": unique("pub")}
    body = story_body(TEXTS[:2], title=unique("Once "))
    a = alice.post("/v1/stories", json=body, headers=key)
    b = alice.post("/v1/stories", json=body, headers=key)
    assert a.status_code == b.status_code == 201 and a.json() == b.json()
    sid = a.json()["story"]["id"]
    v2 = {"changelog": "v2", "content": story_body(TEXTS[2:])["content"]}
    key2 = {"Idempotency-Key": unique("v2")}
    for _ in range(3):
        assert alice.post(f"/v1/stories/{sid}/versions", json=v2, headers=key2).status_code \
            == 201
    # the same key sent concurrently: still one version, one job
    key3 = {"Idempotency-Key": unique("v3")}
    v3 = {"changelog": "v3", "content": story_body(TEXTS)["content"]}

    def send(_i):
        with server.client(alice.tokens["access_token"]) as c:
            return c.post(f"/v1/stories/{sid}/versions", json=v3, headers=key3)

    with ThreadPoolExecutor(5) as pool:
        results = list(pool.map(send, range(5)))
    assert {r.status_code for r in results} == {201}, [r.text for r in results]
    versions = alice.get(f"/v1/stories/{sid}/versions").json()["items"]
    assert [v["number"] for v in versions] == [1, 2, 3]
    assert [j[0] for j in _jobs_of(server, sid)] == [1, 2, 3]
    for n in (1, 2, 3):
        assert _poll(alice, f"/v1/stories/{sid}/versions/{n}/analysis").status_code == 200
    assert server.sql("SELECT count(*) FROM analyses a JOIN stories s ON s.id = a.story_id "
                      "WHERE s.public_id = ?", (sid,))[0][0] == 3


def test_missing_versions_and_remixes(server, alice, bob, anon):
    sid = publish(alice, TEXTS[:1])["story"]["id"]
    assert anon.get(f"/v1/stories/{sid}/versions/2/analysis").status_code == 404
    assert anon.get("/v1/stories/st_nothinghere/versions/1/analysis").status_code == 404
    assert anon.get(f"/v1/stories/{sid}/versions/0/analysis").status_code == 422
    # a remix's versions are published through forks: the first request queues its analysis
    fid = bob.post(f"/v1/stories/{sid}/forks", json={}).json()["id"]
    bob.patch(f"/v1/forks/{fid}/segments", json={"segments": {"seg_0": TEXTS[1]}})
    remix = bob.post(f"/v1/forks/{fid}/publish", json={"title": unique("Remix "),
                                                       "licence": "CC-BY"})
    assert remix.status_code == 201, remix.text
    rid = remix.json()["story"]["id"]
    r = _poll(anon, f"/v1/stories/{rid}/versions/1/analysis")
    assert r.status_code == 200, r.text
    assert r.json()["analysis"]["segments"] == 1
    assert len(_jobs_of(server, rid)) == 1


# --- the queue, driven directly ----------------------------------------------------------

@pytest.fixture(scope="module")
def queue_backends(tmp_path_factory):
    """A migrated SQLite file, and a fresh PostgreSQL database used through a non-owner,
    non-superuser role (row-level security applies to the workers)."""
    folder = tmp_path_factory.mktemp("queue")
    sqlite_url = f"sqlite:///{folder / 'queue.sqlite3'}"
    migrate(sqlite_url)
    suffix = secrets.token_hex(4)
    dbname, role = f"studio_queue_{suffix}", f"studio_queue_app_{suffix}"
    info = psycopg.conninfo.conninfo_to_dict(PG_DSN)
    host, port, owner = info.get("host", "127.0.0.1"), info.get("port", "5432"), \
        info.get("user", "postgres")
    with psycopg.connect(PG_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{dbname}"')
        admin.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS')
    owner_url = f"postgresql+psycopg://{owner}@{host}:{port}/{dbname}"
    dbs: list[Database] = []
    try:
        migrate(owner_url, grant_to=role)
        backends = {
            "sqlite": (Database(sqlite_url), Database(sqlite_url)),
            "postgresql": (Database(f"postgresql+psycopg://{role}@{host}:{port}/{dbname}",
                                    pool_size=10),
                           Database(owner_url)),
        }
        dbs = [db for pair in backends.values() for db in pair]
        yield backends
    finally:
        for db in dbs:
            db.dispose()
        with psycopg.connect(PG_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.fixture(params=["sqlite", "postgresql"])
def queue(request, queue_backends):
    """(app database, owner database), with an empty queue."""
    app_db, owner_db = queue_backends[request.param]
    session = owner_db.session(write=True)
    session.execute(delete(Analysis))
    session.execute(delete(Job))
    session.commit()
    session.close()
    return app_db, owner_db


def _queue_versions(owner_db: Database, texts: list[list[str]], visibility: str = "public",
                    analyser_version: str = "test-1") -> tuple[int, int]:
    """A user's story with one version per entry of ``texts``, each queued for analysis."""
    session = owner_db.session(write=True)
    try:
        user = User(username=unique("q"), password_hash="x", role="user")
        session.add(user)
        session.flush()
        now = utcnow()
        story = Story(public_id="st_" + secrets.token_urlsafe(12), owner_id=user.id,
                      title=unique("Queued "), description="", genre="", licence="CC-BY",
                      visibility=visibility, latest_version=0, created_at=now, updated_at=now)
        session.add(story)
        session.flush()
        session.add(StoryStats(story_id=story.id, views=0, likes=0, forks=0, downloads=0))
        for version_texts in texts:
            manifest = content.build_manifest(owner_db, session, manuscript(version_texts))
            version = content.add_version(session, story, user, manifest,
                                          {"scene_bible": BIBLE}, "v")
            jobs.enqueue_analysis(owner_db, session, story, version.number, analyser_version)
        session.commit()
        return story.id, user.id
    finally:
        session.close()


def _job(owner_db: Database, story_id: int, version: int = 1) -> Job:
    session = owner_db.session(write=False)
    try:
        return session.scalar(select(Job).where(Job.story_id == story_id,
                                                Job.version == version))
    finally:
        session.close()


def _analyses(owner_db: Database, story_id: int) -> list[Analysis]:
    session = owner_db.session(write=False)
    try:
        return list(session.scalars(select(Analysis).where(Analysis.story_id == story_id)))
    finally:
        session.close()


FAST = jobs.WorkerConfig(progress_seconds=0.0, retry_seconds=30.0, lease_seconds=60.0)


def test_a_job_runs_with_progress_as_the_story_owner(queue):
    app_db, owner_db = queue
    story_id, owner_id = _queue_versions(owner_db, [["One line.", "Two lines."]],
                                         visibility="unlisted")
    assert jobs.has_work(app_db)
    seen = []

    def analyse(data, progress):
        progress("reading", 0.5)
        job = _job(owner_db, story_id)
        seen.append((job.status, job.stage, job.progress, job.locked_by))
        progress("writing", 1.0)
        return {"texts": [s["text"] for c in data["manuscript"]["chapters"]
                          for sc in c["scenes"] for s in sc["segments"]],
                "characters": [c["name"] for c in data["scene_bible"]["characters"]]}

    worker = jobs.JobWorker(app_db, analyse=analyse, analyser_version="test-1", config=FAST,
                            stages=("reading", "writing"), name="w1")
    assert worker.run_once() == "done"
    assert seen == [("running", "reading", 0.25, "w1")]  # half of the first of two stages
    job = _job(owner_db, story_id)
    assert (job.status, job.stage, job.progress, job.attempts) == ("done", "done", 1.0, 1)
    assert job.locked_by is None and job.finished_at is not None
    (analysis,) = _analyses(owner_db, story_id)
    assert analysis.result == {"texts": ["One line.", "Two lines."],
                               "characters": ["Marlow", "Ines"]}
    assert analysis.analyser_version == "test-1" and analysis.version == 1
    assert worker.run_once() is None and not jobs.has_work(app_db)
    assert owner_id


def test_a_failing_job_is_retried_with_backoff_then_failed(queue):
    app_db, owner_db = queue
    story_id, _ = _queue_versions(owner_db, [["x"]])
    calls = []

    def analyse(_data, _progress):
        calls.append(1)
        raise RuntimeError(f"boom {len(calls)}")

    worker = jobs.JobWorker(app_db, analyse=analyse, analyser_version="test-1", config=FAST)
    assert worker.run_once() == "queued"
    job = _job(owner_db, story_id)
    assert (job.status, job.attempts, job.last_error) == ("queued", 1, "RuntimeError: boom 1")
    wait = (job.run_after - utcnow()).total_seconds()
    assert 25 < wait <= 30  # retry_seconds × 2^0
    assert worker.run_once() is None  # not due yet
    later = utcnow() + timedelta(seconds=31)
    assert worker.run_once(now=later) == "queued"
    job = _job(owner_db, story_id)
    assert job.attempts == 2 and 55 < (job.run_after - utcnow()).total_seconds() <= 60
    assert worker.run_once(now=utcnow() + timedelta(minutes=5)) == "failed"
    job = _job(owner_db, story_id)
    assert (job.status, job.attempts, job.max_attempts) == ("failed", 3, 3)
    assert job.last_error == "RuntimeError: boom 3" and job.finished_at is not None
    assert worker.run_once(now=utcnow() + timedelta(days=1)) is None
    assert len(calls) == 3 and _analyses(owner_db, story_id) == []
    # bad results are failures too (not JSON, or not a dict)
    story2, _ = _queue_versions(owner_db, [["y"]])
    odd = jobs.JobWorker(app_db, analyse=lambda d, p: {"x": float("nan")},
                         analyser_version="test-1", config=FAST)
    assert odd.run_once() == "queued"
    assert _job(owner_db, story2).last_error.startswith("ValueError: Out of range float")


def test_an_expired_lease_is_reclaimed_and_the_old_worker_is_shut_out(queue):
    app_db, owner_db = queue
    story_id, _ = _queue_versions(owner_db, [["z"]])
    first = jobs.claim(app_db, "crashed", lease_seconds=60)
    assert first is not None and first.attempts == 1
    assert jobs.claim(app_db, "other", lease_seconds=60) is None  # leased
    assert not jobs.has_work(app_db)
    later = utcnow() + timedelta(seconds=61)
    second = jobs.claim(app_db, "other", lease_seconds=60, now=later)
    assert second is not None and second.id == first.id and second.attempts == 2
    assert _job(owner_db, story_id).locked_by == "other"
    with pytest.raises(jobs.LeaseLost):  # the first worker wakes up: the job is not its own
        jobs.report_progress(app_db, first, "late", 0.5, 60)
    assert jobs.complete(app_db, first, "test-1", {"by": "crashed"}) is False
    assert jobs.fail(app_db, first, "late error", FAST) == "lost"
    assert jobs.complete(app_db, second, "test-1", {"by": "other"}) is True
    assert [a.result for a in _analyses(owner_db, story_id)] == [{"by": "other"}]
    assert _job(owner_db, story_id).status == "done"


def test_a_lease_expiring_on_the_last_attempt_fails_the_job(queue):
    app_db, owner_db = queue
    story_id, _ = _queue_versions(owner_db, [["w"]])
    now = utcnow()
    for n in range(3):
        claimed = jobs.claim(app_db, f"w{n}", 60, now=now + timedelta(seconds=61 * n))
        assert claimed is not None and claimed.attempts == n + 1
    assert jobs.claim(app_db, "w3", 60, now=now + timedelta(seconds=61 * 3)) is None
    job = _job(owner_db, story_id)
    assert job.status == "failed" and "lease expired" in job.last_error


def test_a_stopping_worker_gives_its_job_back(queue):
    app_db, owner_db = queue
    story_id, _ = _queue_versions(owner_db, [["v"]])
    stop = threading.Event()

    def analyse(_data, progress):
        stop.set()  # shutdown begins while the analysis runs
        progress("anything", 0.1)
        raise AssertionError("not reached")

    worker = jobs.JobWorker(app_db, analyse=analyse, analyser_version="test-1", config=FAST,
                            stop_event=stop)
    assert worker.run_once() == "released"
    job = _job(owner_db, story_id)
    assert (job.status, job.attempts, job.locked_by) == ("queued", 0, None)


@pytest.mark.parametrize("threads", [6])
def test_concurrent_workers_never_run_the_same_job(queue, threads):
    app_db, owner_db = queue
    story_ids = [_queue_versions(owner_db, [[f"job {i} a"], [f"job {i} b"]])[0]
                 for i in range(12)]
    runs: Counter = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def analyse(data, progress):
        marker = data["manuscript"]["chapters"][0]["scenes"][0]["segments"][0]["text"]
        with lock:
            runs[marker] += 1
        progress("working", 0.5)
        time.sleep(0.01)
        return {"marker": marker}

    def work(n: int) -> list[str]:
        worker = jobs.JobWorker(app_db, analyse=analyse, analyser_version="test-1",
                                config=FAST, name=f"thread-{n}")
        barrier.wait()
        outcomes = []
        while (outcome := worker.run_once()) is not None:
            outcomes.append(outcome)
        return outcomes

    with ThreadPoolExecutor(threads) as pool:
        outcomes = [o for result in pool.map(work, range(threads)) for o in result]
    assert outcomes == ["done"] * 24
    assert sorted(runs) == sorted(f"job {i} {v}" for i in range(12) for v in "ab")
    assert set(runs.values()) == {1}  # every job analysed exactly once
    for story_id in story_ids:
        assert sorted(a.version for a in _analyses(owner_db, story_id)) == [1, 2]
        assert {_job(owner_db, story_id, v).status for v in (1, 2)} == {"done"}


def test_postgresql_claims_skip_locked_rows(queue_backends):
    """Two claims in flight at once on PostgreSQL: while the first claimer's transaction
    holds its row, the second takes the next job instead of waiting or colliding."""
    app_db, owner_db = queue_backends["postgresql"]
    session = owner_db.session(write=True)
    session.execute(delete(Analysis))
    session.execute(delete(Job))
    session.commit()
    session.close()
    first_story, _ = _queue_versions(owner_db, [["p"], ["q"]])
    with psycopg.connect(str(app_db.write_engine.url).replace("postgresql+psycopg",
                                                              "postgresql")) as conn:
        locked = conn.execute("SELECT id FROM jobs ORDER BY run_after, id LIMIT 1 "
                              "FOR UPDATE").fetchone()[0]
        claimed = jobs.claim(app_db, "second", 60)  # does not block on the locked row
        assert claimed is not None and claimed.id != locked
        conn.rollback()
    again = jobs.claim(app_db, "third", 60)
    assert again is not None and again.id == locked
    assert {_job(owner_db, first_story, v).locked_by for v in (1, 2)} == {"second", "third"}


def test_the_standalone_worker_runs_what_is_due(queue):
    """``studio-marketplace worker --once``, with the real analyser."""
    app_db, owner_db = queue
    story_id, _ = _queue_versions(owner_db, [TEXTS, TEXTS[:2]],
                                  analyser_version=str(ANALYSER_VERSION))
    r = subprocess.run([sys.executable, "-m", "studio.marketplace.cli", "worker", "--once",
                        "--database-url", app_db.url, "--log-level", "warning"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "2 jobs run, 2 done"
    analyses = sorted(_analyses(owner_db, story_id), key=lambda a: a.version)
    assert [a.result["segments"] for a in analyses] == [4, 2]
    assert {c["name"] for c in analyses[0].result["characters"]} >= {"Marlow", "Ines"}
    r = subprocess.run([sys.executable, "-m", "studio.marketplace.cli", "worker", "--once",
                        "--database-url", app_db.url], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "0 jobs run"
