"""Per-user quotas: how many items a user may keep and how many bytes they may store.

Tiers are ``users.tier``: ``free`` and ``pro`` (an admin sets them).  Limits default to the
numbers below; the environment overrides them, as ``settings.py`` does for the rest
(``STUDIO_MARKETPLACE_QUOTA_FREE_ITEMS``, ``…_FREE_STORAGE_MB``, ``…_PRO_ITEMS``,
``…_PRO_STORAGE_MB``; MB means 2**20 bytes and may have decimals).

- **Items** are the stories (but deleted ones), community chapters and voice templates a user
  owns, counted when they publish a new one (three indexed counts, so deleting a story frees
  its place at once).  Private forks are working copies, not items.
- **Storage** is an approximation kept in ``user_usage.storage_bytes`` and bumped in the same
  transaction as each publish, so a check reads one row: the UTF-8 bytes of the segment texts a
  publish stores for the first time (a text someone already stored costs nothing — texts are
  stored once), plus the compact JSON size of every story version (manifest of hashes, modules,
  scene bible, chapter graph), community chapter version and voice template the user publishes.
  Not counted: fork edits before they are published, indexes and other database overhead.
  Whoever deletes content may give bytes back with ``release``.

Going over a limit is a 403 (``code: quota_exceeded``) naming the limit and the usage.  A
user's publishes are serialised on their ``user_usage`` row (``FOR UPDATE`` on PostgreSQL;
SQLite serialises writers anyway), so concurrent publishes cannot overshoot a limit.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Mapping

from sqlalchemy import exists, func, select, update

from studio.marketplace.content import text_hash
from studio.marketplace.deps import Ctx
from studio.marketplace.errors import ApiError
from studio.marketplace.models import SegmentText, Story, User, utcnow
from studio.marketplace.models_community import CommunityChapter, UserUsage, VoiceTemplate
from studio.marketplace.models_ops import StoryDeletion
from studio.marketplace.settings import ENV_PREFIX

TIERS = ("free", "pro")
MB = 1024 * 1024
DEFAULTS = {"free": {"items": 20, "storage_mb": 50}, "pro": {"items": 500, "storage_mb": 5000}}
_CHUNK = 900


@dataclass(frozen=True)
class Limits:
    items: int
    storage_bytes: int

    def out(self) -> dict:
        return {"items": self.items, "storage_bytes": self.storage_bytes,
                "storage_mb": round(self.storage_bytes / MB, 3)}


def load_limits(env: Mapping[str, str] | None = None) -> dict[str, Limits]:
    env = os.environ if env is None else env
    limits = {}
    for tier, defaults in DEFAULTS.items():
        values = {}
        for name, default in defaults.items():
            key = f"{ENV_PREFIX}QUOTA_{tier.upper()}_{name.upper()}"
            raw = env.get(key)
            try:
                value = default if raw is None else (int(raw) if name == "items"
                                                     else float(raw))
            except ValueError:
                raise ValueError(f"{key} must be a number, not {raw!r}") from None
            if value < 0:
                raise ValueError(f"{key} must not be negative")
            values[name] = value
        limits[tier] = Limits(int(values["items"]), int(values["storage_mb"] * MB))
    return limits


def all_limits(app) -> dict[str, Limits]:
    """The limits of this app (read from the environment once per worker)."""
    limits = getattr(app.state, "quota_limits", None)
    if limits is None:
        limits = app.state.quota_limits = load_limits()
    return limits


def limits_of(ctx: Ctx, user: User) -> Limits:
    limits = all_limits(ctx.request.app)
    return limits.get(user.tier, limits["free"])


def _size(n: int) -> str:
    if n >= MB:
        return f"{n / MB:.1f} MB".replace(".0 MB", " MB")
    if n >= 1024:
        return f"{n / 1024:.1f} KB".replace(".0 KB", " KB")
    return f"{n} bytes"


def _tier_name(user: User) -> str:
    return (user.tier if user.tier in TIERS else "free").capitalize()


def _upgrade_hint(user: User) -> str:
    return "Delete a story or upgrade to pro." if user.tier != "pro" else \
        "Delete a story to make room."


def item_counts(ctx: Ctx, user_id: int) -> dict[str, int]:
    s = ctx.session
    counts = {
        "stories": s.scalar(select(func.count()).select_from(Story).where(
            Story.owner_id == user_id,
            ~exists(select(StoryDeletion.story_id).where(StoryDeletion.story_id == Story.id)))),
        "chapters": s.scalar(select(func.count()).select_from(CommunityChapter)
                             .where(CommunityChapter.owner_id == user_id)),
        "voice_templates": s.scalar(select(func.count()).select_from(VoiceTemplate)
                                    .where(VoiceTemplate.owner_id == user_id)),
    }
    return {**counts, "items": sum(counts.values())}


def storage_used(ctx: Ctx, user_id: int) -> int:
    used = ctx.session.scalar(select(UserUsage.storage_bytes)
                              .where(UserUsage.user_id == user_id))
    return int(used or 0)


def _lock_usage(ctx: Ctx) -> int:
    """The caller's stored bytes, their usage row locked until the transaction ends."""
    ctx.session.execute(ctx.db.insert(UserUsage).values(
        user_id=ctx.user_id, storage_bytes=0, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["user_id"]))
    return int(ctx.session.scalar(select(UserUsage.storage_bytes)
                                  .where(UserUsage.user_id == ctx.user_id).with_for_update()))


