"""Kill the app while it saves a scene: nothing acknowledged is lost, and the full-text index
agrees with the prose after reopening."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from studio.services import manuscript as ms
from studio.store.database import Database

WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from studio.store.database import Database
    from studio.services import manuscript as ms, stories
    db = Database.open(Path(sys.argv[1]))
    story = stories.create_story(db, "Crash")
    chapter = ms.add_chapter(db, story.id, "One")
    scene = ms.add_scene(db, story.id, chapter.uid, "Typing")
    print(f"scene {story.id} {scene.uid}", flush=True)
    paragraphs = []
    i = 0
    while True:
        i += 1
        if i % 5 == 0:
            paragraphs.append(f"A new paragraph number {i}.")
        line = paragraphs[-1] if paragraphs else ""
        text = "\\n".join(paragraphs[:-1] + [line + f" word{i} mark{i}"]) if paragraphs \\
            else f"word{i} mark{i}"
        ms.save_scene_text(db, story.id, scene.uid, text)
        print(i, flush=True)
""")


@pytest.mark.parametrize("kill_after", [3, 17, 40, None])
def test_kill_while_saving_scene_text(tmp_path, kill_after):
    data = tmp_path / "data"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(data)], stdout=subprocess.PIPE,
                            text=True, env=dict(os.environ))
    try:
        header = proc.stdout.readline().split()
        story_id, scene_uid = int(header[1]), header[2]
        target = kill_after or random.randint(5, 60)
        acked = 0
        while acked < target:
            line = proc.stdout.readline()
            assert line, "the writer died on its own"
            acked = int(line)
        if kill_after is None:
            time.sleep(random.random() * 0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    db = Database.open(data)
    try:
        assert db.integrity_check() == []
        assert ms.verify_search_index(db) is True  # the index was in step, no rebuild needed
        text = ms.load_scene(db, story_id, scene_uid).text
        last = int(text.rsplit("mark", 1)[1])
        assert last >= acked, f"acknowledged save {acked} lost (found {last})"
        hits = ms.search(db, story_id, f"mark{last}")
        assert hits.total == 1
        assert ms.search(db, story_id, f"mark{last - 1}").total == 0  # replaced, not duplicated
    finally:
        db.close()
