"""Voice templates: list, create, supersede, hide (never delete), proposals from a story's
analysis, and sharing through the marketplace.

A template is permanent reference data: narrations and roleplay lines point at its uid, so
once stored it is never changed in place and never deleted (the service refuses, and a
database trigger refuses too).  An author who wants it different *supersedes* it — a new
template, the old one pointing at it — or *hides* it from lists.  The built-in set is inserted
on first use (``list_templates``), so it is always there.

Marketplace: ``publish_template`` only queues the operation in the outbox (it lands when the
server is reachable, exactly once); its local halves are ``prepare_publish`` /
``complete_publish`` (registered in ``services.marketplace_ops.HANDLERS``).  The server keeps
parameters as numbers only, so the emphasis level travels as its index in ``EMPHASIS``, the
kind as a tag, and a template voicing no emotion is filed under its kind.  ``take_template``
stores a downloaded template as a local permanent copy (``source`` "marketplace").
"""

from __future__ import annotations

import math
import re
import secrets
from typing import Any, Iterable, Mapping, NoReturn

from studio.domain.errors import NotFoundError, StudioError, ValidationError
from studio.domain.voices import (
    EMPHASIS, KINDS, LIMITS, MAX_LINE, MAX_NAME, TEMPLATE_PREFIX, VoiceParams, VoiceTemplate,
    check_template, covered_emotions, propose_from_analysis, supersede as supersede_rule,
    template_for_emotion,
)
from studio.store.database import Database
from studio.store.repositories import voice_templates as repo

PERMANENT_MESSAGE = ("Voice templates are permanent so narrations that use them never break: "
                     "supersede it with a new version or hide it.")
EMOTION_RE = re.compile(r"^[a-z][a-z0-9 _-]{0,39}$")
PARAM_NAMES = tuple(VoiceParams.__dataclass_fields__)

# What the marketplace accepts (its request schema); checked here so a bad value is refused
# when the author queues the publish, not later by the server.
OUTBOX_KIND = "publish_voice_template"
LICENCES = ("CC-BY", "CC-BY-NC", "all-rights-reserved")
VISIBILITIES = ("public", "unlisted")
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9 _-]{0,39}$")
REMOTE_ID_RE = re.compile(r"^vt_[A-Za-z0-9_-]{1,28}$")
MAX_TAGS = 20
MAX_DESCRIPTION = 5000


class PermanentTemplate(StudioError):
    """Asked to delete a voice template: templates are permanent (supersede or hide)."""


class Proposals(list):
    """``proposals``' answer: a list of ``{"emotion", "scenes", "example"}`` that also says
    whether the story has been analysed (``analysed``; False: the UI offers "Analyse the
    story first") and whether that analysis is of the story as it is now (``current``)."""

    def __init__(self, items: Iterable[dict[str, Any]] = (), *, analysed: bool = True,
                 current: bool = True):
        super().__init__(items)
        self.analysed = analysed
        self.current = current

    @property
    def message(self) -> str:
        """A line for the UI when the list alone does not say enough."""
        if not self.analysed:
            return "Analyse the story first: new templates are proposed from its emotions."
        if not self:
            return "Every emotion the analysis found already has a voice template."
        if not self.current:
            return "From an older analysis: the story changed since; analyse it again."
        return ""


# --- reading --------------------------------------------------------------------------------

def list_templates(db: Database, *, include_hidden: bool = False,
                   include_superseded: bool = False) -> list[VoiceTemplate]:
    """The templates in the order they were added (the built-in set first).  Inserts the
    built-in ones that are missing, so a fresh library — or one made by an older app that
    shipped fewer — always has the full set."""
    with db.session() as s:
        repo.ensure_builtins(s)
        out = [repo.to_domain(r) for r in repo.all_rows(s)]
    return [t for t in out if (include_hidden or not t.hidden)
            and (include_superseded or not t.superseded_by)]


def get(db: Database, uid: str) -> VoiceTemplate:
    with db.session() as s:
        return repo.to_domain(_row(s, uid))


