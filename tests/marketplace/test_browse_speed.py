"""Browse at scale (migration 0005 and friends), on both backends over real HTTP:

- ``total`` is counted up to 1,000 stories; beyond, it says 1,000 and ``total_is_lower_bound``;
- search only ever finds listed stories: ``story_search`` keeps rows for public, unhidden,
  undeleted stories only, whatever makes a story leave or rejoin the list — and on
  PostgreSQL the table has no row-level security any more, so its GIN index serves ``@@``;
- sort=trending reads the stored downloads of the last 7 days, which counted downloads bump
  and the job workers' refresh recomputes (old days fall out);
- anonymous browse answers are cached for ``browse_cache_seconds`` per server process (a new
  story shows up after that), logged-in callers are never served from the cache.

The cache and the fast trending refresh run on a second server over the shared database
(like the quota tests): the shared servers keep no browse cache.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from tests.marketplace.conftest import Server, _account_factory, _start, _stop
from tests.marketplace.helpers import publish, unique

CACHE_SECONDS = 1.5
COMPANION_ENV = {"STUDIO_MARKETPLACE_BROWSE_CACHE_SECONDS": str(CACHE_SECONDS),
                 "STUDIO_MARKETPLACE_TRENDING_REFRESH_SECONDS": "0.5",
                 "STUDIO_MARKETPLACE_JOB_POLL_SECONDS": "0.2"}


def _page(client, **params) -> dict:
    r = client.get("/v1/stories", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def _ids(client, **params) -> list[str]:
    return [s["id"] for s in _page(client, limit=100, **params)["items"]]


def _pk(server: Server, public_id: str) -> int:
    return server.sql("SELECT id FROM stories WHERE public_id = ?", (public_id,))[0][0]


def _search_rows(server: Server, public_id: str) -> int:
    return server.sql("SELECT count(*) FROM story_search WHERE story_id = ?",
                      (_pk(server, public_id),))[0][0]


# --- the capped total ----------------------------------------------------------------------

def test_total_is_counted_up_to_1000(server, alice, anon):
    genre = unique("many")
    owner = server.sql("SELECT id FROM users WHERE username = ?", (alice.username,))[0][0]
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    server.sql(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1001) "
        "INSERT INTO stories (public_id, owner_id, title, description, genre, licence, "
        "visibility, latest_version, hidden, created_at, updated_at) "
        "SELECT 'st_' || ? || '_' || i, ?, 'Bulk ' || i, '', ?, 'CC-BY', 'public', 0, ?, ?, ? "
        "FROM n", (genre, owner, genre, False, now, now))
    server.sql("INSERT INTO story_stats (story_id, views, likes, forks, downloads, "
               "downloads_7d) SELECT id, 0, 0, 0, 0, 0 FROM stories WHERE genre = ?", (genre,))
    try:
        page = _page(anon, genre=genre, limit=5)
        assert (page["total"], page["total_is_lower_bound"]) == (1000, True)
        assert len(page["items"]) == 5 and page["next_offset"] == 5 and page["next_cursor"]
        walk = page["next_cursor"]  # a cursor page reports its walk's first count
        second = _page(anon, genre=genre, limit=5, cursor=walk)
        assert (second["total"], second["total_is_lower_bound"]) == (1000, True)
        deep = _page(anon, genre=genre, limit=10, offset=995)  # pages go on past the cap
        assert len(deep["items"]) == 6 and deep["next_offset"] is None
        assert deep["total"] == 1000 and deep["total_is_lower_bound"] is True
        # exactly 1,000 listed: an exact count again
        server.sql("UPDATE stories SET visibility = 'unlisted' WHERE public_id = ?",
                   (f"st_{genre}_7",))
        page = _page(anon, genre=genre, limit=5)
        assert (page["total"], page["total_is_lower_bound"]) == (1000, False)
        assert _page(anon, genre=genre, limit=5, cursor=walk)["total_is_lower_bound"] is True
        last = _page(anon, genre=genre, limit=10, offset=995)
        assert len(last["items"]) == 5 and last["next_offset"] is None
        assert last["next_cursor"] is None
        mine = publish(alice, ["x"], genre=unique("few"))["story"]
        small = _page(anon, genre=mine["genre"])
        assert (small["total"], small["total_is_lower_bound"]) == (1, False)
    finally:
        server.sql("DELETE FROM story_stats WHERE story_id IN "
                   "(SELECT id FROM stories WHERE genre = ?)", (genre,))
        server.sql("DELETE FROM stories WHERE genre = ?", (genre,))


# --- search finds listed stories only ------------------------------------------------------

@pytest.fixture
def moderator(server, make_account):
    account = make_account("mod")
    server.sql("UPDATE users SET role = 'moderator' WHERE username = ?", (account.username,))
    return account


def test_search_never_finds_unlisted_hidden_or_deleted_stories(server, alice, bob, anon,
                                                             moderator):
    word = unique("w")
    sid = publish(alice, ["x"], title=f"Lantern {word}")["story"]["id"]
    secret = publish(alice, ["y"], title=f"Secret {word}", visibility="unlisted")["story"]["id"]

    def found() -> set[str]:
        seen = set()
        for client in (anon, bob, alice, moderator):  # the same list for everyone
            ids = set(_ids(client, q=word))
            assert not seen or ids == seen, client
            seen = ids
        return seen

    assert found() == {sid}
    assert (_search_rows(server, sid), _search_rows(server, secret)) == (1, 0)
    # the owner unlists it, then lists it again (with new words)
    assert alice.patch(f"/v1/stories/{sid}", json={"visibility": "unlisted"}).status_code == 200
    assert found() == set() and _search_rows(server, sid) == 0
    assert alice.patch(f"/v1/stories/{sid}", json={"visibility": "public",
                                                   "title": f"Harbour {word}"}).status_code == 200
    assert found() == {sid} and set(_ids(anon, q=f"harbour {word}")) == {sid}
    assert set(_ids(anon, q=f"lantern {word}")) == set()
    assert alice.patch(f"/v1/stories/{secret}", json={"visibility": "public"}).status_code == 200
    assert found() == {sid, secret}
    # moderation hides it from search (and browse), and unhiding brings it back
    assert moderator.post(f"/v1/moderation/items/story/{sid}/hide").status_code == 200
    assert found() == {secret} and _search_rows(server, sid) == 0
    assert moderator.post(f"/v1/moderation/items/story/{sid}/unhide").status_code == 200
    assert found() == {sid, secret} and _search_rows(server, sid) == 1
    # a hidden story's owner changing its words does not list it
    assert moderator.post(f"/v1/moderation/items/story/{secret}/hide").status_code == 200
    assert alice.patch(f"/v1/stories/{secret}", json={"title": f"Renamed {word}"}
                       ).status_code == 200
    assert found() == {sid} and _search_rows(server, secret) == 0
    # deleted: gone for good
    pk = _pk(server, sid)
    assert alice.delete(f"/v1/stories/{sid}").status_code == 200
    assert found() == set()
    assert server.sql("SELECT count(*) FROM story_search WHERE story_id = ?", (pk,))[0][0] == 0
    if server.backend == "postgresql":  # what the app role itself can read there
        with psycopg.connect(server.pg["app_dsn"]) as conn:
            for story in (pk, _pk(server, secret)):
                assert conn.execute("SELECT count(*) FROM story_search WHERE story_id = %s",
                                    (story,)).fetchone()[0] == 0


def test_postgresql_search_uses_the_gin_index(postgresql_server, make_pg_account):
    """No row-level security on story_search (it holds listed stories' words only), so
    PostgreSQL may run ``@@`` through ``ix_story_search_tsv`` for the app role."""
    server = postgresql_server
    alice = make_pg_account("alice")
    word = unique("gin")
    publish(alice, ["x"], title=f"Index {word}")
    assert server.sql("SELECT relrowsecurity, relforcerowsecurity FROM pg_class "
                      "WHERE relname = 'story_search'") == [(False, False)]
    assert server.sql("SELECT count(*) FROM pg_policies WHERE tablename = 'story_search'"
                      ) == [(0,)]
    with psycopg.connect(server.pg["app_dsn"]) as conn:
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN SELECT s.id FROM stories s WHERE EXISTS (SELECT 1 FROM story_search x "
            "WHERE x.story_id = s.id AND x.tsv @@ %s::tsquery)", (f"'{word}':*",)))
        assert "ix_story_search_tsv" in plan, plan
        assert conn.execute("SELECT count(*) FROM story_search WHERE tsv @@ %s::tsquery",
                            (f"'{word}':*",)).fetchone()[0] == 1


# --- trending and popular -----------------------------------------------------------------

def _download(client, sid: str, times: int) -> None:
    for _ in range(times):
        assert client.get(f"/v1/stories/{sid}/versions/1/content").status_code == 200


def _stored(server: Server, sids: list[str]) -> list[int]:
    return [server.sql("SELECT downloads_7d FROM story_stats WHERE story_id = ?",
                       (_pk(server, sid),))[0][0] for sid in sids]


def test_trending_orders_by_the_stored_downloads_of_the_last_7_days(server, alice, bob, anon):
    genre = unique("tr")
    a, b, c, d = (publish(alice, ["x"], genre=genre)["story"]["id"] for _ in range(4))
    _download(anon, b, 3)
    _download(bob, a, 1)
    assert bob.put(f"/v1/stories/{c}/like").status_code == 200  # the tie-break: popularity
    assert _stored(server, [a, b, c, d]) == [1, 3, 0, 0]
    assert _ids(anon, genre=genre, sort="trending") == [b, a, c, d]
    first = _page(anon, genre=genre, sort="trending", limit=2)
    rest = _page(anon, genre=genre, sort="trending", limit=2, cursor=first["next_cursor"])
    assert [s["id"] for s in first["items"] + rest["items"]] == [b, a, c, d]
    # popular: likes + forks, then the newest story first
    assert _ids(anon, genre=genre, sort="popular") == [c, d, b, a]
    # a cursor made before 0005 (popularity, updated_at, id) still pages
    legacy = ["popular", 0, "2999-01-01T00:00:00+00:00", _pk(server, b)]
    raw = base64.urlsafe_b64encode(json.dumps(legacy).encode()).decode().rstrip("=")
    assert [s["id"] for s in _page(anon, genre=genre, sort="popular", cursor=raw)["items"]] \
        == [a]


# --- a server with the browse cache and a fast trending refresh ------------------------------

@pytest.fixture(scope="session")
def companion_servers(tmp_path_factory):
    started: dict[str, tuple] = {}

    def get(shared: Server) -> Server:
        if shared.backend not in started:
            folder = tmp_path_factory.mktemp(f"mkt-cache-{shared.backend}")
            args = (["--data-dir", str(shared.db_path.parent)] if shared.backend == "sqlite"
                    else ["--database-url", shared.pg["app_url"]])  # one worker: one cache
            proc, url, sock = _start(args, folder / "server.log", env=COMPANION_ENV)
            started[shared.backend] = (Server(shared.backend, proc, url, folder / "server.log",
                                              db_path=shared.db_path, pg=shared.pg), sock)
        return started[shared.backend][0]

    yield get
    for companion, sock in started.values():
        _stop(companion.proc)
        sock.close()


@pytest.fixture
def cached(server, companion_servers) -> Server:
    return companion_servers(server)


@pytest.fixture
def cached_account(cached):
    make, made = _account_factory(cached)
    yield make
    for account in made:
        account.close()


def test_old_days_fall_out_of_trending(server, cached, alice, anon):
    genre = unique("old")
    a, b = (publish(alice, ["x"], genre=genre)["story"]["id"] for _ in range(2))
    _download(anon, a, 1)
    _download(anon, b, 2)
    assert _ids(anon, genre=genre, sort="trending") == [b, a]
    # b's downloads were 10 days ago: the companion's job worker recomputes the counts
    long_ago = (datetime.now(timezone.utc) - timedelta(days=10)).date()
    server.sql("UPDATE story_daily_stats SET day = ? WHERE story_id = ?",
               (long_ago, _pk(server, b)))
    deadline = time.monotonic() + 30
    while _stored(server, [a, b]) != [1, 0]:
        assert time.monotonic() < deadline, _stored(server, [a, b])
        time.sleep(0.2)
    assert _ids(anon, genre=genre, sort="trending") == [a, b]
    assert anon.get(f"/v1/stories/{b}").json()["stats"]["downloads"] == 2  # all-time stays


def test_anonymous_browse_is_cached_for_a_moment_and_never_for_users(cached, cached_account):
    alice = cached_account("alice")
    genre = unique("cache")
    old = publish(alice, ["x"], genre=genre)["story"]["id"]
    with cached.client() as anon:
        meta = anon.get("/v1/meta").json()
        assert meta["limits"]["browse_cache_seconds"] == CACHE_SECONDS
        t0 = time.monotonic()
        first = anon.get("/v1/stories", params={"genre": genre})
        assert first.headers["x-cache"] == "miss"
        again = anon.get("/v1/stories", params={"genre": genre, "sort": "recent", "limit": 20})
        new = publish(alice, ["y"], genre=genre)["story"]["id"]
        later = anon.get("/v1/stories", params={"genre": genre})
        if time.monotonic() - t0 < CACHE_SECONDS * 0.9:  # (a slow machine may miss the window)
            assert again.headers["x-cache"] == "hit" and again.content == first.content
            assert later.headers["x-cache"] == "hit"
            assert [s["id"] for s in later.json()["items"]] == [old]
        # logged in: never from the cache, and it carries the caller's own flags
        mine = alice.get("/v1/stories", params={"genre": genre})
        assert "x-cache" not in mine.headers
        assert [(s["id"], s["liked_by_me"]) for s in mine.json()["items"]] == [(new, False),
                                                                            (old, False)]
        assert all(s["liked_by_me"] is None for s in first.json()["items"])
        # after the time-to-live the new story is there for everyone
        time.sleep(max(0.0, t0 + CACHE_SECONDS + 0.1 - time.monotonic()))
        fresh = anon.get("/v1/stories", params={"genre": genre})
        assert fresh.headers["x-cache"] == "miss"
        assert [s["id"] for s in fresh.json()["items"]] == [new, old]
        # and a story that leaves the list leaves cached pages within the same time
        assert alice.patch(f"/v1/stories/{new}", json={"visibility": "unlisted"}
                           ).status_code == 200
        time.sleep(CACHE_SECONDS + 0.1)
        assert [s["id"] for s in anon.get("/v1/stories", params={"genre": genre}
                                          ).json()["items"]] == [old]
        # refusals are not cached
        for _ in range(2):
            bad = anon.get("/v1/stories", params={"genre": genre, "limit": 0})
            assert bad.status_code == 422 and bad.headers.get("x-cache") == "miss"


# --- the migration --------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def database_at_0004(request, tmp_path):
    """A database at revision 0004 with stories in every state, migrated (on PostgreSQL) by
    an owner that is not a superuser, so the stories policies apply to the migration too."""
    from sqlalchemy import create_engine

    from tests.marketplace.conftest import PG_DSN, _pg_admin

    if request.param == "sqlite":
        url, admin = f"sqlite:///{tmp_path / 'm.sqlite3'}", None
    else:
        suffix = unique("")
        name, role = f"studio_mig_{suffix}", f"studio_mig_owner_{suffix}"
        info = psycopg.conninfo.conninfo_to_dict(PG_DSN)
        admin = _pg_admin()
        admin.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS')
        admin.execute(f'CREATE DATABASE "{name}" OWNER "{role}"')
        url = (f"postgresql+psycopg://{role}@{info.get('host', '127.0.0.1')}:"
               f"{info.get('port', '5432')}/{name}")
    engine = create_engine(url)
    try:
        _alembic(engine, "0004")
        yield engine
    finally:
        engine.dispose()
        if admin is not None:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')
            admin.close()


def _alembic(engine, revision: str, down: bool = False) -> None:
    from alembic import command

    from studio.marketplace.db import alembic_config

    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def test_migration_0005_keeps_search_words_of_listed_stories_only(database_at_0004):
    from sqlalchemy import text

    engine = database_at_0004
    pg = engine.dialect.name == "postgresql"
    now = datetime.now(timezone.utc)
    today = now.date()
    stories = {  # id: (public id, visibility, hidden, indexed by 0003's code)
        1: ("st_listed", "public", False, True), 2: ("st_unlisted", "unlisted", False, True),
        3: ("st_hidden", "public", True, True), 4: ("deleted_0123", "unlisted", False, False),
        5: ("st_unindexed", "public", False, False)}
    with engine.begin() as conn:
        if pg:  # the owner is subject to the stories policies: act as the stories' user
            conn.execute(text("SELECT set_config('app.user_id', '1', true)"))
        conn.execute(text("INSERT INTO users (id, username, password_hash, role, tier, "
                          "disabled, created_at) VALUES (1, 'ann', 'x', 'user', 'free', "
                          ":f, :now)"), {"f": False, "now": now})
        for pk, (public_id, visibility, hidden, indexed) in stories.items():
            conn.execute(text(
                "INSERT INTO stories (id, public_id, owner_id, title, description, genre, "
                "licence, visibility, latest_version, hidden, created_at, updated_at) VALUES "
                "(:pk, :pid, 1, :title, 'Words.', '', 'CC-BY', :vis, 0, :hidden, :now, :now)"),
                {"pk": pk, "pid": public_id, "title": f"Story {public_id}", "vis": visibility,
                 "hidden": hidden, "now": now})
            conn.execute(text("INSERT INTO story_stats (story_id, views, likes, forks, "
                              "downloads) VALUES (:pk, 0, 0, 0, 9)"), {"pk": pk})
            if indexed:
                conn.execute(text("INSERT INTO story_search (story_id, document) VALUES "
                                  "(:pk, 'story words')"), {"pk": pk})
        conn.execute(text("INSERT INTO story_deletions (story_id, public_id, deleted_by, "
                          "deleted_at) VALUES (4, 'st_gone', 1, :now)"), {"now": now})
        for day, downloads in ((today, 3), (today - timedelta(days=6), 2),
                               (today - timedelta(days=10), 4)):
            conn.execute(text("INSERT INTO story_daily_stats (story_id, day, views, downloads) "
                              "VALUES (1, :day, 0, :n)"), {"day": day, "n": downloads})

    def state() -> tuple[set[int], dict[int, int] | None]:
        with engine.begin() as conn:
            if pg:
                conn.execute(text("SELECT set_config('app.user_id', '1', true)"))
            rows = {r[0] for r in conn.execute(text("SELECT story_id FROM story_search"))}
            columns = [r[1] for r in conn.execute(text("PRAGMA table_info(story_stats)"))] \
                if not pg else [r[0] for r in conn.execute(text(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = 'story_stats'"))]
            counts = dict(conn.execute(text("SELECT story_id, downloads_7d FROM story_stats"))
                          .all()) if "downloads_7d" in columns else None
        return rows, counts

    _alembic(engine, "0005")
    assert state() == ({1, 5}, {1: 5, 2: 0, 3: 0, 4: 0, 5: 0})
    with engine.connect() as conn:
        documents = dict(conn.execute(text("SELECT story_id, document FROM story_search")).all())
    assert documents[5] == "story st unindexed words"
    if pg:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT relrowsecurity FROM pg_class WHERE relname = "
                                     "'story_search'")).scalar() is False
    _alembic(engine, "0004", down=True)  # every story but the deleted one, as 0003 kept them
    assert state() == ({1, 2, 3, 5}, None)
    if pg:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM pg_policies WHERE tablename = "
                                     "'story_search'")).scalar() == 4
            assert conn.execute(text("SELECT relforcerowsecurity FROM pg_class WHERE relname "
                                     "= 'stories'")).scalar() is True
