"""Import novelWriter projects (file versions 1.0 to 1.5) as a whole new story.

A project is a folder with ``nwProject.nwx`` and its documents (see ``novelwriter_project``
for the file versions, ``novelwriter_text`` for the document format and ``novelwriter_notes``
for the scene bible).  Reading never touches the database: it returns an ``ImportPreview``
whose data is a StoryContent-shaped dict that ``services.format_io`` applies in one step.

How the novel becomes chapters, scenes and segments — the documents of every NOVEL root are
read in project order (depth first, as novelWriter's tree shows them) and their headings, not
the files, make the structure, exactly as in novelWriter:

- ``##`` starts a chapter (``##!``: metadata ``unnumbered``), ``###`` a scene (``###!``:
  ``alternative``).  Prose between a chapter heading and its first scene becomes a first scene
  titled like the chapter (metadata ``lead_in``), so no text is lost; a scene with no chapter
  before it gets one, named after its folder (or “Chapter N”).
- ``####`` sections are merged into their scene: a ``* * *`` break, and the section titles in
  the scene's metadata ``sections``.
- ``#`` is a partition: **its title becomes the ``part`` metadata of every chapter after it**
  (until the next partition or title); ``#!`` is a title page.  Partitions, title pages and
  pages with no heading before the first chapter (an introduction) are not chapters: they are
  kept, with their text, in the story's ``pages`` metadata (``kind``, ``title``, ``text``,
  ``before_chapter``).  A root whose documents have no chapter or scene heading at all makes
  each document a scene instead, so a heading-less project still arrives as prose.
- Paragraphs become segments (one per line; the lines of a paragraph joined by line breaks
  follow with ``gap`` 0).  ``%Synopsis:`` becomes the chapter or scene synopsis (``%Short:``
  when there is no synopsis); other comments leave the prose and are kept in the metadata
  ``comments``, footnotes in ``footnotes``.
- ``@pov``, ``@focus``, ``@char``, ``@location`` and the other references stay in the
  chapter's or scene's metadata ``references`` (``{"pov": ["Jane Smith"], …}``) with the tags
  turned into the names the bible uses — no emotions or presence are invented from them.
- novelWriter's status labels map to ours (New/Notes → idea, 2nd/3rd Draft → revised,
  Finished → final, else draft); the label itself stays in ``novelwriter_status``.  Documents
  excluded from novelWriter's build are imported and marked ``excluded``.
- Notes in the other roots become the scene bible; a note among the novel's documents, and
  note text the bible has no place for, is kept in the story's ``notes`` metadata.
- The project's name (or 1.x book title), authors, language and word target become the
  story's title, ``author``/``authors``, language and ``word_target``; novelWriter's counts,
  daily target and auto-replace table are kept under ``metadata["novelwriter"]``.
- ARCHIVE, TRASH and TEMPLATE roots are left out (the archive with a warning).

Every bad project is refused with ``NovelWriterError`` naming the file and the reason, before
anything is created: a missing folder or project file, XML that is not well-formed, an unknown
file version, a listed document that is missing (all of them named with title and handle), a
document that is not UTF-8.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from studio.domain.manuscript import count_words
from studio.formats.novelwriter_notes import NoteSource, build_bible, kept_note
from studio.formats.novelwriter_project import (
    PROJECT_FILE, NwItem, NwProject, content_path, find_project_file, read_document,
    read_project, root_class, walk,
)
from studio.formats.novelwriter_text import (
    Comment, Heading, Keyword, NovelWriterError, NwdDocument, Paragraph, parse_nwd,
)
from studio.formats.registry import STORY, Importer, ImportPreview, Progress, register_importer

__all__ = ["NovelWriterError", "read", "sniff", "map_status"]

FORMAT_ID = "novelwriter"
SKIPPED_CLASSES = ("ARCHIVE", "TRASH", "TEMPLATE")
SCENE_BREAK = "* * *"
MAX_TITLE = 500


def map_status(label: str) -> str:
    """A novelWriter status label (free text, “1st Draft”) as one of our four statuses."""
    text = label.casefold()
    if any(w in text for w in ("final", "finish", "done", "complete", "publish")):
        return "final"
    if any(w in text for w in ("2nd", "3rd", "second", "third", "revis", "edit", "polish")):
        return "revised"
    if any(w in text for w in ("new", "idea", "note", "outline", "plan")):
        return "idea"
    return "draft"


# --- the manuscript ------------------------------------------------------------------------

class _Book:
    """Walks the novel documents' blocks and builds chapters, scenes and pages."""

    def __init__(self) -> None:
        self.chapters: list[dict[str, Any]] = []
        self.pages: list[dict[str, Any]] = []
        self.implicit = 0
        self._reset_root("")

    def _reset_root(self, name: str) -> None:
        self.root_name = name
        self.part: str | None = None
        self.chapter: dict[str, Any] | None = None
        self.scene: dict[str, Any] | None = None
        self.sink: dict[str, Any] | None = None     # where prose goes (a page or a scene)
        self.element: dict[str, Any] | None = None  # what synopses and references describe
        self.pending: list[Comment | Keyword] = []  # read before anything to describe
        self.chapter_doc = ""                       # the document of the chapter's heading
        self.chapter_folder: str | None = None      # the folder an implicit chapter stands for

    def root(self, name: str, multi: bool) -> None:
        self._reset_root(name if multi else "")

    # -- elements --

    def _meta(self, item: NwItem) -> dict[str, Any]:
        meta: dict[str, Any] = {}
        if item.status:
            meta["novelwriter_status"] = item.status
        if not item.active:
            meta["excluded"] = True
        return meta

    def _element(self, element: dict[str, Any]) -> None:
        self.element = element
        for block in self.pending:
            self._describe(block)
        self.pending = []

    def page(self, kind: str, title: str, item: NwItem) -> None:
        page = {"kind": kind, "title": title[:MAX_TITLE], "synopsis": "",
                "before_chapter": len(self.chapters), "lines": [], "metadata": {}}
        if self.root_name:
            page["metadata"]["novel"] = self.root_name
        self.pages.append(page)
        self.chapter = self.scene = None
        self.sink = page
        self._element(page)

    def new_chapter(self, title: str, item: NwItem, unnumbered: bool = False) -> dict:
        meta = self._meta(item)
        if self.part:
            meta["part"] = self.part
        if self.root_name:
            meta["novel"] = self.root_name
        if unnumbered:
            meta["unnumbered"] = True
        chapter = {"title": title[:MAX_TITLE], "synopsis": "", "status": map_status(item.status),
                   "word_target": None, "metadata": meta, "scenes": []}
        self.chapters.append(chapter)
        self.chapter, self.scene, self.sink = chapter, None, None
        self.chapter_doc, self.chapter_folder = item.handle, None
        self._element(chapter)
        return chapter

    def new_scene(self, title: str, item: NwItem, folder: str, **flags: Any) -> dict:
        if self.chapter is None:
            self.implicit += 1
            self.new_chapter(folder or f"Chapter {len(self.chapters) + 1}", item)
            self.chapter_folder = folder
        assert self.chapter is not None
        meta = self._meta(item)
        meta.update({k: v for k, v in flags.items() if v})
        scene = {"title": title[:MAX_TITLE], "synopsis": "", "status": map_status(item.status),
                 "metadata": meta, "segments": []}
        self.chapter["scenes"].append(scene)
        self.scene = self.sink = scene
        return scene

    def _scene_for_prose(self, item: NwItem, folder: str) -> dict[str, Any]:
        """The scene prose goes to: the current one; else, under a chapter heading, a lead-in
        scene titled like the chapter (or like its document, when the prose is a document of
        its own); else a scene of a new chapter."""
        if self.scene is None:
            if self.chapter is None:
                self.new_scene(item.name, item, folder)
                self._element(self.scene)  # type: ignore[arg-type]
            elif item.handle == self.chapter_doc:
                element = self.element
                self.new_scene(self.chapter["title"], item, folder, lead_in=True)
                self.element = element  # a synopsis after lead-in text describes the chapter
            else:
                self.new_scene(item.name, item, folder)
                self._element(self.scene)  # type: ignore[arg-type]
        return self.scene  # type: ignore[return-value]

    # -- blocks --

    def document(self, item: NwItem, folder: str, doc: NwdDocument, as_scene: bool) -> None:
        if self.sink is not None and "lines" in self.sink:
            self.sink, self.element = None, None  # a new document after a page: a new page
        first = next((b for b in doc.blocks if isinstance(b, (Heading, Paragraph))), None)
        if as_scene and isinstance(first, Paragraph):
            if self.chapter_folder is not None and folder != self.chapter_folder:
                self.chapter = None  # heading-less projects: a folder is a chapter
            self.new_scene(item.name, item, folder)
            self._element(self.scene)  # type: ignore[arg-type]
        for block in doc.blocks:
            if isinstance(block, Heading):
                self.heading(block, item, folder)
            elif isinstance(block, Paragraph):
                self.prose(block, item, folder)
            elif self.element is None:
                self.pending.append(block)
            else:
                self._describe(block)

    def heading(self, heading: Heading, item: NwItem, folder: str) -> None:
        title = heading.title or item.name
        if heading.level == 1:
            if not heading.marked:
                self.part = title[:MAX_TITLE]
            else:
                self.part = None
            self.page("title" if heading.marked else "part", title, item)
        elif heading.level == 2:
            self.new_chapter(title, item, unnumbered=heading.marked)
        elif heading.level == 3:
            self.new_scene(title, item, folder, alternative=heading.marked)
            self._element(self.scene)  # type: ignore[arg-type]
        else:
            scene = self._scene_for_prose(item, folder)
            if scene["segments"]:
                scene["segments"].append({"text": SCENE_BREAK})
            scene["metadata"].setdefault("sections", []).append(heading.title)

    def prose(self, paragraph: Paragraph, item: NwItem, folder: str) -> None:
        if self.sink is None:
            if self.chapter is None and self.scene is None:
                self.page("page", item.name, item)
            else:
                self._scene_for_prose(item, folder)
        sink = self.sink
        assert sink is not None
        if "lines" in sink:  # a page
            sink["lines"].append("\n".join(paragraph.lines))
            return
        segments = sink["segments"]
        for i, line in enumerate(paragraph.lines):
            segment: dict[str, Any] = {"text": line}
            if i:
                segment["gap"] = 0  # a line break inside the paragraph
            segments.append(segment)

    def _describe(self, block: Comment | Keyword) -> None:
        element = self.element
        assert element is not None
        meta = element["metadata"]
        if isinstance(block, Keyword):
            refs = meta.setdefault("references", {})
            for value in block.values:
                if value not in refs.setdefault(block.key, []):
                    refs[block.key].append(value)
        elif block.kind == "synopsis":
            element["synopsis"] = "\n".join(filter(None, [element["synopsis"], block.text]))
        elif block.kind == "short":  # the synopsis, unless there is a real one (see finish)
            meta["_short"] = "\n".join(filter(None, [meta.get("_short", ""), block.text]))
        elif block.kind == "footnote":
            meta.setdefault("footnotes", {})[block.key] = block.text
        elif block.text:
            comment = {"text": block.text}
            if block.kind != "plain":
                comment["kind"] = block.kind
            if block.key:
                comment["key"] = block.key
            meta.setdefault("comments", []).append(comment)

    def finish(self, names: dict[str, str]) -> None:
        """Resolve references to the bible's names and tidy the metadata."""
        for element in [*self.pages, *self.chapters,
                        *(s for c in self.chapters for s in c["scenes"])]:
            meta = element["metadata"]
            short = meta.pop("_short", "")
            if short and not element["synopsis"]:
                element["synopsis"] = short
            for key, values in meta.get("references", {}).items():
                if key != "tag":
                    meta["references"][key] = [names.get(" ".join(v.split()).casefold(), v)
                                               for v in values]
            if not meta.get("references", True):
                meta.pop("references")
        for page in self.pages:
            page["text"] = "\n\n".join(page.pop("lines"))
            if not page["metadata"]:
                page.pop("metadata")
            if not page["synopsis"]:
                page.pop("synopsis")


