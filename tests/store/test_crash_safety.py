"""A crash or kill at any moment loses at most the write in flight; the file stays sound.

The promise to authors is "a crash loses at most the last 2 s of typing": the editor autosaves
about every 2 s, so that promise holds if every autosave that *returned* survives a kill.  Here a
separate process (``_writer.py``) plays the author's autosave stream at full speed, printing each
step only after ``save_edits`` (or ``save_version``) has committed, and is killed with SIGKILL at
varied moments — mid-edit, mid-version-save, even mid-migration at start-up.  Afterwards the
database must pass SQLite's own checks, open again, hold every acknowledged write, and number its
versions without gaps.
"""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

from studio.config import DATABASE_FILENAME
from studio.services.stories import ModuleEdit, StoryEdits, open_story, save_edits
from studio.store.database import Database


WRITER = Path(__file__).with_name("_writer.py")
LINE_TIMEOUT = 20.0  # seconds to wait for the writer's next line before giving up


class Writer:
    """The writer subprocess with a thread draining its stdout, so reads can time out."""

    def __init__(self, data_dir: Path):
        env = dict(os.environ, PYTHONUNBUFFERED="1", QT_QPA_PLATFORM="offscreen")
        self.proc = subprocess.Popen(
            [sys.executable, str(WRITER), str(data_dir)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def next_line(self) -> str:
        try:
            line = self.lines.get(timeout=LINE_TIMEOUT)
        except queue.Empty:
            self.kill()
            pytest.fail(f"writer printed nothing for {LINE_TIMEOUT}s")
        if line is None:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            pytest.fail(f"writer ended on its own (exit {self.proc.poll()}):\n{err}")
        self.seen.append(line)
        return line

    def wait_for_edits(self, n: int) -> None:
        """Block until the writer has acknowledged ``n`` committed edits."""
        while True:
            line = self.next_line()
            if line.isdigit() and int(line) >= n:
                return

    def kill(self) -> None:
        """SIGKILL (no cleanup, no atexit, no flush) and collect everything it had printed."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._thread.join(timeout=30)
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.seen.append(line)
        if self.proc.stderr is not None:
            self.stderr = self.proc.stderr.read()
            self.proc.stderr.close()
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def acknowledged(self) -> tuple[int | None, int, int]:
        """(story id, last acknowledged edit step, last acknowledged version number)."""
        story_id = None
        last_edit = last_version = 0
        for line in self.seen:
            if line.startswith("story "):
                story_id = int(line.split()[1])
            elif line.startswith("v"):
                last_version = int(line[1:])
            elif line.isdigit():
                last_edit = int(line)
        return story_id, last_edit, last_version


def _sqlite_checks(path: Path) -> None:
    """SQLite's own verdict on the file, with a plain connection (as any tool would see it)."""
    assert path.exists()
    with closing(sqlite3.connect(path)) as conn:
        integrity = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        assert integrity == ["ok"], integrity
        fk = conn.execute("PRAGMA foreign_key_check").fetchall()
        assert fk == [], fk


def _versions(path: Path, story_id: int) -> list[tuple[int, str]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(
            "SELECT number, label FROM versions WHERE story_id=? ORDER BY number", (story_id,)
        ).fetchall()


def _check_after_kill(data_dir: Path, writer: Writer) -> None:
    path = data_dir / DATABASE_FILENAME
    story_id, last_edit, last_version = writer.acknowledged()
    assert story_id is not None, f"writer never created its story: {writer.seen[:5]}"
    context = f"acknowledged edit {last_edit}, version {last_version}"

    # (a) the file is sound by SQLite's own checks
    _sqlite_checks(path)

    # (b) the app opens it again, with nothing left to do, and it passes the app's own check
    db = Database.open(data_dir)
    try:
        assert db.report.from_revision == db.report.to_revision
        assert db.report.backup is None
        assert db.integrity_check() == []

        # (c) every acknowledged edit is there; at most the one in flight is missing
        module = open_story(db, story_id).modules["idea_spark"]
        stored = int(module.input_text.rsplit("#", 1)[1]) if module.input_text else 0
        assert stored in (last_edit, last_edit + 1), f"stored #{stored}, {context}"
        if stored:
            assert module.input_text == "word " * stored + f"#{stored}"
            assert module.output["premise"] == f"draft {stored}", context  # in step with input

        # (d) versions are numbered 1..n without gaps, and none acknowledged is missing
        versions = _versions(path, story_id)
        numbers = [n for n, _ in versions]
        assert numbers == list(range(1, len(numbers) + 1)), numbers
        assert len(numbers) in (last_version, last_version + 1), f"{numbers}, {context}"
        assert all(label == f"v{7 * n}" for n, label in versions), versions
        assert len(numbers) <= stored // 7

        # and the database takes new writes after the crash
        save_edits(db, story_id, StoryEdits(modules={"idea_spark": ModuleEdit(
            "after the crash", {"premise": "recovered"})}))
        assert open_story(db, story_id).modules["idea_spark"].input_text == "after the crash"
    finally:
        db.close()
    _sqlite_checks(path)


# Kill points: (acknowledged edits to wait for, extra random delay in ms before the kill).
# The random delays land the kill anywhere in a write, including inside a version save.
KILL_POINTS = [
    pytest.param(5, 0, id="after-5"),
    pytest.param(23, 0, id="after-23"),
    pytest.param(61, 0, id="after-61"),
    pytest.param(5, 200, id="after-5-plus-random"),
    pytest.param(23, 200, id="after-23-plus-random"),
    pytest.param(61, 200, id="after-61-plus-random"),
    pytest.param(150, 200, id="after-150-plus-random"),
]


@pytest.mark.parametrize(("edits", "max_delay_ms"), KILL_POINTS)
def test_kill_during_autosave_loses_nothing_acknowledged(data_dir: Path, edits: int,
                                                         max_delay_ms: int) -> None:
    delay = random.uniform(0, max_delay_ms) / 1000
    writer = Writer(data_dir)
    try:
        writer.wait_for_edits(edits)
        if delay:
            time.sleep(delay)
    finally:
        writer.kill()
    assert writer.proc.returncode == -signal.SIGKILL, writer.stderr
    _check_after_kill(data_dir, writer)


def test_repeated_kills_on_one_library(data_dir: Path) -> None:
    """Crash, reopen, crash again: damage must not accumulate over several lives."""
    for round_ in range(3):
        writer = Writer(data_dir)
        try:
            writer.wait_for_edits(random.randint(3, 40))
            time.sleep(random.uniform(0, 0.1))
        finally:
            writer.kill()
        assert writer.proc.returncode == -signal.SIGKILL, writer.stderr
        _check_after_kill(data_dir, writer)
    with closing(sqlite3.connect(data_dir / DATABASE_FILENAME)) as conn:
        assert conn.execute("SELECT count(*) FROM stories").fetchone()[0] == 3


@pytest.mark.parametrize("delay_ms", [0, 5, 10, 20, 30, 45])
def test_kill_during_start_up_leaves_an_openable_folder(data_dir: Path, delay_ms: int) -> None:
    """A kill while the database is being created or migrated leaves no half-made schema.

    The file appears when the migration starts and the first edit follows some 40 ms later,
    so killing 0–45 ms (plus jitter) after the file appears lands inside the migration, the
    story's creation or the first save.
    """
    path = data_dir / DATABASE_FILENAME
    writer = Writer(data_dir)
    try:
        deadline = time.monotonic() + LINE_TIMEOUT
        while not path.exists() and writer.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.0005)
        assert path.exists(), "the writer never created the database"
        time.sleep((delay_ms + random.uniform(0, 5)) / 1000)
    finally:
        writer.kill()
    assert writer.proc.returncode == -signal.SIGKILL, writer.stderr
    _sqlite_checks(path)
    db = Database.open(data_dir)
    try:
        assert db.integrity_check() == []
        with closing(sqlite3.connect(path)) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        assert {"stories", "modules", "versions", "alembic_version"} <= tables
        assert revision == [(db.report.to_revision,)]
    finally:
        db.close()
    _sqlite_checks(path)
    story_id, _, _ = writer.acknowledged()
    if story_id is not None:  # it got as far as creating its story: that must have survived
        _check_after_kill(data_dir, writer)


def test_writer_output_format_is_what_the_checks_expect(data_dir: Path) -> None:
    """Guard the harness itself: lines are ``story N``, edit steps, and ``vN`` after step 7."""
    writer = Writer(data_dir)
    try:
        writer.wait_for_edits(15)
    finally:
        writer.kill()
    assert writer.seen[0].startswith("story ")
    assert writer.seen[1:8] == [str(i) for i in range(1, 8)]
    assert writer.seen[8] == "v1"
    json.dumps(writer.seen)  # plain text only
