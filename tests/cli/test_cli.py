"""The ``studio`` command, run for real as a subprocess (``python -m studio``).

Covers the database chores, list / import / export (including the lossless round trip), the
refusals that must leave an author's file byte-for-byte untouched, the data folder resolution
and the packaging smoke check.  User errors must be one plain line on stderr with exit status 2,
never a traceback.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from studio.config import DATABASE_FILENAME
from studio.services import custom_fields, stories, versions
from studio.services.stories import ModuleEdit, StoryEdits
from studio.store.database import Database

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "resources" / "samples" / "lighthouse_keepers_daughter.story.json"
SAMPLE_TITLE = json.loads(SAMPLE.read_text(encoding="utf-8"))["story"]["title"]


@pytest.fixture
def cli(tmp_path: Path):
    """Run ``python -m studio ARGS`` in ``tmp_path`` with a private, offscreen environment."""
    home = tmp_path / "home"
    home.mkdir()

    def run(*args: str, data_dir: Path | None = None, env_extra: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ)
        env.pop("STUDIO_DATA_DIR", None)
        # Keep Qt and platformdirs away from the real user's folders.
        env.update(QT_QPA_PLATFORM="offscreen", HOME=str(home),
                   XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"),
                   XDG_CACHE_HOME=str(home / "cache"), PYTHONIOENCODING="utf-8")
        env.update(env_extra or {})
        argv = [sys.executable, "-m", "studio"]
        if data_dir is not None:
            argv += ["--data-dir", str(data_dir)]
        return subprocess.run(argv + list(args), cwd=tmp_path, env=env, capture_output=True,
                              text=True, encoding="utf-8", timeout=timeout)

    return run


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def user_error(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """Exit 2, one ``studio: …`` line on stderr holding every fragment, no traceback."""
    assert result.returncode == 2, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    err = result.stderr.strip()
    assert "Traceback" not in err, err
    assert err.startswith("studio: "), err
    assert len(err.splitlines()) == 1, err
    for fragment in fragments:
        assert fragment.lower() in err.lower(), f"{fragment!r} not in {err!r}"
    return err


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def story_lines(listing: str) -> list[tuple[int, str]]:
    """Parse ``studio list``: ``  id  title  (n/5 modules, m versions)``."""
    rows = []
    for line in listing.splitlines():
        ident, rest = line.strip().split(None, 1)
        rows.append((int(ident), rest.rsplit("  (", 1)[0]))
    return rows


def imported_id(stdout: str) -> int:
    assert stdout.startswith("Imported "), stdout
    return int(stdout.strip().rsplit(" ", 1)[1])


@pytest.fixture
def library(tmp_path: Path, cli) -> tuple[Path, int]:
    """A data folder holding the sample story imported through the CLI; (folder, story id)."""
    data = tmp_path / "library"
    out = ok(cli("import-json", str(SAMPLE), data_dir=data))
    return data, imported_id(out)


# --- db chores ----------------------------------------------------------------------------

def test_db_upgrade_backup_check(tmp_path: Path, cli) -> None:
    data = tmp_path / "fresh"  # does not exist yet: the CLI creates it
    out = ok(cli("db", "upgrade", data_dir=data))
    db_file = data / DATABASE_FILENAME
    assert db_file.is_file()
    assert "upgraded" in out and "(new)" in out and str(db_file) in out
    with closing(sqlite3.connect(db_file)) as conn:
        head = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    assert head in out

    out = ok(cli("db", "upgrade", data_dir=data))
    assert f"already at schema {head}" in out
    assert "upgraded" not in out

    out = ok(cli("db", "backup", data_dir=data))
    backup = Path(out.strip())
    assert backup.is_file()
    assert backup.parent == data / "backups"
    with closing(sqlite3.connect(f"file:{backup}?mode=ro", uri=True)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head

    result = cli("db", "check", data_dir=data)
    assert result.returncode == 0
    assert result.stdout.strip().endswith(": ok")
    assert result.stderr == ""


def test_db_check_on_a_library_with_a_story(library, cli) -> None:
    data, _ = library
    assert ok(cli("db", "check", data_dir=data)).strip() == f"{data / DATABASE_FILENAME}: ok"


# --- list, import, export ------------------------------------------------------------------

def test_import_sample_then_list(library, cli) -> None:
    data, story_id = library
    rows = story_lines(ok(cli("list", data_dir=data)))
    assert rows == [(story_id, SAMPLE_TITLE)]
    assert "5/5 modules" in ok(cli("list", data_dir=data))


def test_export_import_export_is_lossless(library, cli, tmp_path: Path) -> None:
    data, story_id = library
    # Give the story a history worth carrying: edits, metadata, a custom field, versions and a
    # restore, all through the real services.
    db = Database.open(data)
    try:
        stories.save_edits(db, story_id, StoryEdits(
            story={"logline": "A newer logline — with “quotes” and ünïcödé"},
            modules={"idea_spark": ModuleEdit("revised spark", {
                "premise": "Revised premise", "themes": ["loss", "keeping"]})}))
        stories.set_story_metadata(db, story_id, "draft_state", {"pass": 2, "ok": True})
        custom_fields.define_field(db, story_id, "Favourite tide", "text", "character")
        versions.save_version(db, story_id, "First pass")
        stories.save_edits(db, story_id, StoryEdits(story={"genre": "Fantasy"}))
        versions.save_version(db, story_id, "Second pass")
        versions.restore_version(db, story_id, 1)
    finally:
        db.close()

    ok(cli("export-json", str(story_id), "out1.json", data_dir=data))
    new_id = imported_id(ok(cli("import-json", "out1.json", data_dir=data)))
    assert new_id != story_id
    ok(cli("export-json", str(new_id), "out2.json", data_dir=data))

    first = json.loads((tmp_path / "out1.json").read_text(encoding="utf-8"))
    second = json.loads((tmp_path / "out2.json").read_text(encoding="utf-8"))
    assert first == second
    # and the export really carried what was made above
    assert [v["number"] for v in first["versions"]] == [1, 2, 3]
    assert first["versions"][2]["restored_from"] == 1
    assert first["story"]["metadata"]["draft_state"] == {"pass": 2, "ok": True}
    assert first["modules"]["idea_spark"]["input"] == "revised spark"
    assert first["custom_fields"]
    rows = story_lines(ok(cli("list", data_dir=data)))
    assert sorted(i for i, _ in rows) == sorted([story_id, new_id])


def test_export_by_exact_title(library, cli, tmp_path: Path) -> None:
    data, story_id = library
    ok(cli("export-json", SAMPLE_TITLE, "by_title.json", data_dir=data))
    ok(cli("export-json", str(story_id), "by_id.json", data_dir=data))
    by_title = json.loads((tmp_path / "by_title.json").read_text(encoding="utf-8"))
    assert by_title == json.loads((tmp_path / "by_id.json").read_text(encoding="utf-8"))
    assert by_title["story"]["title"] == SAMPLE_TITLE

    user_error(cli("export-json", "No Such Story", "x.json", data_dir=data), "No story")
    user_error(cli("export-json", SAMPLE_TITLE[:-1], "x.json", data_dir=data), "No story")
    ok(cli("import-json", str(SAMPLE), data_dir=data))  # now the title is ambiguous
    user_error(cli("export-json", SAMPLE_TITLE, "x.json", data_dir=data), "Several stories")
    assert not (tmp_path / "x.json").exists()


# --- refusals that must leave the file untouched -------------------------------------------

@pytest.mark.parametrize("command", [["db", "upgrade"], ["db", "check"], ["db", "backup"],
                                     ["list"]])
def test_a_text_file_in_place_of_the_database_is_left_alone(tmp_path: Path, cli,
                                                            command: list[str]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    db_file = data / DATABASE_FILENAME
    db_file.write_bytes(b"hello")
    user_error(cli(*command, data_dir=data), "not a SQLite database")
    assert db_file.read_bytes() == b"hello"
    assert not (data / "backups").exists()
    assert sorted(p.name for p in data.iterdir()) == [DATABASE_FILENAME]


@pytest.mark.parametrize("command", [["db", "upgrade"], ["db", "backup"], ["list"]])
def test_a_database_from_a_newer_version_is_left_alone(tmp_path: Path, cli,
                                                       command: list[str]) -> None:
    data = tmp_path / "data"
    ok(cli("db", "upgrade", data_dir=data))
    db_file = data / DATABASE_FILENAME
    with closing(sqlite3.connect(db_file)) as conn:
        conn.execute("UPDATE alembic_version SET version_num='9999'")
        conn.commit()
    before = sha256(db_file)
    backups_before = sorted((data / "backups").glob("*")) if (data / "backups").exists() else []

    err = user_error(cli(*command, data_dir=data), "newer version")
    assert "9999" in err
    assert sha256(db_file) == before
    backups_after = sorted((data / "backups").glob("*")) if (data / "backups").exists() else []
    assert backups_after == backups_before == []
    # SQLite's read-only look may leave an empty WAL beside the file, but never a page in it.
    wal = db_file.with_name(db_file.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    with closing(sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "9999"


def test_import_of_malformed_json_imports_nothing(library, cli, tmp_path: Path) -> None:
    data, _ = library
    listing = ok(cli("list", data_dir=data))
    bad = tmp_path / "broken.json"
    bad.write_text('{"format": "story-studio.story", "story": {', encoding="utf-8")
    user_error(cli("import-json", str(bad), data_dir=data), "not valid JSON")
    assert ok(cli("list", data_dir=data)) == listing


def test_import_with_a_field_of_the_wrong_type_imports_nothing(library, cli,
                                                               tmp_path: Path) -> None:
    data, _ = library
    listing = ok(cli("list", data_dir=data))
    story = json.loads(SAMPLE.read_text(encoding="utf-8"))
    story["story"]["title"] = "Should never appear"
    story["modules"]["idea_spark"]["output"]["themes"] = "not a list"
    bad = tmp_path / "bad_themes.json"
    bad.write_text(json.dumps(story), encoding="utf-8")
    user_error(cli("import-json", str(bad), data_dir=data), "themes")
    assert ok(cli("list", data_dir=data)) == listing
    with closing(sqlite3.connect(data / DATABASE_FILENAME)) as conn:
        assert conn.execute("SELECT count(*) FROM stories").fetchone()[0] == 1


def test_import_of_a_missing_file(library, cli) -> None:
    data, _ = library
    user_error(cli("import-json", "nowhere.json", data_dir=data), "does not exist")


def test_data_dir_below_a_regular_file(tmp_path: Path, cli) -> None:
    afile = tmp_path / "afile"
    afile.write_text("just a file", encoding="utf-8")
    user_error(cli("db", "upgrade", data_dir=afile / "sub"), "cannot write to its data folder")
    assert afile.read_text(encoding="utf-8") == "just a file"


# --- where the data lives -------------------------------------------------------------------

def test_studio_data_dir_env_var_is_honoured(tmp_path: Path, cli) -> None:
    from_env = tmp_path / "from_env"
    out = ok(cli("db", "upgrade", env_extra={"STUDIO_DATA_DIR": str(from_env)}))
    assert (from_env / DATABASE_FILENAME).is_file()
    assert str(from_env / DATABASE_FILENAME) in out
    ok(cli("import-json", str(SAMPLE), env_extra={"STUDIO_DATA_DIR": str(from_env)}))
    assert story_lines(ok(cli("list", env_extra={"STUDIO_DATA_DIR": str(from_env)}))) == [
        (1, SAMPLE_TITLE)]
    # the platform default was not touched
    assert not any((tmp_path / "home").rglob(DATABASE_FILENAME))


def test_data_dir_option_wins_over_the_env_var(tmp_path: Path, cli) -> None:
    from_env, from_option = tmp_path / "from_env", tmp_path / "from_option"
    ok(cli("db", "upgrade", data_dir=from_option, env_extra={"STUDIO_DATA_DIR": str(from_env)}))
    assert (from_option / DATABASE_FILENAME).is_file()
    assert not from_env.exists()


# --- the packaging smoke check ---------------------------------------------------------------

def test_smoke_builds_the_window_and_opens_the_sample(tmp_path: Path, cli) -> None:
    data = tmp_path / "smoke"
    out = ok(cli("--smoke", data_dir=data, timeout=120))
    assert "story open: True" in out
    assert "marketplace client: ok" in out  # httpx, the outbox drainer, qasync: all started
    assert story_lines(ok(cli("list", data_dir=data))) == [(1, SAMPLE_TITLE)]
    # a second start does not import the sample again
    assert "story open: True" in ok(cli("--smoke", data_dir=data, timeout=120))
    assert len(story_lines(ok(cli("list", data_dir=data)))) == 1


def test_version_flag(cli) -> None:
    from studio import __version__

    assert ok(cli("--version")).strip() == f"Story Studio {__version__}"


def test_the_app_runs_on_its_event_loop_and_closes_cleanly_on_sigterm(tmp_path: Path):
    """`studio` with no command: the real app loop; a SIGTERM (logout, kill) closes the window
    the normal way, so the window state is written and the process exits 0."""
    import signal
    import time

    data = tmp_path / "data"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-m", "studio", "--data-dir", str(data)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the sample story lands on first run
            db_file = data / DATABASE_FILENAME
            if db_file.exists():
                with closing(sqlite3.connect(db_file)) as conn:
                    try:
                        if conn.execute("SELECT count(*) FROM stories").fetchone()[0]:
                            break
                    except sqlite3.OperationalError:
                        pass
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        time.sleep(1.0)  # let the window open the story
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert (data / "window.ini").exists()  # closeEvent ran: geometry and dock state kept


def test_analyse_prints_the_analysis_and_reuses_it(library, cli) -> None:
    data, story_id = library
    first = ok(cli("analyse", str(story_id), data_dir=data))
    assert "2 chapters, 3 scenes" in first and "Wren Calloway" in first
    assert "unchanged" not in first
    again = ok(cli("analyse", SAMPLE_TITLE, data_dir=data))
    assert "unchanged: the stored analysis" in again
    whole = json.loads(ok(cli("analyse", str(story_id), "--json", data_dir=data)))
    assert {"cast", "emotions", "themes", "pacing", "insights", "summaries"} <= set(whole)
    user_error(cli("analyse", "No such story", data_dir=data), "No story")


# --- formats: studio formats / import / export ---------------------------------------------

def test_formats_lists_importers_and_exporters(cli) -> None:
    out = ok(cli("formats"))
    head, tail = out.split("Export:")
    assert head.startswith("Import:") and "markdown " in head and ".md" in head
    assert "json " in head and "html " in tail and "markdown-folder" in tail


def test_import_markdown_then_export_it(cli, tmp_path: Path) -> None:
    data = tmp_path / "lib"
    (tmp_path / "storm.md").write_text(
        "---\ntitle: The Storm\nauthor: Jane Doe\n---\n\n# One\n\n## Arrival\n\nDark night.\n"
        "\n# Two\n\nDawn.\n", encoding="utf-8")
    out = ok(cli("import", "storm.md", data_dir=data)).splitlines()
    assert out[0] == "A new story “The Storm”"
    assert out[1].startswith("2 chapters, 2 scenes")
    assert "Author: Jane Doe" in out
    story_id = imported_id(out[-1])
    ok(cli("export", str(story_id), "--format", "markdown", "back.md", "--chapters", "2",
           data_dir=data))
    text = (tmp_path / "back.md").read_text(encoding="utf-8")
    assert "# Two" in text and "# One" not in text and 'author: "Jane Doe"' in text
    ok(cli("export", "The Storm", "--format", "html", "page", "--synopses", "--scene-break",
           "~", "--author", "J. D.", data_dir=data))
    page = (tmp_path / "page.html").read_text(encoding="utf-8")
    assert '<meta name="author" content="J. D.">' in page and 'href="#chapter-2"' in page


def test_format_refusals_are_one_line(cli, tmp_path: Path) -> None:
    data = tmp_path / "lib"
    (tmp_path / "broken.md").write_text("---\ntitle: x\n\nno end\n", encoding="utf-8")
    user_error(cli("import", "broken.md", data_dir=data), "broken.md", "never closed")
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0")
    user_error(cli("import", "photo.jpg", data_dir=data), "photo.jpg", "cannot import")
    user_error(cli("import", "missing.md", data_dir=data), "missing.md", "does not exist")
    assert ok(cli("list", data_dir=data)).strip() == ""  # nothing was created
    (tmp_path / "s.md").write_text("# A\n\nText.\n", encoding="utf-8")
    story_id = imported_id(ok(cli("import", "s.md", data_dir=data)).splitlines()[-1])
    user_error(cli("export", str(story_id), "--format", "nope", "x", data_dir=data),
               "no export format", "nope")
    user_error(cli("export", str(story_id), "--format", "html", "no/such/dir/x.html",
                   data_dir=data), "does not exist")
    user_error(cli("export", str(story_id), "--format", "html", "x.html", "--chapters", "9",
                   data_dir=data), "no chapter 9")
    assert not (tmp_path / "x.html").exists()
