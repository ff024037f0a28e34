"""The ``studio`` command: the desktop app, and a few chores that need no window.

    studio [--data-dir DIR]                start the app
    studio --smoke                         build the main window, process events, exit 0
    studio db upgrade|backup|check         database chores
    studio list                            the stories in the library
    studio export-json STORY FILE          a story (id or exact title) to a JSON file
    studio import-json FILE                a story from a JSON file
    studio analyse STORY [--version N] [--json]   the offline analysis (stored, reused)
    studio formats                         the formats it imports and exports
    studio import FILE [--format F] [--into STORY]   a file or folder (Markdown, novelWriter…)
    studio export STORY --format F OUT [--chapters …] [--synopses] [--scene-break X]
                  [--standard-manuscript] [--author A] [--no-front-matter] [--cover IMG]

Errors meant for the user are printed as one clear line on stderr with exit status 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio import __version__
from studio.config import resolve_data_dir
from studio.domain.errors import StudioError
from studio.store.database import StoreError

EXIT_USER_ERROR = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="studio", description="Story Studio — a writing studio.")
    parser.add_argument("--version", action="version", version=f"Story Studio {__version__}")
    parser.add_argument("--data-dir", help="folder holding the database (default: the user data "
                        "folder; or set STUDIO_DATA_DIR)")
    parser.add_argument("--smoke", action="store_true",
                        help="build the main window, process events and exit (packaging check)")
    parser.add_argument("--timing", action="store_true",
                        help="print start-up timings (with --smoke)")
    sub = parser.add_subparsers(dest="command")
    db = sub.add_parser("db", help="database chores")
    db.add_argument("action", choices=["upgrade", "backup", "check"])
    sub.add_parser("list", help="list the stories in the library")
    exp = sub.add_parser("export-json", help="export a story to a JSON file")
    exp.add_argument("story", help="story id or exact title")
    exp.add_argument("file")
    imp = sub.add_parser("import-json", help="import a story from a JSON file")
    imp.add_argument("file")
    ana = sub.add_parser("analyse", help="analyse a story offline (cast, emotions, themes, "
                         "pacing, insights, summaries)")
    ana.add_argument("story", help="story id or exact title")
    ana.add_argument("--version", type=int, help="a saved version instead of the current text")
    ana.add_argument("--json", action="store_true", help="print the whole result as JSON")
    sub.add_parser("formats", help="list the formats Story Studio imports and exports")
    fin = sub.add_parser("import", help="import a file or folder (Markdown, text, novelWriter, "
                         "character cards, lorebooks, Twine, JSON)")
    fin.add_argument("file")
    fin.add_argument("--format", dest="format_id", help="importer id (default: by the file)")
    fin.add_argument("--into", metavar="STORY", help="the story that bible entries or a "
                     "chapter graph go into (id or exact title)")
    fin.add_argument("--chapter-level", type=int, help="Markdown: heading level of chapters")
    fin.add_argument("--scene-level", type=int, help="Markdown: heading level of scenes "
                     "(0: none)")
    fout = sub.add_parser("export", help="export a story (Markdown, HTML, DOCX, EPUB, PDF, "
                          "JSON…)")
    fout.add_argument("story", help="story id or exact title")
    fout.add_argument("--format", dest="format_id", required=True, help="exporter id "
                      "(see `studio formats`)")
    fout.add_argument("out", help="file or folder to write")
    fout.add_argument("--chapters", nargs="+", metavar="CHAPTER",
                      help="only these chapters (numbers from 1, or chapter ids)")
    fout.add_argument("--synopses", action="store_true", help="include synopses")
    fout.add_argument("--scene-break", help="symbol between scenes (instead of scene titles)")
    fout.add_argument("--standard-manuscript", action="store_true",
                      help="DOCX: standard manuscript format")
    fout.add_argument("--author", default="", help="author name (default: the story's)")
    fout.add_argument("--no-front-matter", action="store_true",
                      help="no title page / front matter")
    fout.add_argument("--cover", help="EPUB: cover image")
    fout.add_argument("--character", help="character card: the bible character's id")
    fout.add_argument("--card-spec", choices=["v2", "v3"], default="v3",
                      help="character card: spec version")
    return parser


def _print_analysis(result: dict, cached: bool, as_json: bool) -> None:
    import json

    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return
    pacing = (result.get("pacing") or {}).get("story") or {}
    print(f"{result.get('words', 0):,} words, {result.get('chapters', 0)} chapters, "
          f"{result.get('scenes', 0)} scenes" + ("  (unchanged: the stored analysis)"
                                                  if cached else ""))
    if pacing:
        print(f"Dialogue {pacing.get('dialogue_ratio', 0):.0%}, readability "
              f"{pacing.get('readability', 0):.0f} (Flesch), "
              f"{pacing.get('mean_sentence_words', 0):.1f} words a sentence")
    cast = result.get("cast") or []
    if cast:
        print("Cast: " + ", ".join(f"{c['name']} ({c['mentions']})" for c in cast[:12]))
    keywords = (result.get("themes") or {}).get("keywords") or []
    if keywords:
        print("Themes: " + ", ".join(k["term"] for k in keywords[:10]))
    for insight in result.get("insights") or []:
        print(f"- {insight.get('message', '')}")


def _open_db(args):
    from studio.store.database import Database

    return Database.open(resolve_data_dir(args.data_dir))


def _find_story(db, ref: str) -> int:
    from studio.services import stories

    summaries = stories.list_stories(db)
    if ref.isdigit() and any(s.id == int(ref) for s in summaries):
        return int(ref)
    matches = [s for s in summaries if s.title == ref]
    if len(matches) == 1:
        return matches[0].id
    if not matches:
        raise StudioError(f"No story with id or title {ref!r}. Try `studio list`.")
    raise StudioError(f"Several stories are titled {ref!r}; use the id from `studio list`.")


def _run_command(args) -> int:
    if args.command == "db":
        db = _open_db(args)
        try:
            if args.action == "upgrade":
                r = db.report
                if r.from_revision == r.to_revision:
                    print(f"{db.path}: already at schema {r.to_revision}.")
                else:
                    print(f"{db.path}: upgraded from schema {r.from_revision or '(new)'} "
                          f"to {r.to_revision}." + (f" Backup: {r.backup}" if r.backup else ""))
            elif args.action == "backup":
                print(db.backup("manual"))
            elif args.action == "check":
                problems = db.integrity_check()
                if problems:
                    for p in problems:
                        print(p, file=sys.stderr)
                    return 1
                print(f"{db.path}: ok")
        finally:
            db.close()
        return 0

    if args.command == "formats":
        from studio import cli_formats

        return cli_formats.list_formats()

    from studio.services import portability, stories

    db = _open_db(args)
    try:
        if args.command == "list":
            for s in stories.list_stories(db):
                print(f"{s.id:>4}  {s.title}  ({s.filled_modules}/5 modules, "
                      f"{s.version_count} versions)")
        elif args.command == "export-json":
            portability.export_file(db, _find_story(db, args.story), Path(args.file))
            print(f"Exported to {args.file}")
        elif args.command == "import-json":
            story = portability.import_file(db, Path(args.file))
            print(f"Imported “{story.fields.title}” as story {story.id}")
        elif args.command in ("import", "export"):
            from studio import cli_formats

            return cli_formats.run(db, args, _find_story)
        elif args.command == "analyse":
            from studio.services import analysis

            story_id = _find_story(db, args.story)
            result, cached = analysis.analyse(db, story_id, args.version)
            _print_analysis(result, cached, args.json)
    finally:
        db.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    import multiprocessing

    multiprocessing.freeze_support()  # the analyser's child process in a frozen build
    args = _parser().parse_args(argv)
    try:
        if args.command:
            return _run_command(args)
        from studio.app import run_app

        return run_app(data_dir=resolve_data_dir(args.data_dir), smoke=args.smoke,
                       timing=args.timing)
    except (StoreError, StudioError) as exc:
        print(f"studio: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
