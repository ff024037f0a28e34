"""The manuscript's shape as the UI sees it: chapters and scenes without their prose."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from studio.domain.manuscript import Segment


@dataclass
class SceneInfo:
    uid: str
    chapter_uid: str
    title: str
    synopsis: str
    status: str
    words: int
    position: int


@dataclass
class ChapterInfo:
    uid: str
    title: str
    synopsis: str
    status: str
    word_target: int | None
    position: int
    scenes: list[SceneInfo] = field(default_factory=list)

    @property
    def words(self) -> int:
        return sum(s.words for s in self.scenes)


@dataclass
class Outline:
    story_id: int
    chapters: list[ChapterInfo]
    word_target: int | None
    language: str
    today_words: int

    @property
    def words(self) -> int:
        return sum(c.words for c in self.chapters)

    def scene(self, uid: str) -> SceneInfo | None:
        for chapter in self.chapters:
            for scene in chapter.scenes:
                if scene.uid == uid:
                    return scene
        return None

    def chapter(self, uid: str) -> ChapterInfo | None:
        return next((c for c in self.chapters if c.uid == uid), None)

    def chapter_of(self, scene_uid: str) -> ChapterInfo | None:
        return next((c for c in self.chapters if any(s.uid == scene_uid for s in c.scenes)),
                    None)


@dataclass
class SceneText:
    uid: str
    text: str
    segments: list[Segment]
    words: int


@dataclass
class SceneSaved:
    uid: str
    words: int
    delta: int  # words added (negative: removed) by this save
    inserted: int
    updated: int
    deleted: int


@dataclass
class SearchHit:
    chapter_uid: str
    chapter_title: str
    scene_uid: str
    scene_title: str
    segment_uid: str
    snippet: str  # with the match wrapped in \x02 … \x03 (the UI turns them into highlights)


@dataclass
class SearchResults:
    query: str
    hits: list[SearchHit]
    total: int
    elapsed_ms: float = 0.0


@dataclass
class SegmentChange:
    segment_uid: str
    scene_uid: str
    old: str
    new: str


@dataclass
class ProgressDay:
    day: date
    words: int
