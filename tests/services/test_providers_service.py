"""The provider registry's use cases: settings in the database, keys only in the keyring,
defaults per capability, usage summed per story and month."""

from __future__ import annotations

from datetime import datetime, timezone

import keyring
import pytest

from studio.domain.errors import NotFoundError, ValidationError
from studio.providers import keys, registry
from studio.providers.base import Capability, Usage
from studio.services import providers, stories
from studio.store.repositories import providers as repo

SECRET = "sk-test-0123456789abcdef"


def _openai(db, name="Local model", key=None, **settings):
    return providers.save_provider(
        db, "openai", name, {"base_url": "http://127.0.0.1:9/v1", "model": "m", **settings},
        key=key)


def test_built_in_kinds_declare_their_capabilities():
    caps = {k.id: k.capabilities for k in registry.kinds()}
    assert caps["offline"] == {Capability.ANALYSIS, Capability.EMBEDDINGS}
    assert caps["openai"] == {Capability.TEXT, Capability.EMBEDDINGS}
    assert caps["elevenlabs"] == {Capability.SPEECH, Capability.VOICE_CLONE}
    assert Capability.IMAGE in caps["openai_images"] and Capability.IMAGE in caps["a1111"]


def test_the_key_goes_to_the_keyring_never_to_the_database(db):
    config = _openai(db, key=SECRET)
    assert keyring.get_password(keys.SERVICE, f"provider-{config.id}") == SECRET
    db.close()
    raw = (db.path).read_bytes()
    assert SECRET.encode() not in raw
    assert b"Local model" in raw


def test_settings_that_look_like_secrets_are_refused(db):
    with pytest.raises(ValidationError, match="keyring"):
        _openai(db, api_key=SECRET)
    assert providers.list_providers(db)[1:] == []


def test_settings_are_checked(db):
    with pytest.raises(ValidationError, match="http"):
        providers.save_provider(db, "openai", "X", {"base_url": "ftp://x"})
    with pytest.raises(ValidationError, match="number"):
        providers.save_provider(db, "openai", "X", {"timeout": "soon"})
    _openai(db, name="Twin")
    with pytest.raises(ValidationError, match="already used"):
        _openai(db, name="twin")


def test_list_defaults_and_provider_for(db):
    offline = providers.list_providers(db)[0]
    assert offline.config.name == "Offline" and set(offline.defaults) == {"analysis",
                                                                         "embeddings"}
    assert providers.provider_for(db, "text") is None  # nothing can write text yet
    assert providers.provider_for(db, "embeddings")[0].id == 0  # offline
    local = _openai(db, key=SECRET)
    config, key = providers.provider_for(db, "text")
    assert (config.id, key) == (local.id, SECRET)
    # embeddings: the offline one stays default until the author picks the model server
    providers.set_default(db, "embeddings", local.id)
    assert providers.provider_for(db, "embeddings")[0].id == local.id
    info = {p.config.name: p for p in providers.list_providers(db)}
    assert "embeddings" in info["Local model"].defaults
    assert "embeddings" not in info["Offline"].defaults
    providers.set_default(db, "embeddings", None)
    assert providers.provider_for(db, "embeddings")[0].id == 0
    with pytest.raises(ValidationError, match="cannot do"):
        providers.set_default(db, "speech", local.id)


def test_editing_keeps_or_replaces_the_key_and_delete_removes_it(db):
    config = _openai(db, key=SECRET)
    url = {"base_url": "http://127.0.0.1:9/v1", "model": "m"}
    providers.save_provider(db, "openai", "Renamed", {**url, "model": "other"}, config.id,
                            key=None)
    assert keys.load_key(config.id) == SECRET
    assert providers.get_provider(db, config.id).settings["model"] == "other"
    providers.save_provider(db, "openai", "Renamed", url, config.id, key="")
    assert keys.load_key(config.id) is None
    providers.save_provider(db, "openai", "Renamed", url, config.id, key="new-key-1234")
    providers.delete_provider(db, config.id)
    assert keys.load_key(config.id) is None
    with pytest.raises(NotFoundError):
        providers.get_provider(db, config.id)


def test_usage_is_summed_per_month_and_story(db):
    story = stories.create_story(db, "Costs").id
    config = _openai(db)
    providers.record_usage(db, config, Usage("text", "m", 100, 50, cost=0.002), story,
                           "assist:idea_spark")
    providers.record_usage(db, config, Usage("text", "m", 10, 5, cost=0.001), story)
    providers.record_usage(db, config, Usage("embeddings", "e", 30, cost=0.0001), None)
    with db.session() as s:  # one call last month
        repo.add_usage(s, at=datetime(2026, 10, 3, tzinfo=timezone.utc), provider_id=config.id,
                       provider_name=config.name, kind="openai", capability="text",
                       purpose="", model="m", story_id=story, input_tokens=1,
                       output_tokens=1, characters=0, images=0, cost=0.5)
    this_story = providers.usage_summary(db, story)
    months = [(u.month, u.capability, u.calls, u.input_tokens, u.output_tokens, u.cost)
              for u in this_story]
    now = datetime.now(timezone.utc).strftime("%Y-%m")
    assert months[0] == (now, "text", 2, 110, 55, 0.003)
    assert months[-1] == ("2026-10", "text", 1, 1, 1, 0.5)
    everything = providers.usage_summary(db)
    assert {(u.capability, u.calls) for u in everything if u.month == now} == {
        ("text", 2), ("embeddings", 1)}
    # the record survives the provider's removal, under its name
    providers.delete_provider(db, config.id)
    assert providers.usage_summary(db, story)[0].provider == "Local model"


def test_a_locked_keyring_only_stops_providers_that_need_a_key(db, monkeypatch):
    webui = providers.save_provider(db, "a1111", "WebUI", {"base_url": "http://127.0.0.1:9"})
    local = _openai(db)
    voices = providers.save_provider(db, "elevenlabs", "Voices", {})
    providers.set_default(db, "image", webui.id)

    def locked(_provider_id):
        raise keys.CredentialsUnavailable("the keyring is locked")

    monkeypatch.setattr(keys, "load_key", locked)
    assert providers.provider_for(db, "image") == (webui, None)
    assert providers.provider_for(db, "text") == (local, None)  # a local server needs none
    with pytest.raises(keys.CredentialsUnavailable, match="locked"):
        providers.provider_for(db, "speech")
    assert voices.id
