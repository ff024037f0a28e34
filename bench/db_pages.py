"""What a SQLite file holds, in pages: the storage benchmarks' ruler.

``measure`` checkpoints the WAL and counts the pages in use (``page_count - freelist``) and, per
table and index, the pages ``dbstat`` reports; ``growth`` is the difference of two measures.
SQLite allocates whole pages, so small growths show up in page-size steps.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def measure(path: Path) -> dict:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        tables = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
    return {"bytes": (pages - free) * page_size, "page_size": page_size, "tables": tables}


def growth(before: dict, after: dict) -> dict:
    tables = {name: after["tables"].get(name, 0) - before["tables"].get(name, 0)
              for name in set(before["tables"]) | set(after["tables"])}
    return {"bytes": after["bytes"] - before["bytes"],
            "tables": {k: v for k, v in sorted(tables.items()) if v}}
