"""Authorization sweep over the whole OpenAPI document, both backends (PostgreSQL as the
non-owner role, so row-level security is in force).

User A makes private rows of every kind the API has: the known ones (an unlisted story, a
private story with a collaborator, forks with overrides, likes, a request with an idempotency
key, a story hidden by a moderator) and,
generically, a row from every creating operation in the document — each POST/PUT with a
minimal valid body made as private as the body allows (``visibility`` not public), and every
GET on A's rows that answers with a new id (a job).  Reference data that only moderators may
create (idea categories, …) is made by an admin first.  Then user B, and an anonymous client:

- list: every GET operation without path parameters, also with A's username and A's hidden
  texts in its query parameters, must show none of A's private ids or texts;
- call every operation that has a path parameter with A's private ids substituted and a
  minimal valid body (B's mutating requests carry an idempotency key A has used): never 2xx —
  B gets 403/404, anonymous 401/403/404, with no private text in the answer — except the
  operations in ``ALLOWED_FOR_OTHERS`` (each with the rule that allows it; never for a row a
  moderator hid, nor for a story of visibility "private": its link is no capability) and the
  fixed refusals of ``REFUSED_TO_ALL``;

and afterwards A re-reads everything: unchanged (public counters excepted).
"""

from __future__ import annotations

import itertools
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, find, settings
from hypothesis import strategies as st

from tests.marketplace.helpers import publish, unique

# Operations another user may answer with 2xx on A's private (unlisted) rows, and the rule.
# Key: (method, path template as in the OpenAPI document).  Hidden rows get no exception.
BY_LINK = "unlisted: readable by anyone holding its id, never listed (test_privacy.py)"
ANALYSIS = "an analysis is 404 only when its story is not visible (routers/analyses.py)"
COMMUNITY = "community items follow the stories' rules (routers/community.py docstring)"
OWN_ROW = "the caller's own row about an item the caller can read (like, fork)"
ALLOWED_FOR_OTHERS = {
    ("GET", "/v1/stories/{story_id}"): BY_LINK,
    ("GET", "/v1/stories/{story_id}/versions"): BY_LINK,
    ("GET", "/v1/stories/{story_id}/versions/{number}"): BY_LINK,
    ("GET", "/v1/stories/{story_id}/versions/{number}/content"): BY_LINK,
    ("GET", "/v1/stories/{story_id}/lineage"): BY_LINK,
    ("GET", "/v1/stories/{story_id}/versions/{number}/analysis"): ANALYSIS,
    ("PUT", "/v1/stories/{story_id}/like"): OWN_ROW,
    ("DELETE", "/v1/stories/{story_id}/like"): OWN_ROW,
    ("POST", "/v1/stories/{story_id}/forks"): OWN_ROW,
    ("GET", "/v1/chapters/{chapter_id}"): COMMUNITY,
    ("GET", "/v1/chapters/{chapter_id}/versions"): COMMUNITY,
    ("GET", "/v1/chapters/{chapter_id}/versions/{number}"): COMMUNITY,
    ("GET", "/v1/chapters/{chapter_id}/versions/{number}/content"): COMMUNITY,
    ("GET", "/v1/chapters/{chapter_id}/lineage"): COMMUNITY,
    ("POST", "/v1/chapters/{chapter_id}/forks"): COMMUNITY,
    ("GET", "/v1/voice-templates/{template_id}"): COMMUNITY,
    ("GET", "/v1/voice-templates/{template_id}/content"): COMMUNITY,
}
# Operations that refuse everyone alike, whatever the id (so they reveal nothing either).
REFUSED_TO_ALL = {
    # "A voice template is permanent reference data: it never changes and is never deleted
    # (DELETE is a 405)" (routers/community.py docstring).
    ("DELETE", "/v1/voice-templates/{template_id}"): 405,
}
# Not rows of A: accounts, sessions, and what only admins set on accounts.
SKIP_CREATE = re.compile(r"^/v1/(auth/|accounts$|admin/)")
# Counters other users legitimately move: left out when comparing A's rows before and after.
VOLATILE = {"stats", "views", "likes", "forks", "downloads"}
PRIVATE_ENUM_PREFERENCE = ("private", "unlisted", "draft", "pending", "hidden")
SECRET = "A's secret override"
METHOD_ORDER = {"GET": 0, "PUT": 1, "POST": 2, "PATCH": 3, "DELETE": 4}
HIDE = "/v1/moderation/items/{item_type}/{item_id}/hide"


