"""GET /v1/meta: what this server speaks and its limits (clients read it before anything)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from studio.marketplace.models_community import FLAG_REASONS
from studio.marketplace.quotas import all_limits
from studio.marketplace.schemas_community import (
    MAX_CHAPTER_BYTES, MAX_FLAG_NOTE, MAX_PARAMETER_NAME, MAX_PARAMETERS,
)
from studio.marketplace.settings import (
    API_VERSION, BROWSE_TOTAL_CAP, MAX_SEGMENT_CHARS, MAX_TAGS, SERVER_VERSION,
)

router = APIRouter(prefix="/v1", tags=["meta"])

FEATURES = [
    "accounts", "token-refresh", "login-rate-limit", "stories", "immutable-versions",
    "content-addressed-segments", "browse", "search", "likes", "lineage", "forks",
    "fork-strategies", "source-sync", "three-way-merge", "remix", "idempotency-keys",
    "community-chapters", "voice-templates", "views", "moderation-flags", "quotas",
    "ideas-board", "reference-analyses", "job-queue", "story-deletion", "cursor-pagination",
    "browse-total-cap", "browse-cache",
]


@router.get("/meta", summary="API version, features and limits")
def meta(request: Request) -> dict:
    settings = request.app.state.settings
    return {
        "api_version": API_VERSION,
        "server_version": SERVER_VERSION,
        "features": FEATURES,
        "limits": {
            "max_page_size": settings.max_page_size,
            "max_body_bytes": settings.max_body_bytes,
            "max_segments": settings.max_segments,
            "max_segment_chars": MAX_SEGMENT_CHARS,
            "max_tags": MAX_TAGS,
            "login_failures_per_window": settings.login_max_failures,
            "login_window_seconds": settings.login_window_seconds,
            "access_token_seconds": settings.access_token_seconds,
            "refresh_token_seconds": settings.refresh_token_seconds,
            "fork_full_threshold": settings.fork_full_threshold,
            "max_chapter_bytes": MAX_CHAPTER_BYTES,
            "max_voice_parameters": MAX_PARAMETERS,
            "max_voice_parameter_name": MAX_PARAMETER_NAME,
            "max_flag_note": MAX_FLAG_NOTE,
            # Browse counts up to this many stories (then total_is_lower_bound), and anonymous
            # browse answers may be this many seconds old (0: never).
            "browse_total_cap": BROWSE_TOTAL_CAP,
            "browse_cache_seconds": settings.browse_cache_seconds,
        },
        "quotas": {tier: limits.out() for tier, limits in all_limits(request.app).items()},
        "flag_reasons": list(FLAG_REASONS),
        "sort": ["popular", "recent", "trending"],
        "licences": ["CC-BY", "CC-BY-NC", "all-rights-reserved"],
        "openapi": "/openapi.json",
    }

