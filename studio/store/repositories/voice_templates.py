"""Voice templates: permanent reference data (no delete here, and a trigger refuses one)."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.domain.voices import BUILTIN_TEMPLATES, VoiceParams, VoiceTemplate
from studio.store.models import utcnow
from studio.store.models_voice import VoiceTemplateRow


def to_domain(row: VoiceTemplateRow) -> VoiceTemplate:
    try:
        params = VoiceParams.from_dict(json.loads(row.params_json or "{}"))
    except (ValueError, TypeError):
        params = VoiceParams()
    return VoiceTemplate(row.uid, row.name, row.kind, row.emotion, params, row.sample_line,
                         row.builtin, row.source, row.superseded_by, row.hidden)


def ensure_builtins(s: Session) -> None:
    """Insert the shipped templates that are missing (a newer app may ship more)."""
    have = set(s.scalars(select(VoiceTemplateRow.uid).where(VoiceTemplateRow.builtin)))
    for t in BUILTIN_TEMPLATES:
        if t.uid not in have:
            add(s, t)


def add(s: Session, t: VoiceTemplate, remote_id: str | None = None) -> VoiceTemplateRow:
    row = VoiceTemplateRow(uid=t.uid, name=t.name, kind=t.kind, emotion=t.emotion,
                           params_json=json.dumps(t.params.as_dict(), sort_keys=True),
                           sample_line=t.sample_line, builtin=t.builtin, source=t.source,
                           remote_id=remote_id, superseded_by=t.superseded_by,
                           hidden=t.hidden, created_at=utcnow())
    s.add(row)
    s.flush()
    return row


def all_rows(s: Session) -> list[VoiceTemplateRow]:
    return list(s.scalars(select(VoiceTemplateRow).order_by(VoiceTemplateRow.id)))


def by_uid(s: Session, uid: str) -> VoiceTemplateRow | None:
    return s.scalar(select(VoiceTemplateRow).where(VoiceTemplateRow.uid == uid))


def by_remote(s: Session, remote_id: str) -> VoiceTemplateRow | None:
    return s.scalar(select(VoiceTemplateRow).where(VoiceTemplateRow.remote_id == remote_id))