def _row(s, uid: str):
    row = repo.by_uid(s, uid) if isinstance(uid, str) else None
    if row is None:
        if isinstance(uid, str) and uid.startswith(f"{TEMPLATE_PREFIX}builtin_"):
            repo.ensure_builtins(s)  # a built-in asked for before the first list
            row = repo.by_uid(s, uid)
        if row is None:
            raise NotFoundError(f"There is no voice template {uid!r}.")
    return row


# --- checking input ---------------------------------------------------------------------------

def _clean_name(name: Any) -> str:
    if not isinstance(name, str):
        raise ValidationError("Voice template", ["name"], "must be text")
    return " ".join(name.split())


def _clean_emotion(emotion: Any, kind: str = "emotion") -> str:
    if emotion is None:
        emotion = ""
    if not isinstance(emotion, str):
        raise ValidationError("Voice template", ["emotion"], "must be text")
    emotion = " ".join(emotion.split()).lower()
    if emotion and not EMOTION_RE.match(emotion):
        raise ValidationError("Voice template", ["emotion"], "must start with a letter and hold "
                              "at most 40 letters, digits, spaces, “-” or “_”")
    if kind == "emotion" and not emotion:
        raise ValidationError("Voice template", ["emotion"],
                              "is required for a template of the kind “emotion”")
    return emotion


def _clean_params(params: Any) -> VoiceParams:
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise ValidationError("Voice template", ["params"], "must be an object of parameters")
    unknown = sorted(str(k) for k in params if k not in PARAM_NAMES)
    if unknown:
        raise ValidationError("Voice template", ["params", unknown[0]],
                              f"is not a voice parameter ({', '.join(PARAM_NAMES)})")
    for key in LIMITS:  # NaN passes a range check by comparing false: refuse it by name
        value = params.get(key)
        if isinstance(value, float) and not math.isfinite(value):
            raise ValidationError("Voice template", ["params", key], "must be a finite number")
    try:
        return VoiceParams.from_dict(params)  # a ValidationError naming the first bad field
    except ValidationError as exc:
        raise ValidationError("Voice template", ["params", *exc.path], exc.reason) from None


def _checked(uid: str, name: Any, kind: Any, emotion: Any, params: Any, sample_line: Any,
             source: str) -> VoiceTemplate:
    name = _clean_name(name)
    if not isinstance(kind, str):
        raise ValidationError("Voice template", ["kind"], f"must be one of {', '.join(KINDS)}")
    if sample_line is None:
        sample_line = ""
    if not isinstance(sample_line, str):
        raise ValidationError("Voice template", ["sample_line"], "must be text")
    sample_line = sample_line.strip()
    check_template(name, kind, sample_line)
    return VoiceTemplate(uid, name, kind, _clean_emotion(emotion, kind), _clean_params(params),
                         sample_line, False, source)


def new_uid() -> str:
    return TEMPLATE_PREFIX + secrets.token_hex(8)


# --- changing -------------------------------------------------------------------------------

def create(db: Database, name: str, kind: str, emotion: str, params: Mapping[str, Any],
           sample_line: str = "") -> VoiceTemplate:
    """A new template of the author's; refused with a ``ValidationError`` naming the field
    (out-of-range numbers, an unknown emphasis or parameter, a name over 80 characters…)."""
    template = _checked(new_uid(), name, kind, emotion, params, sample_line, "author")
    with db.session() as s:
        repo.ensure_builtins(s)
        repo.add(s, template)
    return template


