"""Structure edits of the manuscript as undoable steps: add, rename, move and delete chapters
and scenes, targets and synopses, replace across the project.

Each step runs its service call on the service thread and redraws from the outline; undo runs
the inverse call (a deleted chapter is restored from the trash with its scenes, a replace is
undone segment by segment).  Mixed into ``ManuscriptPanel``.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtWidgets import QInputDialog, QMenu

from studio.domain.outline import Outline
from studio.services import manuscript
from studio.ui.commands import CallbackCommand
from studio.ui.widgets.outline_tree import KIND_ROLE, UID_ROLE


class StructureEditing:
    """Needs from the panel: ``document``, ``outline``, ``tree``, ``editor``, ``_run``,
    ``refresh_outline``, ``open_scene``, ``current_scene_uid``, ``outline_view``."""

    def _undoable(self, text: str, do: Callable[[bool], None], undo: Callable[[], None]) -> None:
        doc = self.document
        if doc is None:
            return
        doc.flush()
        doc.undo_stack.push(CallbackCommand(text, do, undo))

    def _selected_chapter_uid(self) -> str | None:
        item = self.tree.currentItem()
        if item is None:
            return self.outline.chapters[-1].uid if self.outline and self.outline.chapters \
                else None
        return item.data(0, UID_ROLE) if item.data(0, KIND_ROLE) == "chapter" else \
            item.parent().data(0, UID_ROLE)

    def add_chapter(self, title: str = "") -> None:
        made: dict = {}

        def do(first: bool) -> None:
            if first:
                self._run(manuscript.add_chapter, title,
                          then=lambda info: (made.update(uid=info.uid), self._after_add(None)))
            else:
                self._run(manuscript.restore_chapter, made["uid"], made.get("position", 10**6),
                          then=lambda _r: self.refresh_outline())

        def undo() -> None:
            pos = next((i for i, c in enumerate(self.outline.chapters) if c.uid == made["uid"]),
                       10**6) if self.outline else 10**6
            made["position"] = pos
            self._run(manuscript.delete_chapter, made["uid"],
                      then=lambda _r: self.refresh_outline())

        self._undoable("Add chapter", do, undo)

    def add_scene(self, title: str = "", chapter_uid: str | None = None) -> None:
        chapter_uid = chapter_uid or self._selected_chapter_uid()
        if chapter_uid is None:
            self.add_chapter()
            return
        made: dict = {}

        def do(first: bool) -> None:
            if first:
                self._run(manuscript.add_scene, chapter_uid, title,
                          then=lambda info: (made.update(uid=info.uid),
                                             self._after_add(info.uid)))
            else:
                self._run(manuscript.restore_scene, made["uid"], chapter_uid, 10**6,
                          then=lambda _r: self.refresh_outline())

        def undo() -> None:
            self.editor.forget(made["uid"])
            self._run(manuscript.delete_scene, made["uid"],
                      then=lambda _r: self.refresh_outline())

        self._undoable("Add scene", do, undo)

    def _after_add(self, scene_uid: str | None) -> None:
        def opened(_outline) -> None:
            if scene_uid:
                self.open_scene(scene_uid)
                self.editor.edit.setFocus()

        self.refresh_outline(then=opened)

    def rename(self, kind: str, uid: str, title: str) -> None:
        old = self.outline.chapter(uid).title if kind == "chapter" and self.outline and \
            self.outline.chapter(uid) else (self.outline.scene(uid).title
                                            if self.outline and self.outline.scene(uid) else "")
        if not title or title == old:
            self.refresh_outline()
            return
        fn = manuscript.update_chapter if kind == "chapter" else manuscript.update_scene
        self._undoable(f"Rename {kind}",
                       lambda _first: self._run(fn, uid, title=title,
                                                then=lambda _r: self._reload_outline_only()),
                       lambda: self._run(fn, uid, title=old,
                                         then=lambda _r: self._reload_outline_only()))

    def _outline_only(self, outline: Outline) -> None:
        self.outline = outline
        self.tree.fill(outline, self.current_scene_uid)
        self._refresh_outline_view()
        self._show_scene_header()
        self._update_counts()

    def _scene_field(self, key: str, value: str) -> None:
        uid = self.current_scene_uid
        scene = self.outline.scene(uid) if (self.outline and uid) else None
        if scene is None or getattr(scene, key) == value:
            return
        old = getattr(scene, key)
        self._undoable(f"Change scene {key}",
                       lambda _first: self._run(manuscript.update_scene, uid, **{key: value},
                                                then=lambda _r: self._reload_outline_only()),
                       lambda: self._run(manuscript.update_scene, uid, **{key: old},
                                         then=lambda _r: self._reload_outline_only()))

    def _reload_outline_only(self) -> None:
        self._run(manuscript.outline, then=self._outline_only)

    def move_scene(self, uid: str, chapter_uid: str, position: int) -> None:
        was: dict = {}

        def do(_first: bool) -> None:
            self._run(manuscript.move_scene, uid, chapter_uid, position,
                      then=lambda w: (was.update(at=w), self._reload_outline_only()))

        def undo() -> None:
            self._run(manuscript.move_scene, uid, *was["at"],
                      then=lambda _w: self._reload_outline_only())

        self._undoable("Move scene", do, undo)

    def move_chapter(self, uid: str, position: int) -> None:
        was: dict = {}

        def do(_first: bool) -> None:
            self._run(manuscript.move_chapter, uid, position,
                      then=lambda w: (was.update(at=w), self._reload_outline_only()))

        def undo() -> None:
            self._run(manuscript.move_chapter, uid, was["at"],
                      then=lambda _w: self._reload_outline_only())

        self._undoable("Move chapter", do, undo)

    def delete_selected(self) -> None:
        item = self.tree.currentItem()
        if item is None or self.outline is None:
            return
        kind, uid = item.data(0, KIND_ROLE), item.data(0, UID_ROLE)
        if kind == "chapter":
            chapter = self.outline.chapter(uid)
            position = self.outline.chapters.index(chapter)
            scenes = [s.uid for s in chapter.scenes]
            for s in scenes:
                self.editor.forget(s)
            self._undoable(f"Delete chapter “{chapter.title}”",
                           lambda _f: self._run(manuscript.delete_chapter, uid,
                                                then=lambda _r: self.refresh_outline()),
                           lambda: self._run(manuscript.restore_chapter, uid, position,
                                             then=lambda _r: self.refresh_outline()))
        else:
            chapter = self.outline.chapter_of(uid)
            scene = self.outline.scene(uid)
            position = chapter.scenes.index(scene)
            self.editor.forget(uid)
            self._undoable(f"Delete scene “{scene.title}”",
                           lambda _f: self._run(manuscript.delete_scene, uid,
                                                then=lambda _r: self.refresh_outline()),
                           lambda: self._run(manuscript.restore_scene, uid, chapter.uid,
                                             position, then=lambda _r: self.refresh_outline()))

    def _tree_menu(self, pos) -> None:
        item = self.tree.itemAt(pos)
        menu = QMenu(self)
        menu.addAction("Add chapter", lambda: self.add_chapter())
        if item is not None:
            self.tree.setCurrentItem(item)
            menu.addAction("Add scene", lambda: self.add_scene())
            menu.addAction("Rename", lambda: self.tree.editItem(item, 0))
            if item.data(0, KIND_ROLE) == "scene":
                menu.addAction("Illustrate scene…",
                               lambda: self.illustrate_scene(item.data(0, UID_ROLE)))
            if item.data(0, KIND_ROLE) == "chapter":
                menu.addAction("Set word target…", self.ask_chapter_target)
                menu.addAction("Edit synopsis…", lambda: self.ask_chapter_synopsis(
                    item.data(0, UID_ROLE)))
                menu.addAction("Branch From Here…", lambda: self.branchFromHereRequested.emit(
                    item.data(0, UID_ROLE), item.text(0)))
            kind = item.data(0, KIND_ROLE)
            menu.addAction(f"History of This {kind.capitalize()}…",
                           lambda: self.historyRequested.emit(kind, item.data(0, UID_ROLE)))
            menu.addSeparator()
            menu.addAction("Delete", self.delete_selected)
        menu.exec(self.tree.viewport().mapToGlobal(pos))

    # --- targets --------------------------------------------------------------------------------

    def ask_story_target(self) -> None:
        if self.outline is None:
            return
        value, ok = QInputDialog.getInt(self, "Story target", "Words for the whole story:",
                                        self.outline.word_target or 80_000, 0, 10_000_000, 1000)
        if ok:
            self._run(manuscript.set_story_target, value or None,
                      then=lambda _r: self._reload_outline_only())

    def ask_chapter_target(self) -> None:
        uid = self._selected_chapter_uid()
        chapter = self.outline.chapter(uid) if (self.outline and uid) else None
        if chapter is None:
            return
        value, ok = QInputDialog.getInt(self, "Chapter target", f"Words for “{chapter.title}”:",
                                        chapter.word_target or 3000, 0, 1_000_000, 100)
        if ok:
            self._run(manuscript.update_chapter, uid, word_target=value or None,
                      then=lambda _r: self._reload_outline_only())

    def ask_chapter_synopsis(self, uid: str) -> None:
        chapter = self.outline.chapter(uid) if self.outline else None
        if chapter is None:
            return
        text, ok = QInputDialog.getMultiLineText(self, "Chapter synopsis", chapter.title,
                                                 chapter.synopsis)
        if ok and text != chapter.synopsis:
            old = chapter.synopsis
            self._undoable("Edit chapter synopsis",
                           lambda _f: self._run(manuscript.update_chapter, uid, synopsis=text,
                                                then=lambda _r: self._reload_outline_only()),
                           lambda: self._run(manuscript.update_chapter, uid, synopsis=old,
                                             then=lambda _r: self._reload_outline_only()))

    def replace_across_project(self, find: str, replacement: str, case: bool,
                               whole: bool) -> None:
        changes: list = []

        def reload_scenes() -> None:
            for uid in {c.scene_uid for c in changes}:
                self.editor.forget(uid)
                self._scene_segments.pop(uid, None)
            self.refresh_outline(open_first=False)
            if self.current_scene_uid and not self.editor.has_scene(self.current_scene_uid):
                self.open_scene(self.current_scene_uid)

        def do(first: bool) -> None:
            if first:
                def done(result) -> None:
                    changes.extend(result)
                    self.window().statusBar().showMessage(
                        f"Replaced in {len(result)} paragraphs", 6000)
                    reload_scenes()
                self._run(manuscript.replace_all, find, replacement, case, whole, then=done)
            else:
                self._run(manuscript.apply_segment_texts,
                          {c.segment_uid: c.new for c in changes},
                          then=lambda _r: reload_scenes())

        def undo() -> None:
            self._run(manuscript.apply_segment_texts, {c.segment_uid: c.old for c in changes},
                      then=lambda _r: reload_scenes())

        self._undoable(f"Replace “{find}” with “{replacement}”", do, undo)