# --- reading -------------------------------------------------------------------------------

def _folder_of(ancestors: list[NwItem]) -> str:
    return next((a.name for a in ancestors if a.type == "FOLDER" and a.name), "")


def _pick_roots(roots: list[NwItem], wanted: str | None, nwx: Path) -> list[NwItem]:
    novel = [r for r in roots if root_class(r) == "NOVEL"]
    if wanted is None:
        return novel
    chosen = [r for r in novel if wanted in (r.handle, r.name)]
    if not chosen:
        known = ", ".join(f"“{r.name}”" for r in novel) or "none"
        raise NovelWriterError(f"{nwx}: the project has no novel folder “{wanted}” "
                               f"(its novel folders: {known}).")
    return chosen


def _missing(project: NwProject, items: list[NwItem]) -> tuple[dict[str, Path | None], list]:
    paths: dict[str, Path | None] = {}
    missing: list[NwItem] = []
    for item in items:
        path = content_path(project, item)
        if path is None and (item.chars or item.words or project.file_version == "1.0"):
            missing.append(item)
        paths[item.handle] = path
    return paths, missing


def read(path: Path, progress: Progress | None = None, *,
         novel_root: str | None = None) -> ImportPreview:
    """Read a novelWriter project (its folder or its ``nwProject.nwx``) into a story preview.

    ``novel_root`` (a novel folder's name or handle) imports only that novel of a project that
    has several; by default every novel folder is imported, one after the other.
    """
    project = read_project(Path(path))
    tree = walk(project)
    novel_roots = _pick_roots(tree.roots, novel_root, project.nwx)
    note_roots = [r for r in tree.roots if root_class(r) not in (*SKIPPED_CLASSES, "NOVEL")]
    skipped = {cls: sum(1 for r in tree.roots if root_class(r) == cls
                        for item, _ in tree.under(r) if item.is_file)
               for cls in SKIPPED_CLASSES}
    wanted: list[tuple[NwItem, NwItem, list[NwItem]]] = []  # (item, root, ancestors)
    for root in [*novel_roots, *note_roots]:
        wanted += [(item, root, anc) for item, anc in tree.under(root) if item.is_file]
    paths, missing = _missing(project, [w[0] for w in wanted])
    if missing:
        listed = "; ".join(f"“{i.name}” (handle {i.handle}, content/{i.handle}.nwd)"
                           for i in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise NovelWriterError(f"{project.folder}: {len(missing)} document"
                               f"{'s are' if len(missing) > 1 else ' is'} listed in "
                               f"{PROJECT_FILE} but missing: {listed}{more}. Nothing was "
                               "imported; restore the files (or a backup) and try again.")
    docs: dict[str, NwdDocument] = {}
    for n, (item, _, _) in enumerate(wanted):
        if progress is not None:
            progress(n, len(wanted))
        file = paths[item.handle]
        text = read_document(file, item) if file is not None else ""
        docs[item.handle] = parse_nwd(text, project.auto_replace)
    if progress is not None:
        progress(len(wanted), len(wanted))

    notes = [NoteSource(item.handle, item.name, root_class(root), root.name, docs[item.handle])
             for item, root, _ in wanted if root in note_roots]
    bible = build_bible(notes)
    book = _Book()
    excluded = 0
    for root in novel_roots:
        book.root(root.name, len(novel_roots) > 1)
        items = [(i, anc) for i, anc in tree.under(root) if i.is_file]
        documents = [(i, anc) for i, anc in items if i.layout != "NOTE"]
        structured = any(h.level in (2, 3) for i, _ in documents
                         for h in docs[i.handle].headings())
        for item, ancestors in items:
            if item.layout == "NOTE":
                bible.notes.append(kept_note(NoteSource(item.handle, item.name, "NOVEL",
                                                        root.name, docs[item.handle])))
                continue
            excluded += not item.active
            book.document(item, _folder_of(ancestors), docs[item.handle], not structured)
    book.finish(bible.names)
    return _preview(project, book, bible, skipped, excluded, novel_roots, tree.orphans,
                    empty=[i.name for i, _, _ in wanted if paths[i.handle] is None])


def _language(raw: str) -> str | None:
    code = raw.strip().replace("_", "-")
    return code if re.fullmatch(r"[a-z]{2,3}(-[A-Za-z]{2,4})?", code) else None


def _preview(project: NwProject, book: _Book, bible: Any, skipped: dict[str, int],
             excluded: int, novel_roots: list[NwItem], orphans: list[NwItem],
             empty: list[str]) -> ImportPreview:
    title = (project.title or project.name or project.folder.name or "novelWriter project")
    title = title[:MAX_TITLE]
    language = _language(project.language) if project.language else None
    names = project.by_handle()
    nw: dict[str, Any] = {"file_version": project.file_version,
                          "app_version": project.app_version, "project_name": project.name}
    for key, value in (("project_id", project.project_id), ("novel_words", project.novel_words),
                       ("notes_words", project.notes_words),
                       ("daily_target", project.daily_target),
                       ("auto_replace", project.auto_replace),
                       ("target_skip_roots", [names[h].name for h in project.target_skip_roots
                                              if h in names])):
        if value:
            nw[key] = value
    metadata: dict[str, Any] = {"source_format": "novelWriter", "novelwriter": nw}
    if project.authors:
        metadata["author"] = ", ".join(project.authors)
        if len(project.authors) > 1:
            metadata["authors"] = list(project.authors)
    if project.language:
        metadata["language"] = language or project.language
    if project.word_target:
        metadata["word_target"] = project.word_target
    if book.pages:
        metadata["pages"] = book.pages
    if bible.notes:
        metadata["notes"] = bible.notes
    chapters = book.chapters
    scenes = sum(len(c["scenes"]) for c in chapters)
    words = sum(count_words(s["text"]) for c in chapters for sc in c["scenes"]
                for s in sc["segments"])
    data = {"title": title, "modules": {}, "manuscript": {"chapters": chapters},
            "scene_bible": bible.bible, "chapter_graph": {"chapters": []},
            "metadata": metadata, "word_target": project.word_target,
            "language": language}
    summary = [f"{len(chapters)} chapter{'s' * (len(chapters) != 1)}, {scenes} "
               f"scene{'s' * (scenes != 1)}, {words:,} words"]
    counts = [f"{n} {k[:-1] if n == 1 else k}" for k, n in bible.counts.items() if n]
    summary.append("Scene bible: " + (", ".join(counts) if counts else "nothing"))
    if project.word_target:
        summary.append(f"Word target: {project.word_target:,} words")
    if project.authors or language:
        summary.append(" · ".join(filter(None, [
            f"By {', '.join(project.authors)}" if project.authors else "",
            f"language {language}" if language else ""])))
    kept = [f"{len(book.pages)} title, part and front pages" if book.pages else "",
            f"{len(bible.notes)} note{'s' * (len(bible.notes) != 1)}" if bible.notes else ""]
    if any(kept):
        summary.append(" and ".join(filter(None, kept)) + " kept in the story's metadata")
    left = [f"{skipped['TRASH']} in the trash" if skipped["TRASH"] else "",
            f"{skipped['TEMPLATE']} templates" if skipped["TEMPLATE"] else ""]
    if any(left):
        summary.append("Left out: " + ", ".join(filter(None, left)))
    summary.append(f"novelWriter file version {project.file_version}"
                   + (f" (written by novelWriter {project.app_version})"
                      if project.app_version else ""))
    warnings = _warnings(book, bible, skipped, excluded, novel_roots, orphans, empty)
    return ImportPreview(format=FORMAT_ID, kind=STORY, title=title, summary=tuple(summary),
                         data=data, warnings=tuple(warnings), source=str(project.folder))


def _warnings(book: _Book, bible: Any, skipped: dict[str, int], excluded: int,
              novel_roots: list[NwItem], orphans: list[NwItem], empty: list[str]) -> list[str]:
    warnings = []
    if skipped["ARCHIVE"]:
        warnings.append(f"{skipped['ARCHIVE']} document{'s' * (skipped['ARCHIVE'] != 1)} in "
                        "the Archive left out, as novelWriter leaves them out of the novel.")
    if len(novel_roots) > 1:
        warnings.append(f"{len(novel_roots)} novel folders (" + ", ".join(
            f"“{r.name}”" for r in novel_roots) + ") imported one after the other; each "
            "chapter's metadata “novel” says which it came from.")
    if excluded:
        warnings.append(f"{excluded} document{'s' * (excluded != 1)} excluded from "
                        "novelWriter's build imported anyway, marked “excluded” in their "
                        "metadata.")
    if book.implicit:
        warnings.append(f"{book.implicit} chapter{'s' * (book.implicit != 1)} made for scenes "
                        "that had no chapter heading before them.")
    if orphans:
        warnings.append(f"{len(orphans)} item{'s' * (len(orphans) != 1)} whose folder no "
                        "longer exists left out: " + ", ".join(f"“{o.name}”"
                                                               for o in orphans[:5]))
    if empty:
        warnings.append(f"{len(empty)} empty document{'s' * (len(empty) != 1)} had no file "
                        "(novelWriter had counted no text in them): " + ", ".join(
                            f"“{n}”" for n in empty[:5]))
    if bible.shortened:
        warnings.append(f"{bible.shortened} note{'s' * (bible.shortened != 1)} too long for "
                        "the scene bible shortened there; the whole text is in the story's "
                        "notes.")
    if bible.overflow:
        warnings.append(f"{bible.overflow} entr{'ies' if bible.overflow != 1 else 'y'} past "
                        "the scene bible's limits (5,000 characters or places, 500 world rules…) "
                        "kept in the story's notes instead.")
    if bible.renamed:
        warnings.append("Names used twice made unique: " + "; ".join(bible.renamed[:5]))
    return warnings


def sniff(path: Path) -> bool:
    """A folder with ``nwProject.nwx``, or a ``.nwx`` file that is novelWriter's XML."""
    path = Path(path)
    try:
        nwx = find_project_file(path)
        with nwx.open("rb") as fh:
            head = fh.read(2048)
    except (OSError, NovelWriterError):
        return False
    return b"<novelWriterXML" in head


register_importer(Importer(id=FORMAT_ID, label="novelWriter project", extensions=(".nwx",),
                           read=read, sniff=sniff, folders=True))