def supersede(db: Database, uid: str, *, name: str | None = None,
              params: Mapping[str, Any] | None = None, sample_line: str | None = None,
              emotion: str | None = None) -> VoiceTemplate:
    """A new version of a template (built-in ones too): a new template with the changes
    (``params`` may name only the parameters that change), and the old one kept, pointing at
    it through ``superseded_by`` — narrations that use the old one keep sounding the same
    until the author moves them.  Returns the new template."""
    with db.session() as s:
        row = _row(s, uid)
        old = repo.to_domain(row)
        merged = {**old.params.as_dict(), **dict(params)} if isinstance(params, Mapping) \
            else params if params is not None else old.params.as_dict()
        new = _checked(new_uid(), old.name if name is None else name, old.kind,
                       old.emotion if emotion is None else emotion, merged,
                       old.sample_line if sample_line is None else sample_line, "author")
        old, new = supersede_rule(old, new)  # refuses an old one already superseded
        if (new.name, new.emotion, new.params, new.sample_line) == \
                (old.name, old.emotion, old.params, old.sample_line):
            raise ValidationError("Voice template", [old.name],
                                  "nothing changed: a new version needs a change")
        repo.add(s, new)
        row.superseded_by = new.uid
    return new


def hide(db: Database, uid: str, hidden: bool = True) -> VoiceTemplate:
    """Hide a template from lists (or show it again); narrations that use it still work."""
    with db.session() as s:
        row = _row(s, uid)
        row.hidden = bool(hidden)
        return repo.to_domain(row)


def delete(db: Database, uid: str) -> NoReturn:
    """Always refused: a template is permanent (the database refuses as well)."""
    try:
        name = get(db, uid).name
    except NotFoundError:
        raise PermanentTemplate(PERMANENT_MESSAGE) from None
    raise PermanentTemplate(f"“{name}” cannot be deleted. {PERMANENT_MESSAGE}")


# --- templates from an analysis ---------------------------------------------------------------

def proposals(db: Database, story_id: int) -> Proposals:
    """Emotions the story's latest stored analysis found (dominant in a scene or for a
    character) that no current template voices, most frequent first.  No analysis yet: an
    empty list with ``analysed`` False (the UI says "analyse the story first")."""
    from studio.services import analysis

    stored = analysis.latest(db, story_id)
    if stored is None:
        return Proposals(analysed=False, current=False)
    templates = list_templates(db, include_hidden=True)
    return Proposals(propose_from_analysis(stored.result, templates), analysed=True,
                     current=stored.current)


def adopt(db: Database, emotion: str) -> VoiceTemplate:
    """A template voicing ``emotion`` with starting parameters for it (source "analysis");
    refused when a current template already voices it (a hidden one included: show it)."""
    emotion = _clean_emotion(emotion)
    with db.session() as s:
        repo.ensure_builtins(s)
        templates = [repo.to_domain(r) for r in repo.all_rows(s)]
        if emotion in covered_emotions(templates):
            have = next(t for t in templates if t.emotion == emotion and not t.superseded_by)
            hint = " (it is hidden: show it again)" if have.hidden else ""
            raise ValidationError("Voice template", ["emotion"],
                                  f"“{emotion}” already has a template: “{have.name}”{hint}")
        template = template_for_emotion(new_uid(), emotion, "analysis")
        repo.add(s, template)
    return template


# --- marketplace: publish through the outbox ----------------------------------------------------

def _check_meta(licence: Any, description: Any, tags: Any, visibility: Any) -> dict[str, Any]:
    if licence not in LICENCES:
        raise ValidationError("Publish voice template", ["licence"],
                              f"choose one of {', '.join(LICENCES)}")
    if visibility not in VISIBILITIES:
        raise ValidationError("Publish voice template", ["visibility"],
                              f"must be one of {', '.join(VISIBILITIES)}")
    if description is not None and (not isinstance(description, str)
                                    or len(description) > MAX_DESCRIPTION):
        raise ValidationError("Publish voice template", ["description"],
                              f"must be text of at most {MAX_DESCRIPTION} characters")
    if isinstance(tags, str) or not isinstance(tags, Iterable):
        raise ValidationError("Publish voice template", ["tags"], "must be a list of words")
    clean: list[str] = []
    for tag in tags:
        tag = tag.strip().lower() if isinstance(tag, str) else tag
        if not isinstance(tag, str) or not TAG_RE.match(tag):
            raise ValidationError("Publish voice template", ["tags"], f"{tag!r} is not a tag "
                                  "(letters, digits, spaces, “-”, “_”; at most 40)")
        if tag not in clean:
            clean.append(tag)
    if len(clean) > MAX_TAGS - 1:  # one more is added: the template's kind
        raise ValidationError("Publish voice template", ["tags"],
                              f"at most {MAX_TAGS - 1} tags")
    return {"licence": licence, "visibility": visibility, "tags": clean,
            "description": description}


