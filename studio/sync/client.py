"""``MarketplaceClient``: the studio's async HTTP client of the marketplace's ``/v1`` API.

One ``httpx.AsyncClient`` inside (close it with ``aclose()`` or ``async with``).  Every call
returns the server's JSON object as a dict, or raises one of ``studio.sync.errors`` with a
message fit for the author:

- no answer (connection refused, DNS, timeout, connection closed mid-transfer) → ``Offline``;
- 401 → the client refreshes the tokens once (``/v1/auth/refresh``, through its
  ``TokenSource``) and retries; if that fails → ``SignInRequired``.  Reads that work
  anonymously (browse, story, content…) then retry without a token instead;
- 403 ``quota_exceeded`` → ``QuotaExceeded``; 409 → ``ConflictError``; any other 4xx →
  ``Refused`` with the server's ``detail``;
- 5xx, a redirect, or a body that is not the JSON object expected → ``ServerFault``.

Mutating calls take the ``Idempotency-Key`` they must send (the outbox keeps one per
operation, so a retry after a lost answer changes nothing on the server).

Downloads (``version_content``, ``chapter_content``, ``voice_template_content``) stream the body
and report ``progress(bytes_received, content_length_or_None)``.  Cancelling the asyncio task
that awaits them lets ``asyncio.CancelledError`` propagate (asyncio's contract; the connection is
closed on the way out); a progress callback may instead raise ``Cancelled`` to stop the
download, and that ``Cancelled`` propagates to the caller.

A large body (a 1M-word story's content is ~7 MB of JSON) is decoded and a request body
encoded in slices, the event loop running between them (``studio.sync.json_slices``).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from typing import Any, Callable, Iterable
from urllib.parse import quote

import httpx


from studio.sync.client_collab import CollaborationCalls
from studio.sync.json_slices import (
    _json, _json_body, _json_sliced,
)
from studio.sync.errors import (
    ConflictError, MarketplaceError, Offline, QuotaExceeded, Refused, ServerFault,
    SignInRequired,
)

log = logging.getLogger(__name__)

Progress = Callable[[int, "int | None"], None]
USER_AGENT = "StoryStudio/0.1 (+https://github.com/story-studio)"

# auth modes of a request
NONE, OPTIONAL, REQUIRED = "none", "optional", "required"


def stamp_expiries(tokens: dict[str, Any], now: float | None = None) -> dict[str, Any]:
    """The token response with absolute expiry times (epoch seconds) added, so a stored
    sign-in says until when it is good: ``expires_at`` and ``refresh_expires_at``."""
    now = time.time() if now is None else now
    out = dict(tokens)
    if isinstance(out.get("expires_in"), (int, float)):
        out["expires_at"] = now + out["expires_in"]
    if isinstance(out.get("refresh_expires_in"), (int, float)):
        out["refresh_expires_at"] = now + out["refresh_expires_in"]
    return out


class TokenSource:
    """The current tokens of one sign-in, and where to save them when they change.

    ``save(tokens)`` is called with the new token dict after a log-in or a refresh, and with
    ``None`` after a log-out or when the server refused the refresh token (the sign-in is
    over); it may be a plain function or return an awaitable.  ``from_keyring`` wires it to
    ``studio.sync.credentials``.
    """

    def __init__(self, tokens: dict[str, Any] | None = None,
                 save: Callable[[dict[str, Any] | None], Any] | None = None):
        self._tokens = dict(tokens) if tokens else None
        self._save = save
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_keyring(cls, server_url: str, username: str) -> "TokenSource":
        """The sign-in stored in the keyring (may hold no tokens); changes are saved there
        (``studio.sync.credentials.KeyringTokenSource``).  Raises ``CredentialsUnavailable``
        when there is no usable keyring."""
        from studio.sync.credentials import KeyringTokenSource

        return KeyringTokenSource(server_url, username)

    @property
    def tokens(self) -> dict[str, Any] | None:
        return dict(self._tokens) if self._tokens else None

    @property
    def access_token(self) -> str | None:
        return (self._tokens or {}).get("access_token")

    @property
    def refresh_token(self) -> str | None:
        return (self._tokens or {}).get("refresh_token")

    @property
    def username(self) -> str | None:
        user = (self._tokens or {}).get("user")
        return user.get("username") if isinstance(user, dict) else None

    def lock(self) -> asyncio.Lock:
        """Serialises refreshes (a refresh token works once: two concurrent refreshes would
        make the server end the session).  One lock per event loop."""
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    async def update(self, tokens: dict[str, Any] | None) -> None:
        """Hold ``tokens`` (None: signed out) and save them."""
        self._tokens = dict(tokens) if tokens else None
        if self._save is not None:
            result = self._save(self.tokens)
            if inspect.isawaitable(result):
                await result


def _segment(value: Any) -> str:
    return quote(str(value), safe="")


def _clean(params: dict[str, Any]) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, (tuple, set)) else v) for k, v in params.items()
            if v is not None and v != [] and v != ()}


class MarketplaceClient(CollaborationCalls):
    """An async client of one marketplace (``base_url``, e.g. ``https://market.example.org``).

    ``tokens``: the sign-in to use (a ``TokenSource``); ``login`` creates one when none was
    given.  ``transport``: an ``httpx.AsyncBaseTransport`` (tests, proxies); ``timeout``: seconds
    for connecting and for each read or write.
    """

    def __init__(self, base_url: str, *, tokens: TokenSource | None = None,
                 timeout: float = 20.0, transport: httpx.AsyncBaseTransport | None = None):
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self._http = httpx.AsyncClient(
            base_url=self.base_url, timeout=timeout, transport=transport,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"})

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "MarketplaceClient":
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<MarketplaceClient {self.base_url}>"

    # --- the exchange ----------------------------------------------------------------------

    async def _exchange(self, method: str, path: str, *, headers: dict[str, str],
                        body: Any = None, params: dict[str, Any] | None = None,
                        progress: Progress | None = None) -> tuple[httpx.Response, bytes]:
        """Send one request (``body``: JSON already encoded as bytes, or an object to encode)
        and read its whole body (reporting progress); transport failures become ``Offline``
        (or ``ServerFault`` for a body that cannot be decoded)."""
        kwargs: dict[str, Any] = {"headers": headers}
        if body is not None:
            kwargs["content"] = body if isinstance(body, bytes) else await _json_body(body)
            kwargs["headers"] = {**headers, "Content-Type": "application/json"}
        if params:
            kwargs["params"] = params
        try:
            async with self._http.stream(method, path, **kwargs) as response:
                total = _content_length(response)
                chunks: list[bytes] = []
                if progress is not None:
                    progress(0, total)
                async for chunk in response.aiter_bytes():
                    chunks.append(chunk)
                    if progress is not None:
                        progress(response.num_bytes_downloaded, total)
                return response, b"".join(chunks)
        except httpx.TimeoutException as exc:
            raise Offline(
                f"The marketplace at {self.base_url} did not answer in time. Check your "
                "internet connection, or try again later.", detail=str(exc)) from exc
        except httpx.ConnectError as exc:
            raise Offline(
                f"Story Studio cannot reach the marketplace at {self.base_url}: it may be "
                "offline, or this computer may be. Check your internet connection and the "
                "marketplace address.", detail=str(exc)) from exc
        except httpx.UnsupportedProtocol as exc:
            raise MarketplaceError(
                f"“{self.base_url}” is not a marketplace address Story Studio can use: it must "
                "start with http:// or https://.", detail=str(exc)) from exc
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError,
                httpx.CloseError) as exc:
            raise Offline(
                f"The connection to the marketplace at {self.base_url} was lost before the "
                "transfer finished. Try again when the connection is back.",
                detail=str(exc)) from exc
        except httpx.TransportError as exc:
            raise Offline(
                f"Story Studio could not talk to the marketplace at {self.base_url} "
                f"({type(exc).__name__}). Try again later.", detail=str(exc)) from exc
        except httpx.DecodingError as exc:
            raise ServerFault(
                f"The marketplace at {self.base_url} sent an answer that cannot be decoded. "
                "Try again later.", detail=str(exc)) from exc

    async def _request(self, method: str, path: str, *, auth: str = OPTIONAL, body: Any = None,
                       params: dict[str, Any] | None = None, key: str | None = None,
                       progress: Progress | None = None, accept: Iterable[int] = ()
                       ) -> dict[str, Any]:
        if key is not None and (not isinstance(key, str) or not key):
            raise ValueError("an Idempotency-Key must be a non-empty string")
        refreshed = False
        had_token = False
        anonymous = auth == NONE
        if body is not None:
            body = await _json_body(body)  # once, not again for a retry after a refresh
        while True:
            token = None if anonymous or self.tokens is None else self.tokens.access_token
            headers: dict[str, str] = {}
            if token:
                had_token = True
                headers["Authorization"] = f"Bearer {token}"
            if key is not None:
                headers["Idempotency-Key"] = key
            if auth == REQUIRED and not token:
                # nothing to send: try a refresh token if there is one, else say so
                if not refreshed:
                    refreshed = True
                    if self.tokens is not None and await self._refresh(None):
                        continue
                raise self._signed_out(None, had_sign_in=refreshed and had_token)
            response, raw = await self._exchange(method, path, headers=headers, body=body,
                                                 params=params, progress=progress)
            if response.status_code == 401 and not anonymous:
                if token and not refreshed:
                    refreshed = True
                    if await self._refresh(token):
                        continue
                if auth == OPTIONAL:
                    anonymous = True  # a stale sign-in must not stop reading public data
                    continue
                raise self._signed_out(await _json_sliced(raw), had_sign_in=had_token)
            return self._result(response, await _json_sliced(raw), accept)

    def _signed_out(self, data: Any, had_sign_in: bool) -> SignInRequired:
        detail = _detail(data)
        if had_sign_in:
            message = (f"Your sign-in to the marketplace at {self.base_url} has expired or "
                       "was ended; sign in again to continue.")
        else:
            message = f"Sign in to the marketplace at {self.base_url} to do this."
        if detail:
            message += f" (The marketplace said: {detail})"
        return SignInRequired(message, status=401, code=_code(data), detail=detail,
                              body=_dict(data))

    async def _refresh(self, used_token: str | None) -> bool:
        """Trade the refresh token for new tokens; False when the server refused it (the
        sign-in is over, and it is forgotten)."""
        source = self.tokens
        if source is None:
            return False
        async with source.lock():
            current = source.access_token
            if current and current != used_token:
                return True  # another request refreshed meanwhile
            refresh_token = source.refresh_token
            if not refresh_token:
                return False
            response, raw = await self._exchange(
                "POST", "/v1/auth/refresh", headers={},
                body={"refresh_token": refresh_token})
            if response.status_code in (401, 403):
                log.info("marketplace %s refused the refresh token: %s", self.base_url,
                         _detail(_json(raw)))
                await source.update(None)
                return False
            data = self._result(response, _json(raw), ())
            if not isinstance(data.get("access_token"), str):
                raise self._garbled(response)
            await source.update(stamp_expiries(data))
            return True

    def _garbled(self, response: httpx.Response) -> ServerFault:
        return ServerFault(
            f"The server at {self.base_url} answered in a way Story Studio does not "
            f"understand (HTTP {response.status_code}, "
            f"{response.headers.get('content-type') or 'no content type'}). Is this the "
            "address of a Story Studio marketplace? If it is, try again later.",
            status=response.status_code)

    def _result(self, response: httpx.Response, data: Any, accept: Iterable[int]
                ) -> dict[str, Any]:
        """The decoded body ``data`` (None: not JSON) as the caller's result, or the error
        the response means."""
        status = response.status_code
        if 200 <= status < 300 or status in accept:
            if not isinstance(data, dict):
                raise self._garbled(response)
            return data
        if 300 <= status < 400:
            where = response.headers.get("location", "another address")
            raise ServerFault(
                f"The marketplace at {self.base_url} sends Story Studio to {where}; check the "
                "marketplace address in the settings.", status=status)
        detail = _detail(data)
        code = _code(data)
        body = _dict(data)
        if status >= 500:
            said = f" It said: {detail}" if detail and code != "internal" else ""
            raise ServerFault(
                f"The marketplace at {self.base_url} has a problem on its side (HTTP "
                f"{status}).{said} Try again later.", status=status, code=code, detail=detail,
                body=body)
        if not detail:  # a 4xx that is not the marketplace's error shape
            raise self._garbled(response)
        kw = {"status": status, "code": code, "detail": detail, "body": body}
        if status == 403 and code == "quota_exceeded":
            raise QuotaExceeded(detail, **kw)
        if status == 409:
            raise ConflictError(detail, **kw)
        if status == 422 and code == "idempotency_key_reused":
            raise Refused("This operation was already sent to the marketplace with different "
                          "content, so it was not sent again. Cancel it and do it once more.",
                          **kw)
        if status == 429:
            raise Refused(detail, retry_after=_retry_after(response, body), **kw)
        raise Refused(detail, **kw)

    # --- accounts ----------------------------------------------------------------------------

    async def register(self, username: str, password: str) -> dict:
        """Create an account (does not sign in: call ``login`` next)."""
        return await self._request("POST", "/v1/accounts", auth=NONE,
                                   body={"username": username, "password": password})

    async def login(self, username: str, password: str) -> dict:
        """Sign in: the token response (with ``expires_at``/``refresh_expires_at`` added),
        held by this client's ``TokenSource`` (created if there was none) and saved by it."""
        data = await self._request("POST", "/v1/auth/login", auth=NONE,
                                   body={"username": username, "password": password})
        if not isinstance(data.get("access_token"), str):
            raise ServerFault(f"The marketplace at {self.base_url} answered the sign-in "
                              "without a token. Try again later.")
        tokens = stamp_expiries(data)
        if self.tokens is None:
            self.tokens = TokenSource()
        await self.tokens.update(tokens)
        return tokens

    async def logout(self) -> None:
        """End the session on the server, and forget the tokens here in any case (even when
        the server cannot be reached: then ``Offline`` still propagates, the local sign-in
        is gone, and the server's tokens expire on their own)."""
        try:
            if self.tokens is not None and self.tokens.access_token:
                await self._request("POST", "/v1/auth/logout", auth=REQUIRED)
        except SignInRequired:
            pass  # already signed out there
        finally:
            if self.tokens is not None:
                await self.tokens.update(None)

    async def meta(self) -> dict:
        return await self._request("GET", "/v1/meta", auth=NONE)

    async def me(self) -> dict:
        return await self._request("GET", "/v1/accounts/me", auth=REQUIRED)

    async def my_stories(self) -> dict:
        return await self._request("GET", "/v1/accounts/me/stories", auth=REQUIRED)

    # --- stories -----------------------------------------------------------------------------

    async def browse(self, q: str | None = None, genre: str | None = None,
                     tags: Iterable[str] = (), sort: str = "recent", limit: int = 20,
                     cursor: str | None = None, owner: str | None = None) -> dict:
        """A page of public stories: ``items``, ``total``, ``next_cursor`` (None on the last
        page)…"""
        params = _clean({"q": q, "genre": genre, "tags": list(tags), "sort": sort,
                         "limit": limit, "cursor": cursor, "owner": owner})
        return await self._request("GET", "/v1/stories", params=params)

    async def story(self, story_id: str) -> dict:
        return await self._request("GET", f"/v1/stories/{_segment(story_id)}")

    async def versions(self, story_id: str) -> dict:
        return await self._request("GET", f"/v1/stories/{_segment(story_id)}/versions")

    async def version(self, story_id: str, number: int) -> dict:
        """A version's manifest (segment hashes, no texts), modules, bible and graph."""
        return await self._request(
            "GET", f"/v1/stories/{_segment(story_id)}/versions/{int(number)}")

    async def version_content(self, story_id: str, number: int, *,
                              progress: Progress | None = None) -> dict:
        """A version's full content (counts as a download), streamed with ``progress``."""
        return await self._request(
            "GET", f"/v1/stories/{_segment(story_id)}/versions/{int(number)}/content",
            progress=progress)

    async def lineage(self, story_id: str) -> dict:
        return await self._request("GET", f"/v1/stories/{_segment(story_id)}/lineage")

    async def analysis(self, story_id: str, number: int) -> dict:
        """The version's reference analysis (``analysis`` key), or while it is being made
        (HTTP 202) the job's state with ``pending: True`` and ``retry_after`` seconds.  A
        failed analysis is a ``ConflictError`` (409 ``analysis_failed``)."""
        path = f"/v1/stories/{_segment(story_id)}/versions/{int(number)}/analysis"
        data = await self._request("GET", path, accept=(202,))
        if "analysis" not in data:
            data = {**data, "pending": True, "retry_after": 2.0}
        return data

    async def like(self, story_id: str, key: str) -> dict:
        return await self._request("PUT", f"/v1/stories/{_segment(story_id)}/like",
                                   auth=REQUIRED, key=key)

    async def unlike(self, story_id: str, key: str) -> dict:
        return await self._request("DELETE", f"/v1/stories/{_segment(story_id)}/like",
                                   auth=REQUIRED, key=key)

    async def report(self, item_type: str, item_id: str, reason: str, note: str,
                     key: str) -> dict:
        """Flag a story, community chapter or voice template (``item_type`` "story",
        "chapter" or "voice_template"; ``reason`` one of the server's ``flag_reasons``)."""
        return await self._request("POST", "/v1/flags", auth=REQUIRED, key=key, body={
            "item_type": item_type, "item_id": item_id, "reason": reason, "note": note or ""})

    async def publish_story(self, body: dict, key: str) -> dict:
        """POST /v1/stories: ``body`` is the metadata (title, description, genre, tags,
        licence, visibility), ``changelog`` and ``content``; answers ``story`` and
        ``version``."""
        return await self._request("POST", "/v1/stories", auth=REQUIRED, key=key, body=body)

    async def publish_version(self, story_id: str, body: dict, key: str,
                              base_version: int | None = None) -> dict:
        """POST /v1/stories/{id}/versions (owner and editors): ``body`` is ``changelog`` and
        ``content``.  ``base_version``: the version this content is based on; if the story
        moved on since, a ``ConflictError`` with code ``version_moved`` (and
        ``.body["latest_version"]``) — pull, merge and publish again."""
        if base_version is not None:
            body = {**body, "base_version": int(base_version)}
        return await self._request("POST", f"/v1/stories/{_segment(story_id)}/versions",
                                   auth=REQUIRED, key=key, body=body)

    async def update_story(self, story_id: str, body: dict, key: str) -> dict:
        """PATCH a story's metadata (owner only); absent fields stay as they are."""
        return await self._request("PATCH", f"/v1/stories/{_segment(story_id)}",
                                   auth=REQUIRED, key=key, body=body)

    # --- forks and remixes -------------------------------------------------------------------

    async def create_fork(self, story_id: str, version: int | None, key: str,
                          title: str | None = None) -> dict:
        """Register a fork of a story version on the server (``version`` None: the latest);
        answers the fork (``id`` fk_…)."""
        body = {k: v for k, v in (("version", version), ("title", title)) if v is not None}
        return await self._request("POST", f"/v1/stories/{_segment(story_id)}/forks",
                                   auth=REQUIRED, key=key, body=body)

    async def fork(self, fork_id: str) -> dict:
        return await self._request("GET", f"/v1/forks/{_segment(fork_id)}", auth=REQUIRED)

    async def edit_fork_segments(self, fork_id: str, segments: dict[str, str], key: str
                                 ) -> dict:
        return await self._request("PATCH", f"/v1/forks/{_segment(fork_id)}/segments",
                                   auth=REQUIRED, key=key, body={"segments": segments})

    async def edit_fork_parts(self, fork_id: str, parts: dict[str, Any], key: str) -> dict:
        """Replace the fork's ``modules``, ``scene_bible`` and/or ``chapter_graph`` (a key
        present with ``None``: follow the source again)."""
        return await self._request("PATCH", f"/v1/forks/{_segment(fork_id)}/parts",
                                   auth=REQUIRED, key=key, body=parts)

    async def publish_remix(self, fork_id: str, body: dict, key: str) -> dict:
        """Publish the fork as a remix (the story's metadata and ``changelog``); answers
        ``story`` and ``version`` (a number)."""
        return await self._request("POST", f"/v1/forks/{_segment(fork_id)}/publish",
                                   auth=REQUIRED, key=key, body=body)

    # --- community chapters and voice templates ----------------------------------------------

    async def chapters(self, q: str | None = None, tags: Iterable[str] = (),
                       owner: str | None = None, sort: str = "recent", limit: int = 20,
                       cursor: str | None = None) -> dict:
        params = _clean({"q": q, "tags": list(tags), "owner": owner, "sort": sort,
                         "limit": limit, "cursor": cursor})
        return await self._request("GET", "/v1/chapters", params=params)

    async def chapter(self, chapter_id: str) -> dict:
        return await self._request("GET", f"/v1/chapters/{_segment(chapter_id)}")

    async def chapter_versions(self, chapter_id: str) -> dict:
        return await self._request("GET", f"/v1/chapters/{_segment(chapter_id)}/versions")

    async def chapter_content(self, chapter_id: str, number: int, *,
                              progress: Progress | None = None) -> dict:
        """Download a community chapter version (``chapter`` holds the chapter-graph node)."""
        return await self._request(
            "GET", f"/v1/chapters/{_segment(chapter_id)}/versions/{int(number)}/content",
            progress=progress)

    async def voice_templates(self, q: str | None = None, tags: Iterable[str] = (),
                              owner: str | None = None, emotion: str | None = None,
                              include_superseded: bool = False, sort: str = "recent",
                              limit: int = 20, cursor: str | None = None) -> dict:
        params = _clean({"q": q, "tags": list(tags), "owner": owner, "emotion": emotion,
                         "include_superseded": "true" if include_superseded else None,
                         "sort": sort, "limit": limit, "cursor": cursor})
        return await self._request("GET", "/v1/voice-templates", params=params)

    async def publish_voice_template(self, body: dict, key: str) -> dict:
        """POST /v1/voice-templates: ``body`` is name, description, emotion, ``parameters``
        (numbers), tags, licence, visibility and optionally ``supersedes`` (the author's own
        earlier template); answers the template (``id`` vt_…)."""
        return await self._request("POST", "/v1/voice-templates", auth=REQUIRED, key=key,
                                   body=body)

    async def voice_template(self, template_id: str) -> dict:
        return await self._request("GET", f"/v1/voice-templates/{_segment(template_id)}")

    async def voice_template_content(self, template_id: str, *,
                                     progress: Progress | None = None) -> dict:
        """Download a voice template with its ``parameters`` and ``attribution``."""
        return await self._request(
            "GET", f"/v1/voice-templates/{_segment(template_id)}/content", progress=progress)


# --- helpers ---------------------------------------------------------------------------------

def _content_length(response: httpx.Response) -> int | None:
    try:
        value = int(response.headers.get("content-length", ""))
    except ValueError:
        return None
    return value if value >= 0 else None


def _dict(data: Any) -> dict:
    return data if isinstance(data, dict) else {}


def _detail(data: Any) -> str:
    detail = _dict(data).get("detail")
    if isinstance(detail, str):
        return detail.strip()
    if isinstance(detail, list) and detail:  # FastAPI's default validation shape
        return "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d)
                         for d in detail[:5])
    return ""


def _code(data: Any) -> str:
    code = _dict(data).get("code")
    return code if isinstance(code, str) else ""


def _retry_after(response: httpx.Response, body: dict) -> float | None:
    for value in (response.headers.get("retry-after"), body.get("retry_after")):
        try:
            return max(0.0, float(value))
        except (TypeError, ValueError):
            continue
    return None
