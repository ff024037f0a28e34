"""Community chapters and voice templates: publish, browse, read (a view), download, fork.

Both follow the stories' rules: public items are listed, unlisted ones are readable by id and
listed only to their owner (``/v1/accounts/me/…``), hidden ones (moderation) are 404 to
everyone but their owner (who sees them marked) and moderators.  Publishing counts against the
quotas (``studio.marketplace.quotas``).

- A community chapter has immutable numbered versions; a fork is a new community chapter of
  the caller's, version 1 a copy of the source version, crediting the source (``forked_from``
  with an attribution line; licences as for remixes).
- A voice template is permanent reference data: it never changes and is never deleted
  (DELETE is a 405); its owner may publish a new template that ``supersedes`` it, and the old
  one then names its successor in ``superseded_by``.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import delete, exists, func, or_, select, tuple_, update
from sqlalchemy.orm import aliased

from studio.marketplace import idempotency, quotas
from studio.marketplace.deps import Ctx, get_ctx, get_user_ctx
from studio.marketplace.errors import ApiError, forbidden, not_found
from studio.marketplace.models import User, utcnow
from studio.marketplace.models_community import (
    CommunityChapter, CommunityChapterStats, CommunityChapterTag, CommunityChapterVersion,
    VoiceTemplate, VoiceTemplateStats, VoiceTemplateTag,
)
from studio.marketplace.routers.common import VersionNumber, counter_session, new_public_id
from studio.marketplace.schemas import MAX_TAGS, USERNAME_RE, Tag, Text
from studio.marketplace.schemas_ops import decode_cursor, encode_cursor
from studio.marketplace.schemas_community import (
    CHAPTER_ID_RE, TEMPLATE_ID_RE, ChapterMeta, ForkChapter, NewChapterVersion,
    PublishChapter, PublishVoiceTemplate, UpdateChapter,
)
from studio.marketplace.security_community import (
    check_not_hidden, listed_item_clause, moderation_marker, readable_item_clause,
    visible_item_clause,
)
from studio.marketplace.settings import MAX_PAGE_SIZE

MULTI_VALUED = {"tags"}


def single_valued_query(request: Request) -> None:
    """A query parameter that takes one value, given twice, is a 422 (FastAPI would keep
    the last one silently)."""
    counts = Counter(name for name, _ in request.query_params.multi_items())
    repeated = sorted(n for n, c in counts.items() if c > 1 and n not in MULTI_VALUED)
    if repeated:
        raise ApiError(422, "Give these query parameters once each: " + ", ".join(repeated),
                       "invalid_request")


router = APIRouter(prefix="/v1", tags=["community"],
                   dependencies=[Depends(single_valued_query)])

ChapterId = Annotated[str, Path(pattern=CHAPTER_ID_RE, description="a community chapter id, "
                                "ch_…")]
TemplateId = Annotated[str, Path(pattern=TEMPLATE_ID_RE, description="a voice template id, "
                                 "vt_…")]
Q = Annotated[Text | None, Query(max_length=200, description="words in the title (name) or "
                                 "description")]
Tags = Annotated[list[Tag], Query(max_length=MAX_TAGS, description="any of these tags")]
Owner = Annotated[str | None, Query(pattern=USERNAME_RE)]
Sort = Literal["recent", "popular"]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Cursor = Annotated[str | None, Query(max_length=500, description="next_cursor of the previous "
                                     "page (stable while items are added)")]


# --- shared ------------------------------------------------------------------------------

def _names(ctx: Ctx, user_ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    return dict(ctx.session.execute(select(User.id, User.username)
                                    .where(User.id.in_(ids))).all())


def _tags(ctx: Ctx, model, fk, ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for item_id, tag in ctx.session.execute(select(fk, model.tag).where(fk.in_(ids))
                                            .order_by(model.tag)):
        out.setdefault(item_id, []).append(tag)
    return out


def _set_tags(ctx: Ctx, model, fk, item_id: int, tags: list[str]) -> None:
    wanted = list(dict.fromkeys(tags))
    current = set(ctx.session.scalars(select(model.tag).where(fk == item_id)))
    stale = current - set(wanted)
    if stale:
        ctx.session.execute(delete(model).where(fk == item_id, model.tag.in_(stale)))
    ctx.session.add_all(model(**{fk.key: item_id, "tag": t}) for t in wanted
                        if t not in current)


def _bump(ctx: Ctx, model, fk, item_id: int, separate: bool = False, **deltas: int) -> None:
    """Add to public counters (GET requests: in a lazy transaction of their own)."""
    session = counter_session(ctx) if separate else ctx.session
    try:
        session.execute(update(model).where(fk == item_id).values(
            {getattr(model, k): getattr(model, k) + v for k, v in deltas.items()}))
        if separate:
            session.commit()
    finally:
        if separate:
            session.close()


def _page(ctx: Ctx, query, keys: list, key_types: tuple, kind: str, page: dict, shape
          ) -> dict:
    """A page sorted by ``keys`` (descending), as the stories' browse pages: by ``offset``,
    or by keyset ``cursor`` (the previous page's last keys) so that pages neither repeat nor
    skip items published meanwhile."""
    limit, offset, cursor = page["limit"], page["offset"], page["cursor"]
    total = ctx.session.scalar(select(func.count()).select_from(query.subquery()))
    if cursor:
        if offset:
            raise ApiError(422, "Pass either cursor or offset, not both.", "invalid_request")
        query = query.where(tuple_(*keys) < tuple(decode_cursor(cursor, kind, key_types)))
    rows = ctx.session.execute(query.add_columns(*keys).order_by(*(k.desc() for k in keys))
                               .limit(limit + 1).offset(offset)).all()
    items = [row[0] for row in rows[:limit]]
    next_cursor = encode_cursor(kind, list(rows[limit - 1][1:])) if len(rows) > limit else None
    next_offset = offset + len(items) if offset + len(items) < total and not cursor else None
    return {"items": shape(ctx, items), "total": total, "limit": limit, "offset": offset,
            "next_offset": next_offset, "next_cursor": next_cursor, "sort": page["sort"]}


def _text_filter(query, q: str | None, *columns):
    if q and q.strip():
        needle = q.strip().lower()
        query = query.where(or_(*(func.lower(c).contains(needle, autoescape=True)
                                  for c in columns)))
    return query


def _owner_filter(query, model, owner: str | None):
    if owner:
        query = query.where(model.owner_id == select(User.id).where(User.username == owner)
                            .scalar_subquery())
    return query


def _load(ctx: Ctx, model, public_id: str, what: str):
    """An item the caller may read: visible (unlisted ones by their id) and not hidden."""
    ctx.expose_story(public_id)  # app.story_ref: the id this request names
    item = ctx.session.scalar(select(model).where(
        model.public_id == public_id, visible_item_clause(model, ctx.user, public_id)))
    if item is None:
        raise not_found(what, public_id)
    check_not_hidden(ctx.user, item, what, public_id)
    return item


def _check_licence(ctx: Ctx, source, licence: str, what: str) -> None:
    if source.owner_id == ctx.user_id:
        return
    if source.licence == "all-rights-reserved":
        raise forbidden(f"The source {what} is 'all-rights-reserved': you may download it for "
                        "your own use, but not publish a copy of it.")
    if source.licence == "CC-BY-NC" and licence != "CC-BY-NC":
        raise ApiError(422, f"The source {what} is CC-BY-NC, so a fork of it must be "
                       "CC-BY-NC too.", "licence_mismatch")


# --- community chapters ------------------------------------------------------------------

def chapters_out(ctx: Ctx, items: list[CommunityChapter]) -> list[dict]:
    if not items:
        return []
    ids = [c.id for c in items]
    tags = _tags(ctx, CommunityChapterTag, CommunityChapterTag.chapter_id, ids)
    stats = {s.chapter_id: s for s in ctx.session.scalars(
        select(CommunityChapterStats).where(CommunityChapterStats.chapter_id.in_(ids)))}
    names = _names(ctx, {c.owner_id for c in items} | {c.forked_from_owner_id for c in items})
    source_ids = [c.forked_from_chapter_id for c in items if c.forked_from_chapter_id]
    sources = {s.id: s for s in ctx.session.scalars(select(CommunityChapter).where(
        CommunityChapter.id.in_(source_ids),
        readable_item_clause(CommunityChapter, ctx.user)))} if source_ids else {}
    out = []
    for c in items:
        st = stats.get(c.id)
        out.append({
            "id": c.public_id, "title": c.title, "description": c.description,
            "tags": tags.get(c.id, []), "licence": c.licence, "visibility": c.visibility,
            "owner": names.get(c.owner_id), "latest_version": c.latest_version,
            "created_at": c.created_at, "updated_at": c.updated_at,
            "stats": {"views": st.views, "downloads": st.downloads, "forks": st.forks}
            if st else None,
            "forked_from": _lineage(c, sources.get(c.forked_from_chapter_id),
                                    names.get(c.forked_from_owner_id)),
            **moderation_marker(c),
        })
    return out


def _lineage(chapter: CommunityChapter, source: CommunityChapter | None,
             owner: str | None) -> dict | None:
    if chapter.forked_from_version is None:
        return None
    who = owner or "a former member"
    if source is None:  # no longer visible to this reader: credit the author only
        attribution = f"Based on a community chapter (v{chapter.forked_from_version}) by {who}."
    else:
        attribution = (f"Based on “{source.title}” (v{chapter.forked_from_version}) by {who}, "
                       f"{source.licence}.")
    return {"chapter_id": source.public_id if source else None,
            "title": source.title if source else None,
            "licence": source.licence if source else None,
            "version": chapter.forked_from_version, "owner": owner,
            "attribution": attribution}


def chapter_version_out(v: CommunityChapterVersion) -> dict:
    return {"number": v.number, "changelog": v.changelog, "size_bytes": v.size_bytes,
            "created_at": v.created_at}


def load_chapter(ctx: Ctx, public_id: str) -> CommunityChapter:
    return _load(ctx, CommunityChapter, public_id, "community chapter")


def _owned_chapter(ctx: Ctx, public_id: str) -> CommunityChapter:
    chapter = load_chapter(ctx, public_id)
    if chapter.owner_id != ctx.user_id:
        raise forbidden("Only the chapter's owner can change it; fork it to make your own "
                        "copy.")
    if ctx.db.is_postgres:  # serialise concurrent publishes of the same chapter
        ctx.session.refresh(chapter, with_for_update=True)
    return chapter


def _chapter_version(ctx: Ctx, chapter: CommunityChapter, number: int
                     ) -> CommunityChapterVersion:
    version = ctx.session.scalar(select(CommunityChapterVersion).where(
        CommunityChapterVersion.chapter_id == chapter.id,
        CommunityChapterVersion.number == number))
    if version is None:
        raise not_found("version", f"{chapter.public_id} v{number}")
    return version


def _create_chapter(ctx: Ctx, meta: ChapterMeta, **lineage) -> CommunityChapter:
    quotas.check_new_item(ctx)
    now = utcnow()
    chapter = CommunityChapter(
        public_id=new_public_id("ch_"), owner_id=ctx.user_id, title=meta.title,
        description=meta.description, licence=meta.licence, visibility=meta.visibility,
        latest_version=0, hidden=False, created_at=now, updated_at=now, **lineage)
    ctx.session.add(chapter)
    ctx.session.flush()
    ctx.session.add(CommunityChapterStats(chapter_id=chapter.id, views=0, downloads=0,
                                          forks=0))
    _set_tags(ctx, CommunityChapterTag, CommunityChapterTag.chapter_id, chapter.id, meta.tags)
    ctx.session.flush()
    return chapter


def _add_chapter_version(ctx: Ctx, chapter: CommunityChapter, document: dict[str, Any],
                         changelog: str) -> CommunityChapterVersion:
    size = quotas.json_bytes(document)
    quotas.charge(ctx, size)
    version = CommunityChapterVersion(
        chapter_id=chapter.id, number=chapter.latest_version + 1, changelog=changelog,
        author_id=ctx.user_id, chapter=document, size_bytes=size, created_at=utcnow())
    ctx.session.add(version)
    chapter.latest_version = version.number
    chapter.updated_at = version.created_at
    ctx.session.flush()
    return version


def _published(ctx: Ctx, chapter: CommunityChapter, version: CommunityChapterVersion) -> dict:
    return {"chapter": chapters_out(ctx, [chapter])[0], "version": chapter_version_out(version)}


@router.post("/chapters", status_code=201, tags=["chapters"],
             summary="Publish a community chapter (its version 1)")
def publish_chapter(body: PublishChapter, ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        chapter = _create_chapter(ctx, body)
        return _published(ctx, chapter, _add_chapter_version(ctx, chapter, body.chapter,
                                                             body.changelog))

    return idempotency.run(ctx, body, action, status_code=201)


@router.get("/chapters", tags=["chapters"], summary="Browse public community chapters")
def browse_chapters(ctx: Ctx = Depends(get_ctx), q: Q = None, tags: Tags = [],
                    owner: Owner = None, sort: Sort = "recent", limit: Limit = 20,
                    offset: Offset = 0, cursor: Cursor = None) -> dict:
    C, S = CommunityChapter, CommunityChapterStats
    query = select(C).join(S, S.chapter_id == C.id).where(listed_item_clause(C))
    query = _owner_filter(_text_filter(query, q, C.title, C.description), C, owner)
    if tags:
        query = query.where(exists(select(CommunityChapterTag.chapter_id).where(
            CommunityChapterTag.chapter_id == C.id, CommunityChapterTag.tag.in_(tags))))
    keys, types = [C.updated_at, C.id], (datetime, int)
    if sort == "popular":
        keys, types = [S.downloads + S.forks, *keys], (int, *types)
    page = {"limit": limit, "offset": offset, "cursor": cursor, "sort": sort}
    return _page(ctx, query, keys, types, f"chapters-{sort}", page, chapters_out)


@router.get("/accounts/me/chapters", tags=["chapters"],
            summary="My community chapters, unlisted and hidden ones included")
def my_chapters(ctx: Ctx = Depends(get_user_ctx)) -> dict:
    items = list(ctx.session.scalars(select(CommunityChapter)
                                     .where(CommunityChapter.owner_id == ctx.user_id)
                                     .order_by(CommunityChapter.updated_at.desc(),
                                               CommunityChapter.id.desc())))
    return {"items": chapters_out(ctx, items)}


@router.get("/chapters/{chapter_id}", tags=["chapters"],
            summary="A community chapter (public, or unlisted by its id); counts a view")
def get_chapter(chapter_id: ChapterId, ctx: Ctx = Depends(get_ctx)) -> dict:
    chapter = load_chapter(ctx, chapter_id)
    out = chapters_out(ctx, [chapter])[0]
    _bump(ctx, CommunityChapterStats, CommunityChapterStats.chapter_id, chapter.id,
          separate=True, views=1)
    out["stats"]["views"] += 1
    return out


@router.patch("/chapters/{chapter_id}", tags=["chapters"],
              summary="Change a community chapter's metadata (owner only)")
def update_chapter(body: UpdateChapter, chapter_id: ChapterId,
                   ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        chapter = _owned_chapter(ctx, chapter_id)
        for name in ("title", "description", "licence", "visibility"):
            if getattr(body, name) is not None:
                setattr(chapter, name, getattr(body, name))
        if body.tags is not None:
            _set_tags(ctx, CommunityChapterTag, CommunityChapterTag.chapter_id, chapter.id,
                      body.tags)
        chapter.updated_at = utcnow()
        ctx.session.flush()
        return chapters_out(ctx, [chapter])[0]

    return idempotency.run(ctx, body, action)


@router.post("/chapters/{chapter_id}/versions", status_code=201, tags=["chapters"],
             summary="Publish a new immutable version (owner only)")
def new_chapter_version(body: NewChapterVersion, chapter_id: ChapterId,
                        ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        chapter = _owned_chapter(ctx, chapter_id)
        return _published(ctx, chapter, _add_chapter_version(ctx, chapter, body.chapter,
                                                             body.changelog))

    return idempotency.run(ctx, body, action, status_code=201)


@router.get("/chapters/{chapter_id}/versions", tags=["chapters"],
            summary="A community chapter's versions with their changelogs")
def list_chapter_versions(chapter_id: ChapterId, ctx: Ctx = Depends(get_ctx)) -> dict:
    chapter = load_chapter(ctx, chapter_id)
    versions = ctx.session.scalars(select(CommunityChapterVersion)
                                   .where(CommunityChapterVersion.chapter_id == chapter.id)
                                   .order_by(CommunityChapterVersion.number))
    return {"chapter_id": chapter.public_id,
            "items": [chapter_version_out(v) for v in versions]}


@router.get("/chapters/{chapter_id}/versions/{number}", tags=["chapters"],
            summary="One version's changelog and size (no content)")
def get_chapter_version(chapter_id: ChapterId, number: VersionNumber,
                        ctx: Ctx = Depends(get_ctx)) -> dict:
    chapter = load_chapter(ctx, chapter_id)
    return {"chapter_id": chapter.public_id,
            **chapter_version_out(_chapter_version(ctx, chapter, number))}


@router.get("/chapters/{chapter_id}/versions/{number}/content", tags=["chapters"],
            summary="Download a version: the chapter-graph chapter (counts a download)")
def download_chapter(chapter_id: ChapterId, number: VersionNumber,
                     ctx: Ctx = Depends(get_ctx)) -> dict:
    chapter = load_chapter(ctx, chapter_id)
    version = _chapter_version(ctx, chapter, number)
    out = chapters_out(ctx, [chapter])[0]
    _bump(ctx, CommunityChapterStats, CommunityChapterStats.chapter_id, chapter.id,
          separate=True, downloads=1)
    return {"chapter_id": chapter.public_id, **chapter_version_out(version),
            "licence": chapter.licence, "owner": out["owner"],
            "forked_from": out["forked_from"], "chapter": version.chapter}


@router.post("/chapters/{chapter_id}/forks", status_code=201, tags=["chapters"],
             summary="Fork: a new community chapter of mine, copied from a version, "
                     "crediting its source")
def fork_chapter(body: ForkChapter, chapter_id: ChapterId,
                 ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        source = load_chapter(ctx, chapter_id)
        version = _chapter_version(ctx, source, body.version or source.latest_version)
        licence = body.licence or source.licence
        _check_licence(ctx, source, licence, "chapter")
        source_tags = _tags(ctx, CommunityChapterTag, CommunityChapterTag.chapter_id,
                            [source.id]).get(source.id, [])
        meta = ChapterMeta(
            title=body.title or source.title,
            description=source.description if body.description is None else body.description,
            tags=source_tags if body.tags is None else body.tags, licence=licence,
            visibility=body.visibility or source.visibility)
        copy = _create_chapter(ctx, meta, forked_from_chapter_id=source.id,
                               forked_from_version=version.number,
                               forked_from_owner_id=source.owner_id)
        owner = _names(ctx, {source.owner_id}).get(source.owner_id)
        first = _add_chapter_version(ctx, copy, version.chapter,
                                     f"Forked from {source.public_id} v{version.number} "
                                     f"by {owner}")
        _bump(ctx, CommunityChapterStats, CommunityChapterStats.chapter_id, source.id,
              forks=1)
        return _published(ctx, copy, first)

    return idempotency.run(ctx, body, action, status_code=201)


@router.get("/chapters/{chapter_id}/lineage", tags=["chapters"],
            summary="Where the chapter comes from, and its public forks")
def chapter_lineage(chapter_id: ChapterId, ctx: Ctx = Depends(get_ctx)) -> dict:
    chapter = load_chapter(ctx, chapter_id)
    forks = list(ctx.session.scalars(select(CommunityChapter).where(
        CommunityChapter.forked_from_chapter_id == chapter.id,
        listed_item_clause(CommunityChapter)).order_by(CommunityChapter.created_at,
                                                       CommunityChapter.id)))
    summary = chapters_out(ctx, [chapter])[0]
    return {"chapter_id": chapter.public_id, "forked_from": summary["forked_from"],
            "forked_by": chapters_out(ctx, forks), "forks": summary["stats"]["forks"]}


# --- voice templates ---------------------------------------------------------------------

def templates_out(ctx: Ctx, items: list[VoiceTemplate]) -> list[dict]:
    if not items:
        return []
    ids = [t.id for t in items]
    tags = _tags(ctx, VoiceTemplateTag, VoiceTemplateTag.template_id, ids)
    stats = {s.template_id: s for s in ctx.session.scalars(
        select(VoiceTemplateStats).where(VoiceTemplateStats.template_id.in_(ids)))}
    names = _names(ctx, {t.owner_id for t in items})
    readable = readable_item_clause(VoiceTemplate, ctx.user)
    T = VoiceTemplate
    successors = dict(ctx.session.execute(
        select(T.supersedes_id, T.public_id).where(T.supersedes_id.in_(ids), readable)).all())
    old_ids = [t.supersedes_id for t in items if t.supersedes_id]
    predecessors = dict(ctx.session.execute(
        select(T.id, T.public_id).where(T.id.in_(old_ids), readable)).all()) if old_ids else {}
    return [{
        "id": t.public_id, "name": t.name, "description": t.description,
        "emotion": t.emotion, "tags": tags.get(t.id, []), "licence": t.licence,
        "visibility": t.visibility, "owner": names.get(t.owner_id),
        "parameter_names": sorted(t.parameters), "size_bytes": t.size_bytes,
        "supersedes": predecessors.get(t.supersedes_id),
        "superseded_by": successors.get(t.id), "created_at": t.created_at,
        "stats": {"views": stats[t.id].views, "downloads": stats[t.id].downloads}
        if t.id in stats else None,
        **moderation_marker(t),
    } for t in items]


def load_template(ctx: Ctx, public_id: str) -> VoiceTemplate:
    return _load(ctx, VoiceTemplate, public_id, "voice template")


@router.post("/voice-templates", status_code=201, tags=["voice templates"],
             summary="Publish a voice template (permanent: it can be superseded, not deleted)")
def publish_template(body: PublishVoiceTemplate,
                     ctx: Ctx = Depends(get_user_ctx)) -> JSONResponse:
    def action() -> dict:
        old = None
        if body.supersedes:
            old = load_template(ctx, body.supersedes)
            if old.owner_id != ctx.user_id:
                raise forbidden("Only the owner of a voice template can supersede it; publish "
                                "a template of your own instead.")
            newer = ctx.session.scalar(select(VoiceTemplate.public_id)
                                       .where(VoiceTemplate.supersedes_id == old.id))
            if newer is not None:
                raise ApiError(409, f"The voice template {old.public_id!r} is already "
                               f"superseded by {newer!r}; supersede that one instead.",
                               "already_superseded", superseded_by=newer)
        quotas.check_new_item(ctx)
        document = {"name": body.name, "description": body.description,
                    "emotion": body.emotion, "parameters": body.parameters}
        size = quotas.json_bytes(document)
        quotas.charge(ctx, size)
        template = VoiceTemplate(
            public_id=new_public_id("vt_"), owner_id=ctx.user_id, name=body.name,
            description=body.description, emotion=body.emotion, parameters=body.parameters,
            licence=body.licence, visibility=body.visibility,
            supersedes_id=old.id if old else None, size_bytes=size, hidden=False,
            created_at=utcnow())
        ctx.session.add(template)
        ctx.session.flush()
        ctx.session.add(VoiceTemplateStats(template_id=template.id, views=0, downloads=0))
        _set_tags(ctx, VoiceTemplateTag, VoiceTemplateTag.template_id, template.id, body.tags)
        ctx.session.flush()
        return templates_out(ctx, [template])[0]

    return idempotency.run(ctx, body, action, status_code=201)


@router.get("/voice-templates", tags=["voice templates"],
            summary="Browse public voice templates (current ones unless asked)")
def browse_templates(
    ctx: Ctx = Depends(get_ctx), q: Q = None, tags: Tags = [], owner: Owner = None,
    emotion: Annotated[Text | None, Query(max_length=40)] = None,
    include_superseded: Annotated[bool, Query(description="also list templates a newer "
                                              "public one supersedes")] = False,
    sort: Sort = "recent", limit: Limit = 20, offset: Offset = 0, cursor: Cursor = None,
) -> dict:
    T, S = VoiceTemplate, VoiceTemplateStats
    query = select(T).join(S, S.template_id == T.id).where(listed_item_clause(T))
    query = _owner_filter(_text_filter(query, q, T.name, T.description), T, owner)
    if emotion and emotion.strip():
        query = query.where(T.emotion == emotion.strip().lower())
    if tags:
        query = query.where(exists(select(VoiceTemplateTag.template_id).where(
            VoiceTemplateTag.template_id == T.id, VoiceTemplateTag.tag.in_(tags))))
    if not include_superseded:
        newer = aliased(VoiceTemplate)
        query = query.where(~exists(select(newer.id).where(
            newer.supersedes_id == T.id, listed_item_clause(newer))))
    keys, types = [T.created_at, T.id], (datetime, int)
    if sort == "popular":
        keys, types = [S.downloads, *keys], (int, *types)
    page = {"limit": limit, "offset": offset, "cursor": cursor, "sort": sort}
    return _page(ctx, query, keys, types, f"voice-templates-{sort}", page, templates_out)


@router.get("/accounts/me/voice-templates", tags=["voice templates"],
            summary="My voice templates, unlisted and hidden ones included")
def my_templates(ctx: Ctx = Depends(get_user_ctx)) -> dict:
    items = list(ctx.session.scalars(select(VoiceTemplate)
                                     .where(VoiceTemplate.owner_id == ctx.user_id)
                                     .order_by(VoiceTemplate.created_at.desc(),
                                               VoiceTemplate.id.desc())))
    return {"items": templates_out(ctx, items)}


@router.get("/voice-templates/{template_id}", tags=["voice templates"],
            summary="A voice template (public, or unlisted by its id); counts a view")
def get_template(template_id: TemplateId, ctx: Ctx = Depends(get_ctx)) -> dict:
    template = load_template(ctx, template_id)
    out = templates_out(ctx, [template])[0]
    _bump(ctx, VoiceTemplateStats, VoiceTemplateStats.template_id, template.id,
          separate=True, views=1)
    out["stats"]["views"] += 1
    return out


@router.get("/voice-templates/{template_id}/content", tags=["voice templates"],
            summary="Download a voice template with its parameters (counts a download)")
def download_template(template_id: TemplateId, ctx: Ctx = Depends(get_ctx)) -> dict:
    template = load_template(ctx, template_id)
    out = templates_out(ctx, [template])[0]
    _bump(ctx, VoiceTemplateStats, VoiceTemplateStats.template_id, template.id,
          separate=True, downloads=1)
    out["stats"]["downloads"] += 1
    return {**out, "parameters": template.parameters,
            "attribution": f"“{template.name}” by {out['owner']}, {template.licence}."}


@router.delete("/voice-templates/{template_id}", status_code=405, tags=["voice templates"],
               summary="Refused: voice templates are never deleted")
def delete_template(template_id: TemplateId) -> None:
    raise ApiError(405, f"Voice templates are permanent reference data and are never deleted "
                   f"(not {template_id} either). To replace one, publish a new template with "
                   f"\"supersedes\": \"{template_id}\"; a moderator can hide one that breaks "
                   "the rules.", "not_deletable", headers={"Allow": "GET"})
