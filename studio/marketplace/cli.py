"""``studio-marketplace``: serve, migrate, create-admin, worker.

    studio-marketplace serve                      # SQLite in the user data folder, port 8765
    studio-marketplace serve --data-dir DIR       # SQLite in DIR (created and migrated)
    studio-marketplace serve --database-url postgresql+psycopg://app@host/db --workers 4
    studio-marketplace migrate --database-url postgresql+psycopg://owner@host/db \\
        --grant-to studio_app                     # run as the tables' owner
    studio-marketplace create-admin alice --password-stdin < password.txt
    studio-marketplace serve --workers-jobs 0 ...   # no job workers inside the server …
    studio-marketplace worker --database-url ...    # … but on their own (analyses)

On SQLite ``serve`` migrates the file itself (no other set-up).  On PostgreSQL the server
connects as an app role that neither owns the tables nor is a superuser (so row-level security
applies to it); ``migrate`` runs as the owner and grants that role what it needs.
Errors meant for the operator print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from studio.marketplace.settings import ENV_PREFIX, Settings, default_data_dir, sqlite_url


def _add_database_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--data-dir", help="folder of the SQLite database "
                       f"(default: {default_data_dir()})")
    group.add_argument("--database-url", help="e.g. postgresql+psycopg://user@host:5432/db "
                       "or sqlite:///path/to/file")


def _database_url(args: argparse.Namespace) -> str:
    """--database-url, else --data-dir, else the environment, else the default folder."""
    if args.database_url:
        return args.database_url
    if args.data_dir:
        return sqlite_url(args.data_dir)
    if os.environ.get(ENV_PREFIX + "DATABASE_URL"):
        return os.environ[ENV_PREFIX + "DATABASE_URL"]
    return sqlite_url(os.environ.get(ENV_PREFIX + "DATA_DIR") or default_data_dir())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="studio-marketplace",
                                     description="The Story Studio marketplace server.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP server (uvicorn)")
    _add_database_options(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--workers", type=int, default=1,
                       help="worker processes (they share nothing but the database)")
    serve.add_argument("--fd", type=int, default=None,
                       help="serve on this already-bound socket file descriptor")
    serve.add_argument("--log-level", default="info",
                       choices=["critical", "error", "warning", "info", "debug"])
    serve.add_argument("--workers-jobs", type=int, default=1, metavar="N",
                       help="job worker threads (analyses) in each server process; 0: none "
                       "(then run `studio-marketplace worker`)")
    migrate = sub.add_parser("migrate", help="bring the database schema to this version")
    _add_database_options(migrate)
    migrate.add_argument("--grant-to", metavar="ROLE",
                         help="PostgreSQL: grant this (non-owner) app role its privileges")
    admin = sub.add_parser("create-admin", help="create an admin account, or promote one")
    _add_database_options(admin)
    admin.add_argument("username")
    admin.add_argument("--password-stdin", action="store_true",
                       help="read the password from standard input (first line)")
    worker = sub.add_parser("worker", help="run the job worker (story analyses) on its own")
    _add_database_options(worker)
    worker.add_argument("--threads", type=int, default=1, help="jobs run at the same time")
    worker.add_argument("--once", action="store_true",
                        help="run the jobs that are due now, then exit")
    worker.add_argument("--log-level", default="info",
                        choices=["critical", "error", "warning", "info", "debug"])
    return parser


def _fail(message: str) -> int:
    print(f"studio-marketplace: {message}", file=sys.stderr)
    return 2


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from studio.marketplace.db import Database, SchemaError, migrate

    url = _database_url(args)
    settings = Settings.from_env({**os.environ, ENV_PREFIX + "DATABASE_URL": url})
    try:
        if settings.is_sqlite:
            migrate(settings.database_url)
        db = Database(settings.database_url)
        try:
            db.check_schema()
        finally:
            db.dispose()
    except (SchemaError, OSError) as exc:
        return _fail(str(exc))
    except Exception as exc:  # noqa: BLE001 - an unreachable database, told in one line
        return _fail(f"cannot open the database: {str(exc).splitlines()[0]}")
    os.environ.update(settings.to_env())  # the workers build their app from these
    os.environ[ENV_PREFIX + "JOB_WORKERS"] = str(max(0, args.workers_jobs))
    options = dict(factory=True, workers=max(1, args.workers), log_level=args.log_level,
                   proxy_headers=False, server_header=False)
    target = "studio.marketplace.app:create_app_from_env"
    if args.fd is None:
        uvicorn.run(target, host=args.host, port=args.port, **options)
        return 0
    return _serve_on_fd(target, args.fd, options)


def _serve_on_fd(target: str, fd: int, options: dict) -> int:
    """uvicorn's own ``fd`` mode takes every descriptor for a Unix socket, so asyncio skips
    TCP_NODELAY and each response waits ~40 ms for a delayed ACK; wrap it with its real
    family instead and hand uvicorn the socket."""
    import socket

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    sock = socket.socket(fileno=fd)
    config = uvicorn.Config(target, **options)
    if config.workers > 1:
        Multiprocess(config, sockets=[sock]).run()
        return 0
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    return 0 if server.started else 1


def cmd_migrate(args: argparse.Namespace) -> int:
    from studio.marketplace.db import SchemaError, migrate

    try:
        before, after = migrate(_database_url(args), grant_to=args.grant_to)
    except (SchemaError, ValueError) as exc:
        return _fail(str(exc))
    except Exception as exc:  # noqa: BLE001
        return _fail(f"migration failed: {str(exc).splitlines()[0]}")
    print(f"schema {before or '(empty)'} → {after}"
          + (f"; privileges granted to {args.grant_to}" if args.grant_to else ""))
    return 0


def cmd_create_admin(args: argparse.Namespace) -> int:
    from studio.marketplace.auth import configure, create_or_promote_admin
    from studio.marketplace.db import Database, SchemaError, migrate
    from studio.marketplace.schemas import Register

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password (empty: keep, for an existing account): ")
        if password and getpass.getpass("Again: ") != password:
            return _fail("the passwords differ")
    try:
        Register(username=args.username, password=password or "x" * 8)
    except Exception as exc:  # noqa: BLE001 - pydantic's message names the field
        return _fail(f"invalid username or password: {exc}")
    url = _database_url(args)
    configure(Settings.from_env({**os.environ, ENV_PREFIX + "DATABASE_URL": url}))
    if url.startswith("sqlite"):
        migrate(url)
    db = Database(url)
    try:
        db.check_schema()
        outcome = create_or_promote_admin(db, args.username.strip().lower(), password or None)
    except (SchemaError, ValueError) as exc:
        return _fail(str(exc))
    finally:
        db.dispose()
    print(f"admin {args.username.strip().lower()} {outcome}")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Claim and run jobs until SIGINT/SIGTERM (or, with --once, until none is due)."""
    import dataclasses
    import logging
    import signal

    from studio.marketplace import jobs, trending
    from studio.marketplace.db import Database, SchemaError

    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    url = _database_url(args)
    settings = Settings.from_env({**os.environ, ENV_PREFIX + "DATABASE_URL": url})
    try:
        db = Database(url, pool_size=settings.db_pool_size,
                      max_overflow=settings.db_max_overflow)
    except SchemaError as exc:
        return _fail(str(exc))
    try:
        db.check_schema()
        config = dataclasses.replace(jobs.WorkerConfig.from_env(), threads=max(1, args.threads))
        refresher = trending.TrendingRefresher(db, settings.trending_days,
                                               settings.trending_refresh_seconds)
        if args.once:
            refresher()  # the trending counts too (logged)
            worker = jobs.JobWorker(db, config=config)
            outcomes = []
            while (outcome := worker.run_once()) is not None:
                outcomes.append(outcome)
            print(f"{len(outcomes)} jobs run" + "".join(
                f", {outcomes.count(o)} {o}" for o in sorted(set(outcomes))))
            return 0
        pool = jobs.WorkerPool(db, config, maintenance=refresher).start()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: pool.stop_event.set())
        pool.wait()
        return 0
    except SchemaError as exc:
        return _fail(str(exc))
    finally:
        db.dispose()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = {"serve": cmd_serve, "migrate": cmd_migrate,
               "create-admin": cmd_create_admin, "worker": cmd_worker}[args.command]
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