def publish_template(db: Database, uid: str, server_url: str, licence: str, *,
                     description: str | None = None, tags: Iterable[str] = (),
                     visibility: str = "public") -> int:
    """Queue sharing one of the author's templates on the marketplace at ``server_url``;
    returns the outbox entry's id.  ``description`` defaults to the sample line.  When the
    template supersedes one the author published, the server records it as its successor.
    Built-in templates (every Story Studio has them), templates taken from the marketplace,
    one already published or queued, and a superseded one are refused with the reason."""
    from studio.store.repositories import outbox as outbox_repo

    meta = _check_meta(licence, description, tags, visibility)
    with db.session() as s:
        row = _row(s, uid)
        t = repo.to_domain(row)
        if t.builtin:
            raise ValidationError("Publish voice template", [t.name], "is built in: every Story "
                                  "Studio has it. Supersede it with your own version and "
                                  "publish that.")
        if t.source == "marketplace":
            raise ValidationError("Publish voice template", [t.name], "was taken from the "
                                  "marketplace, where it already is.")
        if row.remote_id:
            raise ValidationError("Publish voice template", [t.name],
                                  f"is already on the marketplace ({row.remote_id}).")
        if t.superseded_by:
            raise ValidationError("Publish voice template", [t.name], "is superseded: publish "
                                  "its newest version instead.")
        for entry in outbox_repo.entries(s, ("pending", "sending", "failed")):
            if entry.kind == OUTBOX_KIND and \
                    outbox_repo.payload(entry).get("template_uid") == t.uid:
                raise ValidationError("Publish voice template", [t.name], "is already waiting "
                                      "to be published (see the marketplace's outbox).")
        payload = {"template_uid": t.uid, **meta}
        entry = outbox_repo.enqueue(s, server_url, OUTBOX_KIND,
                                    f"Publish voice template “{t.name}”", payload)
        return entry.id


def wire_parameters(params: VoiceParams) -> dict[str, float | int]:
    """The parameters as the marketplace keeps them: numbers only (emphasis as its index)."""
    out: dict[str, float | int] = {k: v for k, v in params.as_dict().items() if k != "emphasis"}
    out["emphasis"] = EMPHASIS.index(params.emphasis)
    return out


def publish_body(s, payload: dict[str, Any]) -> dict[str, Any]:
    """The server's request body for a queued publish, from the template as it is stored."""
    row = _row(s, payload.get("template_uid"))
    t = repo.to_domain(row)
    description = payload.get("description")
    tags = list(payload.get("tags") or [])
    if t.kind not in tags:
        tags.append(t.kind)  # how ``take_template`` knows a sound or modulation again
    body: dict[str, Any] = {
        "name": t.name, "description": t.sample_line if description is None else description,
        "emotion": t.emotion or t.kind, "parameters": wire_parameters(t.params), "tags": tags,
        "licence": payload["licence"], "visibility": payload.get("visibility", "public")}
    older = next((r for r in repo.all_rows(s) if r.superseded_by == t.uid), None)
    if older is not None and older.remote_id and older.source != "marketplace":
        body["supersedes"] = older.remote_id  # the author's own earlier version
    return body


