"""A stand-in author for the crash-safety test: an endless autosave stream, killed from outside.

    python -m tests.store._writer DATA_DIR

Prints ``story <id>`` once the story exists, then for i = 1, 2, 3, … saves the Idea Spark
module (input text growing with i, ending in ``#i``) and, only after ``save_edits`` has
returned (the transaction is committed), prints ``i``.  Every 7th step it also saves a version
and, once that has returned, prints ``v<number>``.  Every line is flushed at once, so a line the
parent has read is a write the app has acknowledged.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(data_dir: str) -> None:
    from studio.services.stories import ModuleEdit, StoryEdits, create_story, save_edits
    from studio.services.versions import save_version
    from studio.store.database import Database

    db = Database.open(Path(data_dir))
    story = create_story(db, "Crash test")
    print(f"story {story.id}", flush=True)
    i = 0
    while True:
        i += 1
        edit = ModuleEdit(
            input_text="word " * i + f"#{i}",
            output={"premise": f"draft {i}", "logline": f"logline {i}",
                    "themes": [f"theme {n}" for n in range(i % 5)]},
        )
        save_edits(db, story.id, StoryEdits(modules={"idea_spark": edit}))
        sys.stdout.write(f"{i}\n")
        sys.stdout.flush()
        if i % 7 == 0:
            info = save_version(db, story.id, f"v{i}")
            sys.stdout.write(f"v{info.number}\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1])
