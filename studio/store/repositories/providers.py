"""Configured providers, defaults per capability, usage records, image presets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from studio.store.models import utcnow
from studio.store.models_ai import (
    ImagePresetRow, ProviderConfigRow, ProviderDefault, ProviderUsage,
)


def all_configs(s: Session) -> list[ProviderConfigRow]:
    return list(s.scalars(select(ProviderConfigRow).order_by(ProviderConfigRow.id)))


def config(s: Session, provider_id: int) -> ProviderConfigRow | None:
    return s.get(ProviderConfigRow, provider_id)


def by_name(s: Session, name: str) -> ProviderConfigRow | None:
    return s.scalar(select(ProviderConfigRow).where(
        func.lower(ProviderConfigRow.name) == name.lower()))


def add_config(s: Session, kind: str, name: str, settings_json: str) -> ProviderConfigRow:
    now = utcnow()
    row = ProviderConfigRow(kind=kind, name=name, settings_json=settings_json,
                            created_at=now, updated_at=now)
    s.add(row)
    s.flush()
    return row


def defaults(s: Session) -> dict[str, int]:
    return {d.capability: d.provider_id for d in s.scalars(select(ProviderDefault))}


def set_default(s: Session, capability: str, provider_id: int | None) -> None:
    s.execute(delete(ProviderDefault).where(ProviderDefault.capability == capability))
    if provider_id is not None:
        s.add(ProviderDefault(capability=capability, provider_id=provider_id))


def add_usage(s: Session, **fields) -> ProviderUsage:
    row = ProviderUsage(at=fields.pop("at", None) or utcnow(), **fields)
    s.add(row)
    s.flush()
    return row


def usage_rows(s: Session, story_id: int | None = None,
               since: datetime | None = None) -> list[ProviderUsage]:
    q = select(ProviderUsage).order_by(ProviderUsage.at)
    if story_id is not None:
        q = q.where(ProviderUsage.story_id == story_id)
    if since is not None:
        q = q.where(ProviderUsage.at >= since)
    return list(s.scalars(q))


def presets(s: Session) -> list[ImagePresetRow]:
    return list(s.scalars(select(ImagePresetRow).order_by(ImagePresetRow.name)))


def preset_by_name(s: Session, name: str) -> ImagePresetRow | None:
    return s.scalar(select(ImagePresetRow).where(ImagePresetRow.name == name))


def upsert_preset(s: Session, name: str, provider_id: int | None, settings_json: str) -> None:
    row = preset_by_name(s, name)
    if row is None:
        row = ImagePresetRow(name=name, created_at=utcnow())
        s.add(row)
    row.provider_id = provider_id
    row.settings_json = settings_json
