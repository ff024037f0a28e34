"""Accounts: argon2 password hashes, opaque bearer tokens and the log-in rate limit.

A token is 32 random bytes (url-safe base64) with a prefix saying its kind; only its sha256 is
stored.  A log-in makes an access token (short-lived) and a refresh token (long-lived) sharing
a session id.  Refreshing rotates both; presenting an already-rotated refresh token again is
treated as theft and ends the whole session.  Log-out revokes the session.

Failed log-ins are rows in ``login_failures`` (per username and client address), so every
worker of a multi-process server counts the same failures.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from studio.marketplace.db import Database
from studio.marketplace.errors import ApiError, unauthorized
from studio.marketplace.models import AuthToken, LoginFailure, User, utcnow
from studio.marketplace.settings import Settings

_hasher = PasswordHasher()
_dummy_hash: str | None = None


def configure(settings: Settings) -> None:
    """Use the settings' argon2 cost for new hashes (and rehash older ones on log-in)."""
    global _hasher, _dummy_hash
    _hasher = PasswordHasher(time_cost=settings.password_time_cost,
                             memory_cost=settings.password_memory_kib,
                             parallelism=settings.password_parallelism)
    _dummy_hash = None
ACCESS_PREFIX = "sma_"
REFRESH_PREFIX = "smr_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Constant work whether or not the user exists (a dummy hash is verified instead)."""
    global _dummy_hash
    if stored is None:
        if _dummy_hash is None:
            _dummy_hash = _hasher.hash(secrets.token_hex(16))
        stored = _dummy_hash
        password = password + "\x01never"
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_tokens(db: Database, session: Session, settings: Settings, user: User,
                 session_id: str | None = None) -> dict:
    db.set_rls(session, "app.user_id", user.id)
    session_id = session_id or secrets.token_hex(16)
    now = utcnow()
    access = ACCESS_PREFIX + secrets.token_urlsafe(32)
    refresh = REFRESH_PREFIX + secrets.token_urlsafe(32)
    access_ttl = timedelta(seconds=settings.access_token_seconds)
    refresh_ttl = timedelta(seconds=settings.refresh_token_seconds)
    session.add_all([
        AuthToken(user_id=user.id, session_id=session_id, kind="access",
                  token_hash=token_digest(access), created_at=now, expires_at=now + access_ttl),
        AuthToken(user_id=user.id, session_id=session_id, kind="refresh",
                  token_hash=token_digest(refresh), created_at=now,
                  expires_at=now + refresh_ttl),
    ])
    session.flush()
    return {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "bearer",
        "expires_in": settings.access_token_seconds,
        "refresh_expires_in": settings.refresh_token_seconds,
        "user": user_out(user),
    }


def user_out(user: User) -> dict:
    return {"id": user.id, "username": user.username, "role": user.role,
            "created_at": user.created_at}


def _find_token(db: Database, session: Session, token: str) -> AuthToken | None:
    digest = token_digest(token)
    db.set_rls(session, "app.token_hash", digest)
    return session.scalar(select(AuthToken).where(AuthToken.token_hash == digest))


def revoke_session(session: Session, session_id: str, reason: str) -> None:
    session.execute(update(AuthToken)
                    .where(AuthToken.session_id == session_id, AuthToken.revoked_at.is_(None))
                    .values(revoked_at=utcnow(), revoked_reason=reason))


def authenticate(db: Database, session: Session, header: str | None) -> tuple[User, AuthToken]:
    if not header:
        raise unauthorized("This request needs you to be logged in: send "
                           "'Authorization: Bearer <access token>' (POST /v1/auth/login).")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        raise unauthorized("The Authorization header must be 'Bearer <access token>'.")
    row = _find_token(db, session, token)
    if row is None:
        raise unauthorized("Unknown access token: log in again (POST /v1/auth/login).")
    if row.kind != "access":
        raise unauthorized("That is a refresh token; send it to POST /v1/auth/refresh and use "
                           "the access token you get back.")
    if row.revoked_at is not None:
        raise unauthorized(f"This access token was revoked ({row.revoked_reason or 'revoked'})"
                           "; log in again.")
    if row.expires_at <= utcnow():
        raise unauthorized("This access token has expired; get a new one with "
                           "POST /v1/auth/refresh or log in again.")
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        raise unauthorized("This account is disabled.")
    db.set_rls(session, "app.user_id", user.id)
    return user, row


def check_rate_limit(session: Session, settings: Settings, username: str, client: str,
                     now: datetime) -> None:
    window = timedelta(seconds=settings.login_window_seconds)
    session.execute(delete(LoginFailure).where(LoginFailure.username == username,
                                               LoginFailure.client == client,
                                               LoginFailure.at < now - window))
    count, oldest = session.execute(
        select(func.count(), func.min(LoginFailure.at))
        .where(LoginFailure.username == username, LoginFailure.client == client,
               LoginFailure.at >= now - window)).one()
    if count >= settings.login_max_failures:
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=now.tzinfo)
        retry = max(1, math.ceil(((oldest or now) + window - now).total_seconds()))
        raise ApiError(429, f"Too many failed log-ins for {username!r} from this address: try "
                       f"again in {retry} seconds.", "rate_limited",
                       headers={"Retry-After": str(retry)}, retry_after=retry)


def login(db: Database, session: Session, settings: Settings, username: str, password: str,
          client: str) -> dict:
    username = username.strip().lower()[:40]
    client = client[:64]
    now = utcnow()
    check_rate_limit(session, settings, username, client, now)
    user = session.scalar(select(User).where(User.username == username))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or user.disabled:
        session.add(LoginFailure(username=username, client=client, at=now))
        session.commit()
        raise unauthorized("Wrong username or password.")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.execute(delete(LoginFailure).where(LoginFailure.username == username,
                                               LoginFailure.client == client))
    return issue_tokens(db, session, settings, user)


def refresh(db: Database, session: Session, settings: Settings, token: str) -> dict:
    row = _find_token(db, session, token)
    if row is None or row.kind != "refresh":
        raise unauthorized("Unknown refresh token: log in again.")
    db.set_rls(session, "app.user_id", row.user_id)
    if row.revoked_at is not None:
        if row.revoked_reason == "rotated":
            # A refresh token used twice: someone else may hold it.  End the session.
            revoke_session(session, row.session_id, "reuse")
            session.commit()
            raise unauthorized("This refresh token was already used, so the session has been "
                               "ended for safety; log in again.")
        raise unauthorized(f"This refresh token was revoked ({row.revoked_reason}); "
                           "log in again.")
    if row.expires_at <= utcnow():
        raise unauthorized("This refresh token has expired; log in again.")
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        raise unauthorized("This account is disabled.")
    session.execute(update(AuthToken)
                    .where(AuthToken.session_id == row.session_id,
                           AuthToken.revoked_at.is_(None))
                    .values(revoked_at=utcnow(), revoked_reason="rotated"))
    return issue_tokens(db, session, settings, user, session_id=row.session_id)


def create_or_promote_admin(db: Database, username: str, password: str | None) -> str:
    """For ``studio-marketplace create-admin``: make the account, or make it an admin."""
    session = db.session(write=True)
    try:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            if not password:
                raise ValueError(f"there is no account {username!r}; give a password to "
                                 "create it")
            session.add(User(username=username, password_hash=hash_password(password),
                             role="admin"))
            outcome = "created"
        else:
            user.role = "admin"
            if password:
                user.password_hash = hash_password(password)
            outcome = "promoted"
        session.commit()
        return outcome
    finally:
        session.close()
