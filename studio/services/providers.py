"""Use cases of the provider registry: configure providers, choose defaults, record usage.

Settings go to the database, keys only to the OS keyring (``studio.providers.keys``); a
setting whose name looks like a secret is refused so a key can never land in the database by
mistake.  The offline provider is not stored: it is always there (id 0) and is what a
capability falls back to when the author chose nothing and it can do the job.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

from studio.domain.errors import NotFoundError, ValidationError
from studio.providers import keys, registry
from studio.providers.base import Capability, ProviderConfig, Usage
from studio.providers.offline import OFFLINE_CONFIG
from studio.store.database import Database
from studio.store.repositories import providers as repo

SECRET_WORDS = ("key", "token", "secret", "password")
MAX_NAME = 200


@dataclass(frozen=True)
class ProviderInfo:
    config: ProviderConfig
    kind_label: str
    capabilities: tuple[str, ...]
    needs_key: bool
    key_optional: bool
    has_key: bool
    defaults: tuple[str, ...]  # capabilities this provider is the default for


@dataclass(frozen=True)
class UsageLine:
    """Usage summed per month and provider (and story, when summed per story)."""

    month: str            # "2026-11"
    provider: str
    capability: str
    calls: int
    input_tokens: int
    output_tokens: int
    characters: int
    images: int
    cost: float
    story_id: int | None = None


def _config(row) -> ProviderConfig:
    try:
        settings = json.loads(row.settings_json or "{}")
    except ValueError:
        settings = {}
    return ProviderConfig(kind=row.kind, name=row.name,
                          settings=settings if isinstance(settings, dict) else {}, id=row.id)


def _check_settings(kind_id: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    kind = registry.kind(kind_id)
    known = {s.key: s for s in kind.settings}
    clean: dict[str, Any] = {}
    for key, value in settings.items():
        if any(w in key.lower() for w in SECRET_WORDS):
            raise ValidationError("Provider", [key], "looks like a secret: keys are kept in "
                                  "the system keyring, not in settings")
        spec = known.get(key)
        if spec is None:
            continue  # settings of an older or newer version of the kind: dropped
        if spec.kind in ("number", "int") and value not in ("", None):
            try:
                value = int(value) if spec.kind == "int" else float(value)
            except (TypeError, ValueError):
                raise ValidationError("Provider", [spec.label], "must be a number") from None
            if value < 0:
                raise ValidationError("Provider", [spec.label], "cannot be negative")
        elif spec.kind == "url" and value:
            value = str(value).strip()
            if not value.startswith(("http://", "https://")):
                raise ValidationError("Provider", [spec.label],
                                      "must start with http:// or https://")
        elif spec.kind == "choice" and value and value not in spec.choices:
            raise ValidationError("Provider", [spec.label],
                                  f"must be one of {', '.join(spec.choices)}")
        elif isinstance(value, str):
            value = value.strip()
        if spec.required and value in ("", None):
            raise ValidationError("Provider", [spec.label], "is required")
        clean[key] = value
    for spec in kind.settings:
        if clean.get(spec.key) in ("", None) and spec.default not in ("", None):
            clean[spec.key] = spec.default  # the kind's default (e.g. its usual model)
        if spec.required and clean.get(spec.key) in ("", None):
            raise ValidationError("Provider", [spec.label], "is required")
    return clean


def list_providers(db: Database) -> list[ProviderInfo]:
    """The offline provider first, then the configured ones in the order they were added."""
    with db.session() as s:
        rows = [_config(r) for r in repo.all_configs(s)]
        chosen = repo.defaults(s)
    out = []
    for config in [OFFLINE_CONFIG, *rows]:
        kind = registry.kind(config.kind)
        caps = sorted(c.value for c in kind.capabilities)
        mine = tuple(sorted(c for c, pid in chosen.items() if pid == config.id))
        if config.id == 0:
            mine = tuple(c for c in caps if c not in chosen)
        out.append(ProviderInfo(config, kind.label, tuple(caps), kind.needs_key,
                                kind.key_optional,
                                bool(config.id) and keys.has_key(config.id), mine))
    return out


def get_provider(db: Database, provider_id: int) -> ProviderConfig:
    if provider_id == 0:
        return OFFLINE_CONFIG
    with db.session() as s:
        row = repo.config(s, provider_id)
        if row is None:
            raise NotFoundError(f"There is no provider {provider_id}.")
        return _config(row)


def save_provider(db: Database, kind: str, name: str, settings: Mapping[str, Any],
                  provider_id: int | None = None, key: str | None = None) -> ProviderConfig:
    """Add (``provider_id`` None) or change a provider.  ``key``: None leaves the stored key
    as it is, "" removes it, anything else replaces it (in the keyring, after the row is
    committed, so a refused row never leaves a stray key)."""
    name = " ".join(str(name).split())
    if not name:
        raise ValidationError("Provider", ["name"], "is required")
    if len(name) > MAX_NAME:
        raise ValidationError("Provider", ["name"], f"is longer than {MAX_NAME} characters")
    if kind == OFFLINE_CONFIG.kind:
        raise ValidationError("Provider", ["kind"], "the offline provider is built in")
    clean = _check_settings(kind, settings)
    with db.session() as s:
        other = repo.by_name(s, name)
        if other is not None and other.id != provider_id:
            raise ValidationError("Provider", ["name"], f"“{name}” is already used")
        if provider_id is None:
            row = repo.add_config(s, kind, name, json.dumps(clean, sort_keys=True))
        else:
            row = repo.config(s, provider_id)
            if row is None:
                raise NotFoundError(f"There is no provider {provider_id}.")
            row.kind, row.name = kind, name
            row.settings_json = json.dumps(clean, sort_keys=True)
            row.updated_at = datetime.now(timezone.utc)
        s.flush()
        config = _config(row)
    if key is not None:
        keys.save_key(config.id, key)
    return config


def delete_provider(db: Database, provider_id: int) -> None:
    """Remove the provider and its key; its usage records stay (with its name)."""
    with db.session() as s:
        row = repo.config(s, provider_id)
        if row is None:
            raise NotFoundError(f"There is no provider {provider_id}.")
        s.delete(row)
    keys.delete_key(provider_id)


def set_default(db: Database, capability: str, provider_id: int | None) -> None:
    """Make a provider the default for a capability (None or 0: the offline provider)."""
    cap = Capability(capability)
    with db.session() as s:
        if provider_id:
            row = repo.config(s, provider_id)
            if row is None:
                raise NotFoundError(f"There is no provider {provider_id}.")
            if cap not in registry.kind(row.kind).capabilities:
                raise ValidationError("Provider", [row.name], f"cannot do {cap.label.lower()}")
        elif cap not in registry.kind(OFFLINE_CONFIG.kind).capabilities:
            provider_id = None
        repo.set_default(s, cap.value, provider_id or None)


def provider_for(db: Database, capability: str) -> tuple[ProviderConfig, str | None] | None:
    """The default provider of a capability and its key (read from the keyring), or None when
    nothing can do it: the one the author chose; else the offline provider where it can (no
    surprise network calls or costs); else the first configured provider that can."""
    cap = Capability(capability)
    with db.session() as s:
        chosen = repo.defaults(s).get(cap.value)
        rows = [_config(r) for r in repo.all_configs(s)]
    picked = next((c for c in rows if c.id == chosen), None)
    if picked is None and cap in registry.capabilities(OFFLINE_CONFIG):
        return OFFLINE_CONFIG, None
    if picked is None:
        picked = next((c for c in rows if cap in registry.capabilities(c)), None)
    if picked is None:
        return None
    return picked, key_for(picked)


def key_for(config: ProviderConfig) -> str | None:
    """The provider's key; a kind that needs none (a local server) works even when the
    keyring cannot be read — only a kind that needs its key reports the keyring's trouble."""
    kind = registry.kind(config.kind)
    if not kind.needs_key:
        return None
    try:
        return keys.load_key(config.id)
    except keys.CredentialsUnavailable:
        if kind.key_optional:
            return None
        raise


