"""novelWriter's project file (``nwProject.nwx``), file versions 1.0 to 1.5, and its content.

What changed between the versions (learnt from novelWriter's ``projectxml.py`` history and its
test projects; the code here is ours):

- **1.0** (novelWriter ≤ 0.6): documents live in sixteen ``data_<first hex digit>/`` folders as
  ``<other 12 digits>_main.nwd``; auto-replace entries are ``<A>B</A>`` elements;
- **1.1** (≤ 0.10): one ``content/<handle>.nwd`` folder, as ever since;
- **1.2** (≤ 1.5): auto-replace as ``<entry key="A">B</entry>``;
- **1.3** (≤ 2.0 beta): only two layouts, DOCUMENT and NOTE (before: TITLE, PAGE, BOOK,
  PARTITION, UNNUMBERED, CHAPTER, SCENE — all documents);
- in 1.0–1.3 every item is ``<item handle= parent= order=>`` with ``<name>``, ``<type>``,
  ``<class>``, ``<status>`` (a label: the status of novel items, the importance of notes),
  ``<exported>``, ``<layout>``, ``<wordCount>``… child elements, and the trash root has the type
  TRASH (its children keep the class they had, so the trash is found by ancestry);
- **1.4** (2.0 RC): items carry ``root``, ``type``, ``class`` and ``layout`` as attributes with
  ``<meta …/>`` and ``<name status= import= exported=>``; status and importance are keyed
  entries in ``<settings>``;
- **1.5** (2.0 and later): ``exported`` becomes ``active``, counts move to attributes of
  ``<content>``, ``<projectTarget>`` (revision 7) holds the project's word target.

Anything else — 0.9, 2.0, 9.9, a missing version — is refused by name: guessing at a format we
do not know could import a project wrongly without anyone noticing.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from studio.formats.novelwriter_text import NovelWriterError

PROJECT_FILE = "nwProject.nwx"
FILE_VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4", "1.5")
MAX_PROJECT_BYTES = 32 * 1024 * 1024     # the project XML of a huge project is ~1 MB
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024    # novelWriter itself warns far below this
_HANDLE_RE = re.compile(r"[0-9a-f]{13}")
_NONE = ("", "none")


@dataclass
class NwItem:
    handle: str
    parent: str | None
    order: int
    type: str            # ROOT, FOLDER, FILE (TRASH: a 1.0–1.3 trash root)
    cls: str             # NOVEL, CHARACTER, WORLD, PLOT, TIMELINE, OBJECT, ENTITY, CUSTOM,
    layout: str          # ARCHIVE, TEMPLATE, TRASH; layout DOCUMENT or NOTE (files only)
    name: str
    status: str = ""     # the status (novel items) or importance (notes) label
    active: bool = True  # novelWriter's "include when building"
    words: int = 0
    chars: int = 0
    index: int = 0       # position in the XML, to break order ties the way it was written

    @property
    def is_file(self) -> bool:
        return self.type == "FILE"


@dataclass
class NwProject:
    folder: Path
    nwx: Path
    file_version: str
    app_version: str = ""
    project_id: str = ""
    name: str = ""
    title: str = ""                 # 1.0–1.4 had a book title besides the project name
    authors: list[str] = field(default_factory=list)
    language: str = ""
    word_target: int | None = None
    daily_target: int | None = None
    target_skip_roots: list[str] = field(default_factory=list)
    auto_replace: dict[str, str] = field(default_factory=dict)
    novel_words: int | None = None
    notes_words: int | None = None
    items: list[NwItem] = field(default_factory=list)

    def by_handle(self) -> dict[str, NwItem]:
        return {item.handle: item for item in self.items}


# --- reading the XML -----------------------------------------------------------------------

def find_project_file(path: Path) -> Path:
    """The ``nwProject.nwx`` of a project folder, or the ``.nwx`` file itself."""
    path = Path(path)
    if path.is_dir():
        nwx = path / PROJECT_FILE
        if not nwx.is_file():
            raise NovelWriterError(f"{path}: this folder is not a novelWriter project "
                                   f"(it has no {PROJECT_FILE}).")
        return nwx
    if path.is_file():
        if path.suffix.lower() != ".nwx":
            raise NovelWriterError(f"{path}: not a novelWriter project — choose the project "
                                   f"folder or its {PROJECT_FILE}.")
        return path
    raise NovelWriterError(f"{path}: there is no such folder or file.")


def read_project(path: Path) -> NwProject:
    """Read a project folder's (or a ``.nwx`` file's) project XML: settings and item tree."""
    nwx = find_project_file(path)
    try:
        if nwx.stat().st_size > MAX_PROJECT_BYTES:
            raise NovelWriterError(f"{nwx}: the project file is larger than "
                                   f"{MAX_PROJECT_BYTES // (1024 * 1024)} MB; it is not a "
                                   "novelWriter project file.")
        raw = nwx.read_bytes()
    except OSError as exc:
        raise NovelWriterError(f"{nwx}: cannot be read ({exc.strerror or exc}).") from None
    if b"<!DOCTYPE" in raw[:4096].upper() or b"<!ENTITY" in raw.upper():
        # novelWriter never writes a DTD; refusing one keeps entity expansion out of reach.
        raise NovelWriterError(f"{nwx}: the project file declares a DTD or entities, which "
                               "novelWriter never writes; it is not imported.")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise NovelWriterError(f"{nwx}: the project file is not well-formed XML (line {line}, "
                               f"column {column + 1}: {_parse_reason(exc)}).") from None
    if root.tag != "novelWriterXML":
        raise NovelWriterError(f"{nwx}: not a novelWriter project file (its top element is "
                               f"<{root.tag}>, not <novelWriterXML>).")
    version = (root.get("fileVersion") or "").strip()
    if not version:
        raise NovelWriterError(f"{nwx}: the project file does not say its file version; "
                               "Story Studio reads novelWriter file versions 1.0 to 1.5.")
    if version not in FILE_VERSIONS:
        raise NovelWriterError(f"{nwx}: novelWriter file version {version!s:.20} is not one "
                               "Story Studio knows (it reads 1.0 to 1.5). Open and save the "
                               "project in a novelWriter that writes 1.5, then import again.")
    project = NwProject(folder=nwx.parent, nwx=nwx, file_version=version,
                        app_version=root.get("appVersion", ""))
    statuses: dict[str, str] = {}
    importance: dict[str, str] = {}
    for section in root:
        if section.tag == "project":
            _read_meta(section, project)
        elif section.tag == "settings":
            _read_settings(section, project, statuses, importance)
    content = root.find("content")
    if content is None:
        raise NovelWriterError(f"{nwx}: the project file has no <content> section, so there "
                               "is nothing to import.")
    _read_counts(content, project)
    legacy = version < "1.4"
    seen: set[str] = set()
    for index, node in enumerate(content.findall("item")):
        item = (_legacy_item(node, index) if legacy
                else _item(node, index, statuses, importance))
        if not _HANDLE_RE.fullmatch(item.handle):
            raise NovelWriterError(f"{nwx}: item {index + 1} (“{item.name}”) has the handle "
                                   f"{item.handle!r:.40}, which is not a novelWriter handle "
                                   "(13 hexadecimal digits).")
        if item.handle in seen:
            raise NovelWriterError(f"{nwx}: the handle {item.handle} is used by two items.")
        seen.add(item.handle)
        project.items.append(item)
    return project


def _parse_reason(exc: ET.ParseError) -> str:
    text = str(exc)
    return text.split(":")[0] if ":" in text else text


def _text(node: ET.Element | None) -> str:
    return " ".join((node.text or "").split()) if node is not None else ""


def _int(value: str | None) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _bool(value: str | None, default: bool = True) -> bool:
    text = (value or "").strip().lower()
    if text in ("yes", "true", "1"):
        return True
    if text in ("no", "false", "0"):
        return False
    return default


def _read_meta(section: ET.Element, project: NwProject) -> None:
    project.project_id = section.get("id", "")
    for node in section:
        if node.tag == "name":
            project.name = _text(node)
        elif node.tag == "title":
            project.title = _text(node)
        elif node.tag == "author" and _text(node):
            project.authors.append(_text(node))


def _read_settings(section: ET.Element, project: NwProject, statuses: dict[str, str],
                   importance: dict[str, str]) -> None:
    for node in section:
        if node.tag == "language" and _text(node).lower() not in _NONE:
            project.language = _text(node)
        elif node.tag == "spellLang" and not project.language \
                and _text(node).lower() not in _NONE:
            project.language = _text(node)
        elif node.tag == "projectTarget":
            target = _int(node.text)
            project.word_target = target if target and target > 0 else None
        elif node.tag == "dailyTarget":
            target = _int(node.text)
            project.daily_target = target if target and target > 0 else None
        elif node.tag == "targetSkipRoots":
            project.target_skip_roots = [_text(e) for e in node if e.tag == "entry"]
        elif node.tag == "autoReplace":
            for entry in node:
                if entry.tag == "entry" and entry.get("key"):
                    project.auto_replace[entry.get("key", "")] = entry.text or ""
                elif entry.tag != "entry":  # 1.0–1.1: <A>B</A>
                    project.auto_replace[entry.tag] = entry.text or ""
        elif node.tag == "novelWordCount":   # 1.2–1.4; an attribute of <content> in 1.5
            project.novel_words = _int(node.text)
        elif node.tag == "notesWordCount":
            project.notes_words = _int(node.text)
        elif node.tag in ("status", "importance"):
            table = statuses if node.tag == "status" else importance
            for entry in node:
                if entry.tag == "entry" and entry.get("key"):
                    table[entry.get("key", "")] = _text(entry)


def _read_counts(content: ET.Element, project: NwProject) -> None:
    if content.get("novelWords") is not None:
        project.novel_words = _int(content.get("novelWords"))
    if content.get("notesWords") is not None:
        project.notes_words = _int(content.get("notesWords"))


def _parent(value: str | None) -> str | None:
    value = (value or "").strip()
    return None if value.lower() in _NONE else value


def _item(node: ET.Element, index: int, statuses: dict[str, str],
          importance: dict[str, str]) -> NwItem:
    """An item as 1.4 and 1.5 write it: attributes, ``<meta/>`` and ``<name>``."""
    item = NwItem(handle=(node.get("handle") or "").strip(), parent=_parent(node.get("parent")),
                  order=_int(node.get("order")) or 0, type=(node.get("type") or "").upper(),
                  cls=(node.get("class") or "").upper(),
                  layout=(node.get("layout") or "").upper(), name="", index=index)
    meta = node.find("meta")
    if meta is not None:
        item.words = max(0, _int(meta.get("wordCount")) or 0)
        item.chars = max(0, _int(meta.get("charCount")) or 0)
    name = node.find("name")
    if name is not None:
        item.name = _text(name)
        key_status, key_import = name.get("status", ""), name.get("import", "")
        if item.cls in ("NOVEL", "ARCHIVE"):
            item.status = statuses.get(key_status, "")
        else:
            item.status = importance.get(key_import, "")
        item.active = _bool(name.get("active", name.get("exported")))
    return item


_OLD_DOCUMENT_LAYOUTS = {"TITLE", "PAGE", "BOOK", "PARTITION", "UNNUMBERED", "CHAPTER",
                         "SCENE"}


def _legacy_item(node: ET.Element, index: int) -> NwItem:
    """An item as 1.0 to 1.3 write it: every field a child element."""
    fields = {child.tag: child for child in node}
    layout = _text(fields.get("layout")).upper()
    if layout in _OLD_DOCUMENT_LAYOUTS:
        layout = "DOCUMENT"
    return NwItem(handle=(node.get("handle") or "").strip(),
                  parent=_parent(node.get("parent")), order=_int(node.get("order")) or 0,
                  type=_text(fields.get("type")).upper(), cls=_text(fields.get("class")).upper(),
                  layout=layout, name=_text(fields.get("name")),
                  status=_text(fields.get("status")) if _text(fields.get("status")).lower()
                  != "none" else "",
                  active=_bool(_text(fields.get("exported")) or None),
                  words=max(0, _int(_text(fields.get("wordCount"))) or 0),
                  chars=max(0, _int(_text(fields.get("charCount"))) or 0), index=index)


# --- the tree ------------------------------------------------------------------------------

@dataclass
class TreeWalk:
    roots: list[NwItem]                       # in project order
    children: dict[str, list[NwItem]]         # handle → children in project order
    orphans: list[NwItem]                     # items whose parent does not exist

    def under(self, root: NwItem) -> list[tuple[NwItem, list[NwItem]]]:
        """Every item below ``root``, depth first in project order, with its ancestors
        (nearest first, the root last)."""
        out: list[tuple[NwItem, list[NwItem]]] = []
        stack: list[tuple[NwItem, list[NwItem]]] = [(c, [root]) for c in
                                                    reversed(self.children.get(root.handle, []))]
        seen = {root.handle}
        while stack:
            item, ancestors = stack.pop()
            if item.handle in seen:
                continue
            seen.add(item.handle)
            out.append((item, ancestors))
            for child in reversed(self.children.get(item.handle, [])):
                stack.append((child, [item, *ancestors]))
        return out


def walk(project: NwProject) -> TreeWalk:
    items = project.by_handle()
    children: dict[str, list[NwItem]] = {}
    roots: list[NwItem] = []
    orphans: list[NwItem] = []
    for item in project.items:
        if item.parent is None or item.type in ("ROOT", "TRASH"):
            roots.append(item)
        elif item.parent in items and item.parent != item.handle:
            children.setdefault(item.parent, []).append(item)
        else:
            orphans.append(item)
    for kids in children.values():
        kids.sort(key=lambda i: (i.order, i.index))
    roots.sort(key=lambda i: (i.order, i.index))
    reachable: set[str] = set()
    tree = TreeWalk(roots, children, orphans)
    for root in roots:
        reachable.update(item.handle for item, _ in tree.under(root))
    # Items in a parent loop hang under no root: they are orphans as well.
    tree.orphans += [i for i in project.items if i.handle not in reachable and i not in roots
                     and i not in orphans]
    return tree


def root_class(root: NwItem) -> str:
    """What a root holds; a 1.0–1.3 trash root has type TRASH whatever its class says."""
    return "TRASH" if root.type == "TRASH" else (root.cls or "CUSTOM")


# --- the content files ---------------------------------------------------------------------

def content_path(project: NwProject, item: NwItem) -> Path | None:
    """Where an item's document is: ``content/<handle>.nwd`` (1.1 on), or a 1.0 project's
    ``data_<h>/<rest>_main.nwd``.  None when neither exists."""
    modern = project.folder / "content" / f"{item.handle}.nwd"
    if modern.is_file():
        return modern
    legacy = project.folder / f"data_{item.handle[0]}" / f"{item.handle[1:]}_main.nwd"
    if legacy.is_file():
        return legacy
    return None


def read_document(path: Path, item: NwItem) -> str:
    """A document's text, refusing anything that is not UTF-8 text by name."""
    what = f"{path} (“{item.name}”, handle {item.handle})"
    try:
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            raise NovelWriterError(f"{what}: the document is larger than "
                                   f"{MAX_DOCUMENT_BYTES // (1024 * 1024)} MB; novelWriter "
                                   "does not write documents that big.")
        raw = path.read_bytes()
    except OSError as exc:
        raise NovelWriterError(f"{what}: cannot be read ({exc.strerror or exc}).") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NovelWriterError(f"{what}: is not UTF-8 text (byte 0x{raw[exc.start]:02x} at "
                               f"position {exc.start}); novelWriter always writes UTF-8, so "
                               "the file is damaged or not a novelWriter document.") from None
    if "\x00" in text:
        raise NovelWriterError(f"{what}: contains NUL bytes; it is not a text document.")
    return text
