"""Accounts: register, log in, refresh (rotation), log out, expiry, revocation, rate limit."""

from __future__ import annotations

import hashlib

from tests.marketplace.helpers import PASSWORD, unique


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def test_meta_reports_version_features_and_limits(anon):
    r = anon.get("/v1/meta")
    assert r.status_code == 200
    meta = r.json()
    assert meta["api_version"] == "1"
    assert {"forks", "source-sync", "idempotency-keys"} <= set(meta["features"])
    assert meta["limits"]["max_page_size"] == 100
    assert meta["limits"]["max_segments"] == 100_000
    doc = anon.get("/openapi.json").json()
    assert "/v1/forks/{fork_id}/sync" in doc["paths"]


def test_register_login_me_and_stored_hashes(server, anon):
    name = unique("reg")
    r = anon.post("/v1/accounts", json={"username": name.upper(), "password": PASSWORD})
    assert r.status_code == 201, r.text
    assert r.json()["username"] == name and r.json()["role"] == "user"
    again = anon.post("/v1/accounts", json={"username": name, "password": PASSWORD})
    assert again.status_code == 409 and "taken" in again.json()["detail"]
    tokens = anon.post("/v1/auth/login", json={"username": name, "password": PASSWORD}).json()
    me = anon.get("/v1/accounts/me",
                  headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200 and me.json()["username"] == name
    # argon2 for the password; only sha256 digests of the tokens are stored
    (stored,) = server.sql("SELECT password_hash FROM users WHERE username = ?", (name,))[0]
    assert stored.startswith("$argon2id$")
    hashes = {row[0] for row in server.sql(
        "SELECT t.token_hash FROM auth_tokens t JOIN users u ON u.id = t.user_id "
        "WHERE u.username = ?", (name,))}
    assert hashes == {_digest(tokens["access_token"]), _digest(tokens["refresh_token"])}


def test_bad_credentials_and_bad_input(anon, alice):
    r = anon.post("/v1/auth/login", json={"username": alice.username, "password": "nope-nope"})
    assert r.status_code == 401 and r.json()["detail"] == "Wrong username or password."
    r = anon.post("/v1/accounts", json={"username": "a", "password": "short"})
    assert r.status_code == 422
    assert "username" in r.json()["detail"] and "password" in r.json()["detail"]
    r = anon.post("/v1/accounts", json={"username": unique(), "password": PASSWORD, "x": 1})
    assert r.status_code == 422 and "x" in r.json()["detail"]


def test_missing_and_malformed_tokens_are_401_with_a_reason(anon, alice):
    r = anon.get("/v1/accounts/me")
    assert r.status_code == 401 and "logged in" in r.json()["detail"]
    assert r.headers["www-authenticate"] == "Bearer"
    r = anon.get("/v1/accounts/me", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401 and "Bearer" in r.json()["detail"]
    r = anon.get("/v1/accounts/me", headers={"Authorization": "Bearer sma_made-up"})
    assert r.status_code == 401 and "Unknown access token" in r.json()["detail"]
    r = anon.get("/v1/accounts/me",
                 headers={"Authorization": f"Bearer {alice.tokens['refresh_token']}"})
    assert r.status_code == 401 and "refresh token" in r.json()["detail"]


def test_refresh_rotates_and_reuse_ends_the_session(anon, alice):
    old = alice.tokens
    r = anon.post("/v1/auth/refresh", json={"refresh_token": old["refresh_token"]})
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["access_token"] != old["access_token"]
    auth = {"Authorization": f"Bearer {new['access_token']}"}
    assert anon.get("/v1/accounts/me", headers=auth).status_code == 200
    stale = anon.get("/v1/accounts/me",
                     headers={"Authorization": f"Bearer {old['access_token']}"})
    assert stale.status_code == 401 and "revoked" in stale.json()["detail"]
    # The rotated refresh token presented again: theft suspected, the whole session ends.
    reuse = anon.post("/v1/auth/refresh", json={"refresh_token": old["refresh_token"]})
    assert reuse.status_code == 401 and "already used" in reuse.json()["detail"]
    assert anon.get("/v1/accounts/me", headers=auth).status_code == 401
    gone = anon.post("/v1/auth/refresh", json={"refresh_token": new["refresh_token"]})
    assert gone.status_code == 401 and "revoked" in gone.json()["detail"]


def test_logout_revokes_only_that_session(anon, alice):
    second = anon.post("/v1/auth/login",
                       json={"username": alice.username, "password": PASSWORD}).json()
    r = alice.post("/v1/auth/logout")
    assert r.status_code == 200
    r = alice.get("/v1/accounts/me")
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    r = anon.post("/v1/auth/refresh", json={"refresh_token": alice.tokens["refresh_token"]})
    assert r.status_code == 401
    other = anon.get("/v1/accounts/me",
                     headers={"Authorization": f"Bearer {second['access_token']}"})
    assert other.status_code == 200


def test_expired_tokens_are_refused(server, anon, alice):
    for kind in ("access", "refresh"):
        server.sql("UPDATE auth_tokens SET expires_at = created_at "
                   "WHERE token_hash = ?", (_digest(alice.tokens[f"{kind}_token"]),))
    r = alice.get("/v1/accounts/me")
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    r = anon.post("/v1/auth/refresh", json={"refresh_token": alice.tokens["refresh_token"]})
    assert r.status_code == 401 and "expired" in r.json()["detail"]


def test_login_rate_limit_is_shared_and_per_username(anon, alice, bob):
    for _ in range(5):
        r = anon.post("/v1/auth/login", json={"username": alice.username, "password": "wrong!!!"})
        assert r.status_code == 401
    for password in ("wrong!!!", PASSWORD):  # even the right password waits
        r = anon.post("/v1/auth/login",
                      json={"username": alice.username, "password": password})
        assert r.status_code == 429, r.text
        assert 1 <= int(r.headers["retry-after"]) <= 60
        assert "try again in" in r.json()["detail"]
    r = anon.post("/v1/auth/login", json={"username": bob.username, "password": PASSWORD})
    assert r.status_code == 200


def test_roles_admin_only(server, alice, bob):
    r = alice.put(f"/v1/admin/users/{bob.username}/role", json={"role": "moderator"})
    assert r.status_code == 403
    server.sql("UPDATE users SET role = 'admin' WHERE username = ?", (alice.username,))
    r = alice.put(f"/v1/admin/users/{bob.username}/role", json={"role": "moderator"})
    assert r.status_code == 200 and r.json()["role"] == "moderator"
    r = alice.put(f"/v1/admin/users/{bob.username}/role", json={"role": "king"})
    assert r.status_code == 422