def record_usage(db: Database, config: ProviderConfig, usage: Usage,
                 story_id: int | None = None, purpose: str = "") -> None:
    with db.session() as s:
        repo.add_usage(s, provider_id=config.id or None, provider_name=config.name,
                       kind=config.kind, capability=usage.capability, purpose=purpose[:80],
                       model=usage.model[:200], story_id=story_id,
                       input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
                       characters=usage.characters, images=usage.images,
                       cost=round(usage.cost, 6))


def usage_summary(db: Database, story_id: int | None = None,
                  per_story: bool = False) -> list[UsageLine]:
    """Usage per month (newest first) and provider; of one story, or of all (``per_story``:
    one line per story as well)."""
    with db.session() as s:
        rows = repo.usage_rows(s, story_id)
        sums: dict[tuple, list] = defaultdict(lambda: [0] * 6 + [0.0])
        for r in rows:
            at = r.at if r.at.tzinfo else r.at.replace(tzinfo=timezone.utc)
            key = (at.strftime("%Y-%m"), r.provider_name, r.capability,
                   r.story_id if per_story or story_id is not None else None)
            acc = sums[key]
            for i, v in enumerate((1, r.input_tokens, r.output_tokens, r.characters,
                                   r.images)):
                acc[i] += v
            acc[6] += r.cost
    lines = [UsageLine(m, p, c, a[0], a[1], a[2], a[3], a[4], round(a[6], 4), sid)
             for (m, p, c, sid), a in sums.items()]
    return sorted(lines, key=lambda u: (_neg_month(u.month), u.provider, u.capability,
                                        u.story_id or 0))


def _neg_month(month: str) -> tuple[int, int]:
    year, mon = month.split("-")
    return (-int(year), -int(mon))
