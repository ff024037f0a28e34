"""Settings of the marketplace server: one frozen object, built from the CLI or the environment.

Several uvicorn workers each build their own app, so everything a worker needs travels in
environment variables (``STUDIO_MARKETPLACE_*``): the CLI writes them, ``from_env`` reads them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

import platformdirs

API_VERSION = "1"
SERVER_VERSION = "0.1.0"
ENV_PREFIX = "STUDIO_MARKETPLACE_"
DATABASE_FILENAME = "marketplace.sqlite3"
# The same folder names as the desktop app (studio.config), which the server does not import.
APP_NAME = "StoryStudio"
APP_AUTHOR = "StoryStudio"

# Hard limits of the API, reported by GET /v1/meta; pydantic models use the same numbers.
MAX_BODY_BYTES = 20 * 1024 * 1024
MAX_SEGMENTS = 100_000
MAX_SEGMENT_CHARS = 100_000
MAX_PAGE_SIZE = 100
MAX_TAGS = 20
# Browse counts at most this many matching stories; beyond it ``total`` is this number and
# ``total_is_lower_bound`` is true ("1,000+"): an exact count of a large catalogue costs more
# than the page itself, and cursor pages do not need it.
BROWSE_TOTAL_CAP = 1000


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR)) / "marketplace"


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{Path(data_dir).expanduser().resolve() / DATABASE_FILENAME}"


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3 here."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


@dataclass(frozen=True)
class Settings:
    database_url: str
    access_token_seconds: int = 3600
    refresh_token_seconds: int = 30 * 24 * 3600
    login_max_failures: int = 5
    login_window_seconds: int = 60
    max_body_bytes: int = MAX_BODY_BYTES
    max_segments: int = MAX_SEGMENTS
    max_page_size: int = MAX_PAGE_SIZE
    fork_full_threshold: float = 0.6
    trending_days: int = 7
    # sort=trending reads story_stats.downloads_7d: bumped with every counted download, and
    # recomputed from the daily counters by the job workers this often (and whenever the UTC
    # day changes), so that old days fall out of the window.
    trending_refresh_seconds: float = 3600.0
    idempotency_days: int = 7
    # argon2id cost; the defaults are argon2-cffi's (RFC 9106 "low memory" profile).  Tests
    # lower them through the environment to keep a session of many log-ins fast.
    password_time_cost: int = 3
    password_memory_kib: int = 65536
    password_parallelism: int = 4
    # PostgreSQL connections per server process: enough for the requests a process really
    # runs at once (each holds one at a time), so that connections are kept rather than
    # opened and closed under load (PostgreSQL starts a process for each; SQLAlchemy closes
    # an overflow connection when it comes back to a full pool).
    db_pool_size: int = 15
    db_max_overflow: int = 5
    # Anonymous GET /v1/stories answers are kept this many seconds per server process (0: off):
    # many visitors asking for the same first pages share one query.  Logged-in callers are
    # never served from it (their pages carry their own ``liked_by_me``).
    browse_cache_seconds: float = 2.0
    browse_cache_mb: float = 32.0

    @classmethod
    def from_env(cls, env: os._Environ | dict | None = None) -> "Settings":
        env = os.environ if env is None else env
        values: dict = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            values[f.name] = raw if f.type == "str" else (
                float(raw) if f.type == "float" else int(raw))
        if "database_url" not in values:
            data_dir = env.get(ENV_PREFIX + "DATA_DIR")
            values["database_url"] = sqlite_url(Path(data_dir) if data_dir
                                                else default_data_dir())
        values["database_url"] = normalise_url(values["database_url"])
        return cls(**values)

    def to_env(self) -> dict[str, str]:
        return {ENV_PREFIX + f.name.upper(): str(getattr(self, f.name)) for f in fields(self)}

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