def prepare_publish(db: Database, entry_id: int) -> dict:
    """The outbox's ``prepare``: the body is built on the first attempt and frozen in the
    entry, so every retry sends the very same request (the server's idempotency replay)."""
    from studio.store.repositories import marketplace as market_repo

    with db.session() as s:
        entry = market_repo.outbox_entry(s, entry_id)
        payload = market_repo.outbox_payload(entry)
        body = payload.get("body")
        if not isinstance(body, dict):
            body = publish_body(s, payload)
            market_repo.freeze_payload(entry, {"body": body})
        return {"template_uid": payload.get("template_uid"), "body": body}


def complete_publish(db: Database, entry_id: int, result: dict) -> None:
    """The outbox's ``complete``: remember the template's marketplace id (idempotent)."""
    from studio.store.repositories import marketplace as market_repo

    remote = result.get("template_id") if isinstance(result, dict) else None
    if not isinstance(remote, str):
        return
    with db.session() as s:
        entry = market_repo.outbox_entry(s, entry_id)
        row = repo.by_uid(s, market_repo.outbox_payload(entry).get("template_uid"))
        if row is not None:
            row.remote_id = remote


# --- marketplace: take a template -----------------------------------------------------------

def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def params_from_wire(parameters: Mapping[str, Any]) -> VoiceParams:
    """Parameters from the marketplace: the known ones, clamped into their ranges (another
    app may publish a wider range); unknown names are ignored."""
    data: dict[str, Any] = {}
    for key, (low, high) in LIMITS.items():
        value = _number(parameters.get(key))
        if value is not None:
            data[key] = min(high, max(low, value))
    level = _number(parameters.get("emphasis"))
    if level is not None and 0 <= level < len(EMPHASIS) and level == int(level):
        data["emphasis"] = EMPHASIS[int(level)]
    return VoiceParams.from_dict(data)


def take_template(db: Database, content: dict[str, Any]) -> VoiceTemplate:
    """A local permanent copy of a marketplace template (``client.voice_template_content``'s
    answer); taking the same one again returns the copy already kept.  When the library holds
    the marketplace template this one supersedes, that copy now points at the new one."""
    if not isinstance(content, dict):
        raise ValidationError("Voice template", ["content"], "is not a voice template")
    remote = content.get("id")
    if not isinstance(remote, str) or not REMOTE_ID_RE.match(remote):
        raise ValidationError("Voice template", ["id"], "is not a marketplace template id")
    parameters = content.get("parameters")
    if not isinstance(parameters, dict):
        raise ValidationError("Voice template", ["parameters"], "are missing")
    tags = content.get("tags") if isinstance(content.get("tags"), list) else []
    kind = next((t for t in tags if t in KINDS), "emotion")
    emotion = content.get("emotion") if isinstance(content.get("emotion"), str) else ""
    if kind != "emotion" and emotion == kind:
        emotion = ""  # filed under its kind: it voices no emotion
    name = _clean_name(content.get("name") or "")[:MAX_NAME].strip() or remote
    line = content.get("description") if isinstance(content.get("description"), str) else ""
    line = line.strip() if len(line.strip()) <= MAX_LINE else ""
    with db.session() as s:
        repo.ensure_builtins(s)
        have = repo.by_remote(s, remote)
        if have is not None:
            return repo.to_domain(have)
        template = VoiceTemplate(new_uid(), name, kind, _clean_emotion(emotion, kind),
                                 params_from_wire(parameters), line, False, "marketplace")
        repo.add(s, template, remote_id=remote)
        older_id = content.get("supersedes")
        older = repo.by_remote(s, older_id) if isinstance(older_id, str) else None
        if older is not None and older.source == "marketplace" and not older.superseded_by:
            older.superseded_by = template.uid
    return template


async def take_from_marketplace(session_or_client: Any, run_db: Any, db: Database,
                                template_id: str) -> VoiceTemplate:
    """Download a marketplace template and keep it (``take_template``).  The first argument
    is the app's marketplace session (its ``client()``) or a ``MarketplaceClient``."""
    client_of = getattr(session_or_client, "client", None)
    client = client_of() if callable(client_of) else session_or_client
    content = await client.voice_template_content(template_id)
    return await run_db(take_template, db, content)

