"""Backups of the database file through SQLite's online backup API.

The backup API copies a consistent image even while the WAL holds uncommitted pages, which a
plain file copy would not.  Backups are named by time so that sorting by name is sorting by age.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

KEEP_BACKUPS = 10
BACKUP_SUFFIX = ".sqlite3"


def backup_database(source: Path, backups_dir: Path, reason: str = "manual",
                    keep: int = KEEP_BACKUPS) -> Path:
    """Copy ``source`` into ``backups_dir`` and prune the oldest so only ``keep`` remain."""
    backups_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
    safe_reason = "".join(c if c.isalnum() or c in "-_" else "-" for c in reason)[:40]
    target = backups_dir / f"{source.stem}-{stamp}-{safe_reason}{BACKUP_SUFFIX}"
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, \
            closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    prune_backups(backups_dir, source.stem, keep)
    return target


def list_backups(backups_dir: Path, stem: str) -> list[Path]:
    if not backups_dir.is_dir():
        return []
    return sorted(backups_dir.glob(f"{stem}-*{BACKUP_SUFFIX}"))


def prune_backups(backups_dir: Path, stem: str, keep: int = KEEP_BACKUPS) -> None:
    backups = list_backups(backups_dir, stem)
    for old in backups[: max(0, len(backups) - keep)]:
        old.unlink(missing_ok=True)


def restore_database(backup: Path, target: Path) -> None:
    """Write ``backup`` over ``target`` page by page (no other connection may be open)."""
    with closing(sqlite3.connect(f"file:{backup}?mode=ro", uri=True)) as src, \
            closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
        dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
