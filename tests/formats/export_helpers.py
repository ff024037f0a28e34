"""Books to export in the DOCX, EPUB and PDF tests, and a way to look at the results.

``sample_doc`` is the shipped sample story read the way the export service reads it
(``collect_content``); ``novel_doc`` is a longer made-up novel whose every paragraph says where
it belongs ("Chapter 3, scene 2, paragraph 5"), so tests can check order and completeness.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from studio.formats.registry import ExportDoc
from studio.services import portability, publishing
from studio.store.database import Database

SHOTS = Path("/tmp/shots")

CHAPTER_TITLES = ("The Glove", "The Board’s Letter", "Low Water", "The Oar", "Storm",
                  "What the Sea Keeps")
FILLER = ("The tide went out across the Neck and left the sand ribbed and shining, and the "
          "gulls walked on it as if they had paid for it. ")


def sample_doc(db: Database) -> ExportDoc:
    """The sample story (“The Lighthouse Keeper’s Daughter”, two chapters) as an ExportDoc."""
    story = portability.import_sample(db)
    with db.session() as s:
        content = publishing.collect_content(s, story.id)
    return ExportDoc(title=story.fields.title, content=content, logline=story.fields.logline,
                     genre=story.fields.genre, metadata=dict(story.metadata))


def paragraph(chapter: int, scene: int, number: int) -> str:
    return f"Chapter {chapter}, scene {scene}, paragraph {number}. " + FILLER * 3


def novel_doc(chapters: int = 6, scenes: int = 2, paragraphs: int = 12,
              author: str = "Jane Q. Writer") -> ExportDoc:
    """A novel of ``chapters`` × ``scenes`` × ``paragraphs`` with emphasis, a heading line and
    a scene-break line inside chapter 2's first scene, and synopses everywhere."""
    content_chapters = []
    for c in range(1, chapters + 1):
        content_scenes = []
        for s in range(1, scenes + 1):
            segments = [{"id": f"seg_{c}_{s}_{p}", "text": paragraph(c, s, p)}
                        for p in range(1, paragraphs + 1)]
            if c == 2 and s == 1:
                segments[1]["text"] = ("She said it *very* quietly, and **meant** it: "
                                       "_nobody_ keeps the sea’s books.")
                segments.insert(3, {"id": "seg_head", "text": "# The Ledger"})
                segments.insert(6, {"id": "seg_break", "text": "* * *"})
            content_scenes.append({"id": f"scene_{c}_{s}", "title": f"Scene {c}.{s}",
                                   "meta": {"synopsis": f"Synopsis of scene {c}.{s}."},
                                   "segments": segments})
        content_chapters.append({
            "id": f"chap_{c}", "title": CHAPTER_TITLES[(c - 1) % len(CHAPTER_TITLES)],
            "meta": {"synopsis": f"Synopsis of chapter {c}."}, "scenes": content_scenes})
    content = {"modules": {}, "manuscript": {"chapters": content_chapters},
               "scene_bible": {}, "chapter_graph": {}}
    return ExportDoc(title="The Lighthouse Keeper’s Daughter", content=content,
                     logline="A keeper of lost things learns what to let go.",
                     genre="Literary", metadata={"author": author, "language": "en"})


def pdf_pages_to_png(pdf: Path, name: str, first: int = 1, last: int = 3) -> list[Path]:
    """Render pages with pdftoppm at 60 dpi into /tmp/shots/<name>-N.png; the files."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", str(first), "-l", str(last),
                    str(pdf), str(SHOTS / name)], check=True, timeout=120)
    return sorted(SHOTS.glob(f"{name}-*.png"))


def office_to_pdf(document: Path, out_dir: Path) -> Path | None:
    """LibreOffice's PDF of a DOCX when LibreOffice is installed (for looking), else None."""
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        return None
    subprocess.run([office, "--headless", f"-env:UserInstallation=file://{out_dir}/lo",
                    "--convert-to", "pdf", "--outdir", str(out_dir), str(document)],
                   check=True, timeout=300, capture_output=True)
    pdf = out_dir / (document.stem + ".pdf")
    return pdf if pdf.exists() else None


def pdf_text(pdf: Path, first: int | None = None, last: int | None = None) -> str:
    """pdftotext -layout of the whole PDF or of pages first..last."""
    command = ["pdftotext", "-layout"]
    if first is not None:
        command += ["-f", str(first), "-l", str(last if last is not None else first)]
    result = subprocess.run([*command, str(pdf), "-"], check=True, capture_output=True,
                            text=True, timeout=120)
    return result.stdout


def pdf_pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True,
                          timeout=60).stdout
    return int(next(line.split()[-1] for line in info.splitlines()
                    if line.startswith("Pages:")))
