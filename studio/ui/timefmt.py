"""Times as an author wants to read them: “2 minutes ago”, “yesterday 14:05”."""

from __future__ import annotations

from datetime import datetime, timezone


def relative_time(when: datetime, now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    seconds = (now - when).total_seconds()
    local = when.astimezone()
    if seconds < 45:
        return "just now"
    if seconds < 3600:
        minutes = round(seconds / 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    if local.date() == now.astimezone().date():
        return local.strftime("today %H:%M")
    if (now.astimezone().date() - local.date()).days == 1:
        return local.strftime("yesterday %H:%M")
    if local.year == now.astimezone().year:
        return local.strftime("%d %b %H:%M")
    return local.strftime("%d %b %Y")