def check_new_item(ctx: Ctx) -> None:
    """Refuse a new story, community chapter or voice template over the item limit."""
    _lock_usage(ctx)
    limit = limits_of(ctx, ctx.user).items
    counts = item_counts(ctx, ctx.user_id)
    if counts["items"] >= limit:
        raise ApiError(
            403, f"{_tier_name(ctx.user)} accounts may keep {limit} stories (community "
            f"chapters and voice templates count too); you have {counts['items']}: "
            f"{counts['stories']} stories, {counts['chapters']} chapters, "
            f"{counts['voice_templates']} voice templates. {_upgrade_hint(ctx.user)}",
            "quota_exceeded", quota="items", tier=ctx.user.tier, limit=limit,
            usage=counts["items"])


def _refuse_storage(ctx: Ctx, used: int, needed: int, limit: int) -> ApiError:
    more = f" and this needs {_size(needed)} more" if needed else ""
    return ApiError(
        403, f"{_tier_name(ctx.user)} accounts may store {_size(limit)}; you use "
        f"{_size(used)}{more}. {_upgrade_hint(ctx.user)}", "quota_exceeded",
        quota="storage", tier=ctx.user.tier, limit=limit, usage=used, needed=needed)


def check_storage_room(ctx: Ctx) -> None:
    """Refuse when the caller's storage is already full (new forks, for instance)."""
    used = storage_used(ctx, ctx.user_id)
    limit = limits_of(ctx, ctx.user).storage_bytes
    if used >= limit:
        raise _refuse_storage(ctx, used, 0, limit)


def charge(ctx: Ctx, nbytes: int) -> int:
    """Add ``nbytes`` to the caller's storage, or refuse (403) if that goes over the limit."""
    used = _lock_usage(ctx)
    limit = limits_of(ctx, ctx.user).storage_bytes
    if used + nbytes > limit:
        raise _refuse_storage(ctx, used, nbytes, limit)
    ctx.session.execute(update(UserUsage).where(UserUsage.user_id == ctx.user_id).values(
        storage_bytes=UserUsage.storage_bytes + nbytes, updated_at=utcnow()))
    return used + nbytes


def release(ctx: Ctx, user_id: int, nbytes: int) -> None:
    """Give bytes back (for deletions); never below zero."""
    ctx.session.execute(update(UserUsage).where(UserUsage.user_id == user_id).values(
        storage_bytes=func.max(UserUsage.storage_bytes - nbytes, 0)
        if ctx.db.dialect == "sqlite" else func.greatest(UserUsage.storage_bytes - nbytes, 0),
        updated_at=utcnow()))


def json_bytes(*parts: Any) -> int:
    return sum(len(json.dumps(p, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
                   .encode("utf-8")) for p in parts)


def new_text_bytes(ctx: Ctx, manuscript: dict) -> int:
    """UTF-8 bytes of the manuscript's segment texts the server has not stored yet (call it
    before the publish stores them)."""
    texts: dict[str, str] = {}
    for chapter in manuscript.get("chapters", []):
        for scene in chapter.get("scenes", []):
            for segment in scene.get("segments", []):
                texts.setdefault(text_hash(segment["text"]), segment["text"])
    hashes = list(texts)
    known: set[str] = set()
    for i in range(0, len(hashes), _CHUNK):
        known.update(ctx.session.scalars(select(SegmentText.hash).where(
            SegmentText.hash.in_(hashes[i:i + _CHUNK]))))
    return sum(len(t.encode("utf-8")) for h, t in texts.items() if h not in known)


def story_version_bytes(manifest: dict, parts: dict) -> int:
    return json_bytes(manifest, parts.get("modules") or {}, parts.get("scene_bible") or {},
                      parts.get("chapter_graph") or {})


def quota_out(ctx: Ctx, user: User) -> dict:
    limits = limits_of(ctx, user)
    counts = item_counts(ctx, user.id)
    used = storage_used(ctx, user.id)
    return {
        "tier": user.tier,
        "limits": limits.out(),
        "usage": {**counts, "storage_bytes": used, "storage_mb": round(used / MB, 3)},
        "remaining": {"items": max(limits.items - counts["items"], 0),
                      "storage_bytes": max(limits.storage_bytes - used, 0)},
        "storage_note": "Storage counts the segment texts you stored first and the JSON of "
                        "your story versions, community chapters and voice templates.",
    }