@dataclass
class Operation:
    method: str
    path: str
    spec: dict
    doc: dict

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def params(self, where: str) -> list[dict]:
        found = (resolve(self.doc, p) for p in self.spec.get("parameters", []))
        return [p for p in found if p.get("in") == where]

    def body_schema(self) -> dict | None:
        media = self.spec.get("requestBody", {}).get("content", {}).get("application/json")
        return resolve(self.doc, media.get("schema", {})) if media is not None else None


@dataclass
class Rows:
    """A's rows (id -> kind), which are private or hidden, other users' ids, reference data
    made by the admin (kind -> values), and texts of A's that must never leak."""
    usernames: list[str]
    kinds: dict = field(default_factory=dict)
    private: set = field(default_factory=set)
    hidden: set = field(default_factory=set)
    members_only: set = field(default_factory=set)  # A's "private" stories: no link rule
    foreign: set = field(default_factory=set)
    refs: dict[str, list] = field(default_factory=dict)
    secrets: set = field(default_factory=set)
    forks: list = field(default_factory=list)  # A's forks of the public story, unlisted, B's
    errors: list = field(default_factory=list)  # 5xx while making them
    id_patterns: set = field(default_factory=set)  # of the document's "…_id" path parameters

    def add(self, value, kind: str, private: bool = True) -> bool:
        if value in self.kinds or value in self.foreign or isinstance(value, bool):
            return False
        self.kinds[value] = kind
        if private:
            self.private.add(value)
        return True

    def mine(self) -> list:
        return sorted(self.kinds, key=lambda v: (v not in self.private, str(v)))


class NoAnswer:
    """What a dropped connection is recorded as (a server error)."""

    def __init__(self, exc: Exception):
        self.status_code, self.text = 599, f"no answer: {exc!r}"

    def json(self):
        raise ValueError(self.text)


def resolve(doc: dict, node):
    while isinstance(node, dict) and "$ref" in node:
        target = doc
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def operations(doc: dict) -> list[Operation]:
    out = [Operation(method.upper(), path, spec, doc)
           for path, methods in doc["paths"].items() for method, spec in methods.items()
           if method.upper() in METHOD_ORDER]
    return sorted(out, key=lambda op: (METHOD_ORDER[op.method], op.path))


_REGEX_EXAMPLES: dict[str, str] = {}


def regex_example(pattern: str) -> str:
    if pattern not in _REGEX_EXAMPLES:
        _REGEX_EXAMPLES[pattern] = find(
            st.from_regex(pattern, fullmatch=True), lambda s: True,
            settings=settings(database=None, suppress_health_check=list(HealthCheck)))
    return _REGEX_EXAMPLES[pattern]


def kind_of(path: str) -> str:
    """The kind a collection path holds: its last literal segment, singular."""
    literal = [s for s in path.split("/") if s and not s.startswith("{")][-1]
    return literal[:-3] + "y" if literal.endswith("ies") else literal.removesuffix("s")


def _options(doc: dict, schema: dict) -> list[dict]:
    schema = resolve(doc, schema)
    found = [resolve(doc, s) for s in schema.get("anyOf", schema.get("oneOf", [schema]))]
    return [s for s in found if s.get("type") != "null"] or found


def fitting(values, name: str, schema: dict, rows: Rows) -> list:
    """The values that fit a parameter: by its pattern, else by kind name and type."""
    schema = _options({}, schema)[0]
    pattern, integer = schema.get("pattern"), schema.get("type") == "integer"
    out = []
    for value in values:
        if integer != isinstance(value, int) or isinstance(value, bool):
            continue
        if pattern:
            if isinstance(value, str) and re.search(pattern, value):
                out.append(value)
        elif rows.kinds.get(value) in (name, name.removesuffix("_id")):
            out.append(value)
    return out


def minimal(doc: dict, schema: dict, rows: Rows, private: bool, name: str = "",
            depth: int = 0):
    """A small valid instance of a JSON schema: required properties only; ids of existing rows
    where a string names one; enums as private as they go when ``private``."""
    options = _options(doc, schema)
    schema = options[0]
    if depth > 12:
        return None
    if "allOf" in schema:
        merged: dict = {}
        for part in schema["allOf"]:
            merged.update(resolve(doc, part))
        schema = merged
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        values = schema["enum"]
        if private and "public" in values:
            return next((v for v in PRIVATE_ENUM_PREFERENCE if v in values),
                        next(v for v in values if v != "public"))
        return values[0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = {k: resolve(doc, v) for k, v in schema.get("properties", {}).items()}
        out = {k: minimal(doc, props.get(k, {}), rows, private, k, depth + 1)
               for k in schema.get("required", [])}
        for key, sub in props.items():  # make the row private where the body allows
            if private and key not in out and any("public" in o.get("enum", ())
                                                  for o in _options(doc, sub)):
                out[key] = minimal(doc, sub, rows, private, key, depth + 1)
        for pattern, sub in schema.get("patternProperties", {}).items():
            if len(out) >= schema.get("minProperties", 0):
                break
            out[regex_example(pattern)] = minimal(doc, sub, rows, private, "", depth + 1)
        if len(out) < schema.get("minProperties", 0):
            extra = schema.get("additionalProperties")
            out["k"] = minimal(doc, extra if isinstance(extra, dict) else {"type": "integer"},
                               rows, private, "", depth + 1)
        return out
    if kind == "array":
        return [minimal(doc, schema.get("items", {}), rows, private, "", depth + 1)
                for _ in range(schema.get("minItems", 0))]
    if name and kind in ("string", "integer"):
        # Reference data first (an idea's category), then other users' public rows (what one
        # reports or analyses), then A's own.
        known = rows.refs.get(name, []) + sorted(rows.foreign, key=str) + rows.mine()
        if "pattern" in schema or name.endswith("_id") or name in rows.refs:
            fits = fitting(known, name, schema, rows) if name not in rows.refs \
                else rows.refs[name]
            if fits:
                return fits[0]
    if kind == "string":
        if "pattern" in schema:  # a fresh name where it fits (a slug), else the simplest
            fresh = unique("sweep")
            return fresh if re.search(schema["pattern"], fresh) \
                else regex_example(schema["pattern"])
        text = "sweep text"
        low, high = schema.get("minLength", 1), schema.get("maxLength", len(text))
        return (text * (low // len(text) + 1))[:max(low, min(high, len(text)))]
    if kind in ("integer", "number"):
        value = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return False
    return {} if kind is None else None


def url_of(op: Operation, values: dict) -> str:
    path = op.path
    for name, value in values.items():
        path = path.replace("{" + name + "}", quote(str(value), safe=""))
    return path


def call(client, op: Operation, values: dict, rows: Rows, private_body: bool,
         idempotency_key: str | None = None):
    kwargs: dict = {"params": {p["name"]: minimal(op.doc, p.get("schema", {}), rows, False,
                                                  p["name"])
                               for p in op.params("query") if p.get("required")}}
    body = op.body_schema()
    if body is not None:
        kwargs["json"] = minimal(op.doc, body, rows, private_body)
    if op.method != "GET":
        kwargs["headers"] = {"Idempotency-Key": idempotency_key or str(uuid.uuid4())}
    try:
        return client.request(op.method, url_of(op, values), **kwargs)
    except httpx.TransportError as exc:
        return NoAnswer(exc)


def combos(rows: Rows, op: Operation, only_private: bool, limit: int) -> list[dict]:
    """Path-parameter values from A's rows (enums: every value; integers: 1).  With
    ``only_private`` each combination holds a private row of A's (or A's username)."""
    params = op.params("path")
    choices = []
    for p in params:
        schema = _options(op.doc, p.get("schema", {}))[0]
        if p["name"] == "username":
            values = rows.usernames
        elif "enum" in schema:
            values = schema["enum"]
        else:
            values = fitting(rows.mine(), p["name"], schema, rows)[:12]
            if not values and schema.get("type") == "integer":
                values = [1]
        choices.append(values)
    out = []
    for combo in itertools.product(*choices):
        if only_private and not any(v in rows.private or v in rows.usernames for v in combo):
            continue
        out.append(dict(zip((p["name"] for p in params), combo)))
    return out[:limit]


def new_ids(rows: Rows, value, kind: str, key: str = "") -> None:
    """Record as A's private rows the ids in an answer to A that are new: strings under an
    "id" or "…_id" key that fit the pattern of some path parameter of the document."""
    if isinstance(value, dict):
        for k, v in value.items():
            new_ids(rows, v, k.removesuffix("_id") if k.endswith("_id") else
                    (kind if k == "id" else k), k)
    elif isinstance(value, list):
        for v in value:
            new_ids(rows, v, kind, key)
    elif (key == "id" or key.endswith("_id")) and isinstance(value, str) \
            and any(re.search(p, value) for p in rows.id_patterns):
        rows.add(value, kind)


def make_rows(a, other, admin, ops: list[Operation]) -> Rows:
    rows = Rows(usernames=[a.username])
    rows.id_patterns = {_options(op.doc, p.get("schema", {}))[0].get("pattern")
                        for op in ops for p in op.params("path")
                        if p["name"].endswith("_id")} - {None}
    theirs = publish(other, ["o0", "o1"])["story"]["id"]
    rows.foreign.add(theirs)
    public = publish(a, ["p0", "p1", "p2"])["story"]["id"]
    rows.add(public, "story", private=False)
    title = unique("Hidden ")
    rows.secrets |= {title, SECRET}
    unlisted = publish(a, ["u0", "u1"], title=title, visibility="unlisted")["story"]["id"]
    rows.add(unlisted, "story")
    for source in (public, unlisted, theirs):
        r = a.post(f"/v1/stories/{source}/forks", json={"title": unique("A's fork ")})
        assert r.status_code == 201, r.text
        rows.add(r.json()["id"], "fork")
        rows.forks.append(r.json()["id"])
        r = a.patch(f"/v1/forks/{r.json()['id']}/segments", json={"segments": {"seg_1": SECRET}},
                    headers={"Idempotency-Key": unique("key-")})
        assert r.status_code == 200, r.text
    for story in (public, unlisted, theirs):
        assert a.put(f"/v1/stories/{story}/like").status_code == 200
    # a collaborator row on A's unlisted story (the admin invited as an editor), so that the
    # collaborator operations aim at a real row under both usernames
    r = a.post(f"/v1/stories/{unlisted}/collaborators",
               json={"username": admin.username, "role": "editor"})
    assert r.status_code == 201, r.text
    rows.usernames.append(admin.username)
    # a private story (only A and A's collaborators read it): B never reaches it, by link or not
    private_title = unique("Members only ")
    rows.secrets.add(private_title)
    private = publish(a, ["m0", "m1"], title=private_title, visibility="private")["story"]["id"]
    rows.add(private, "story")
    r = a.post(f"/v1/stories/{private}/collaborators",
               json={"username": admin.username, "role": "viewer"})
    assert r.status_code == 201, r.text
    assert admin.post(f"/v1/invitations/{private}/accept").status_code == 200
    if any(op.path == HIDE for op in ops):  # hidden by a moderator: 404 to all but A
        hidden = publish(a, ["h0"], title=unique("Hidden by a moderator "))["story"]["id"]
        r = admin.post(HIDE.format(item_type="story", item_id=hidden))
        assert r.status_code == 200, r.text
        rows.add(hidden, "story")
        rows.hidden.add(hidden)
    explicit = set(rows.kinds)
    # A row from every creating operation, twice over (the second round uses the first
    # round's rows); what A may not create (reference data) the admin makes.
    creating = [op for op in ops if op.method in ("POST", "PUT") and not SKIP_CREATE.match(
        op.path) and op.path != HIDE]
    for _ in range(2):
        for op in creating:
            for values in combos(rows, op, False, 2) or ([] if op.params("path") else [{}]):
                r = call(a, op, values, rows, private_body=True)
                if r.status_code == 403 and not values:
                    r = call(admin, op, values, rows, private_body=True)
                    if r.status_code >= 500:
                        rows.errors.append(f"admin {op.label} -> {r.status_code} {r.text[:300]}")
                    if 200 <= r.status_code < 300:
                        for key, value in r.json().items():
                            if key in ("slug", "id"):
                                rows.refs.setdefault(kind_of(op.path), []).append(value)
                    continue
                if r.status_code >= 500:
                    rows.errors.append(f"A {op.label} {values} -> {r.status_code} {r.text[:300]}")
                if 200 <= r.status_code < 300:
                    new_ids(rows, r.json(), kind_of(op.path))
    # One row of every kind a moderator can hide (of those just made), hidden.
    hide = next((op for op in ops if op.path == HIDE), None)
    if hide is not None:
        kinds = next(p for p in hide.params("path") if p["name"] == "item_type")
        item_types = _options(hide.doc, kinds.get("schema", {}))[0]["enum"]
        made = [v for v in rows.mine() if v in rows.private and v not in rows.hidden
                and v not in explicit]
        for item_type in item_types:
            for value in made:
                r = admin.post(url_of(hide, {"item_type": item_type, "item_id": value}))
                if r.status_code == 200:
                    rows.hidden.add(value)
                    break
    # every private story of A's (the generic rounds make some: "private" is preferred)
    rows.members_only |= {s["id"] for s in a.get("/v1/accounts/me/stories").json()["items"]
                          if s["visibility"] == "private"}
    # Rows that reading makes (a job for an analysis)
    for op in ops:
        if op.method == "GET" and op.params("path"):
            for values in combos(rows, op, False, 4):
                r = call(a, op, values, rows, private_body=False)
                if 200 <= r.status_code < 300:
                    new_ids(rows, r.json(), kind_of(op.path))
    return rows


def normalised(value):
    if isinstance(value, dict):
        return {k: normalised(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [normalised(v) for v in value]
    return value


def snapshot(a, ops: list[Operation], rows: Rows) -> dict:
    """Everything A reads about A's private rows, and A's own listings."""
    shot = {}
    for op in ops:
        if op.method != "GET":
            continue
        for values in (combos(rows, op, True, 12) if op.params("path") else [{}]):
            r = call(a, op, values, rows, private_body=False)
            try:
                payload = normalised(r.json())
            except ValueError:
                payload = r.text
            shot[op.label, tuple(sorted(values.items()))] = (r.status_code, payload)
    return shot


def settled_snapshot(a, ops, rows, timeout: float = 30) -> dict:
    """A's view once background work (jobs) no longer changes it."""
    deadline = time.monotonic() + timeout
    shot = snapshot(a, ops, rows)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        again = snapshot(a, ops, rows)
        if again == shot:
            return shot
        shot = again
    return shot


def listing_variants(op: Operation, rows: Rows) -> list[dict]:
    variants: list[dict] = [{}]
    for p in op.params("query"):
        options = _options(op.doc, p.get("schema", {}))
        enums = [v for o in options for v in o.get("enum", ())]
        if enums:
            variants += [{p["name"]: v} for v in enums]
        elif any(o.get("type") == "boolean" for o in options):
            variants.append({p["name"]: "true"})
        elif any(o.get("type") == "string" for o in options):
            variants += [{p["name"]: v} for v in [*rows.usernames, *sorted(rows.secrets)]]
        elif any(o.get("type") == "array" for o in options):
            variants.append({p["name"]: rows.usernames})
    return variants[:16]


@pytest.fixture
def sweep_users(server, make_account):
    admin = make_account("sweepadmin")
    server.sql("UPDATE users SET role = 'admin' WHERE username = ?", (admin.username,))
    with server.client() as anon:
        yield make_account("sweepa"), make_account("sweepb"), admin, anon


def test_other_users_never_reach_private_rows(server, sweep_users):
    a, b, admin, anon = sweep_users
    if server.backend == "postgresql":  # the server's role is subject to row-level security
        assert server.sql("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = ?",
                          (server.pg["role"],)) == [(False, False)]
    ops = operations(a.get("/openapi.json").json())
    rows = make_rows(a, b, admin, ops)
    a_key = unique("key-")  # a key A has used; B sending it must not replay A's answer
    r = a.patch(f"/v1/forks/{rows.forks[0]}/segments", json={"segments": {"seg_2": SECRET}},
                headers={"Idempotency-Key": a_key})
    assert r.status_code == 200, r.text
    before = settled_snapshot(a, ops, rows)
    problems: list[str] = list(rows.errors)
    private_ids = {v for v in rows.private if isinstance(v, str)}

    # 1. Listings as B and anonymously: nothing private of A's, even when asked by name.
    listings = [op for op in ops if op.method == "GET" and not op.params("path")]
    for op in listings:
        for (who, client), params in itertools.product((("B", b), ("anonymous", anon)),
                                                       listing_variants(op, rows)):
            r = client.get(op.path, params=params)
            leaked = sorted(x for x in private_ids | rows.secrets if x in r.text)
            if r.status_code >= 500 or leaked:
                problems.append(f"{who} {op.label} {params} -> {r.status_code} shows {leaked}")

    # 2. Every operation with a path parameter on A's private rows, as B and anonymously;
    # deletions last.
    covered, uncovered = [], []
    seen: dict[str, Counter] = {}
    swept = [op for op in ops if op.params("path")]
    for op in swept:
        values_list = combos(rows, op, True, 12)
        (covered if values_list else uncovered).append(op.label)
        rule = ALLOWED_FOR_OTHERS.get((op.method, op.path))
        everyone = REFUSED_TO_ALL.get((op.method, op.path))
        for values in values_list:
            allowed = rule is not None and not (rows.hidden | rows.members_only) \
                & set(values.values())
            for who, client, refused in (("B", b, {403, 404, everyone}),
                                         ("anonymous", anon, {401, 403, 404, everyone})):
                r = call(client, op, values, rows, private_body=False,
                         idempotency_key=None if allowed else a_key)
                where = f"{who} {op.label} {values} -> {r.status_code}"
                seen.setdefault(op.label, Counter())[f"{who[:4]}{r.status_code}"] += 1
                if r.status_code >= 500:
                    problems.append(f"{where} (server error) {r.text[:300]}")
                elif allowed:
                    pass
                elif r.status_code not in refused:
                    problems.append(f"{where}, expected one of {sorted(refused - {None})}: "
                                    f"{r.text[:300]}")
                elif any(s in r.text for s in rows.secrets):
                    problems.append(f"{where} shows a private text: {r.text[:300]}")

    # 3. A's rows are as they were.
    after = settled_snapshot(a, ops, rows)
    for key in sorted(before, key=str):
        if before[key] != after.get(key):
            problems.append(f"A's view changed: {key}\n  before {before[key]}\n"
                            f"  after  {after.get(key)}")

    kinds = Counter(rows.kinds[v] for v in rows.private)
    print(f"\n{server.backend}: A's private rows {dict(kinds)} (hidden by a moderator: "
          f"{len(rows.hidden)}; private stories: {len(rows.members_only)}); reference data "
          f"by the admin {rows.refs}; {len(listings)} "
          f"listings; {len(covered)}/{len(swept)} operations with path parameters swept "
          "(B/anonymous statuses):")
    for label in covered:
        print(f"  {label:58} {dict(sorted(seen.get(label, {}).items()))}")
    print(f"  without a row of A's to aim at: {uncovered}")
    assert not problems, "\n".join(problems)
    assert not [u for u in uncovered if "{fork_id}" in u or "{story_id}" in u], uncovered
    assert len(rows.members_only) >= 2  # the explicit one and a generic one
