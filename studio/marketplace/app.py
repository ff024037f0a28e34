"""The marketplace ASGI app: ``create_app(settings)``, one router per resource under ``/v1``.

Errors are answers, not crashes: validation problems are 422 with a sentence naming the field,
oversized bodies 413, database integrity conflicts 409, values the database cannot store 422.
A 500 means a bug (it is logged with its traceback).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, ProgrammingError

from studio.marketplace import auth, jobs, trending
from studio.marketplace.browse_cache import BrowseCache
from studio.marketplace.db import Database
from studio.marketplace.errors import ERROR_RESPONSES, ApiError
from studio.marketplace.routers import accounts, forks, meta, stories, sync
from studio.marketplace.routers import community, moderation
from studio.marketplace.routers import analyses, ideas
from studio.marketplace.routers import collaborators, proposals
from studio.marketplace.settings import API_VERSION, SERVER_VERSION, Settings

log = logging.getLogger("studio.marketplace")


class BodyLimit:
    """Refuse request bodies over the limit with 413, whether or not they declare a length."""

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await self._refuse(send)
        seen = 0
        refused = False

        async def limited_receive():
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    refused = True
                    raise _TooLarge()
            return message

        started = False

        async def guarded_send(message):
            # Once the limit was hit, whatever the app answers (FastAPI turns a failed body
            # read into a 400) is replaced by the 413.
            nonlocal started
            if refused:
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await self._refuse(send)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLarge:
            if not started:
                await self._refuse(send)
        except Exception:
            if refused and not started:
                await self._refuse(send)
            else:
                raise

    async def _refuse(self, send):
        body = JSONResponse({"detail": f"The request body is larger than {self.limit} bytes.",
                             "code": "too_large"}).body
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def _describe(errors: list[dict]) -> str:
    parts = []
    for err in errors[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "Invalid request — " + "; ".join(parts) + more


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError):
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError):
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")}
                  for e in exc.errors()[:50]]
        return JSONResponse({"detail": _describe(errors), "code": "invalid_request",
                             "errors": errors}, status_code=422)

    @app.exception_handler(IntegrityError)
    async def integrity(_request: Request, exc: IntegrityError):
        log.info("integrity error: %s", exc.orig)
        return JSONResponse({"detail": "The request conflicts with existing data (it may have "
                             "been done already); reload and try again.",
                             "code": "conflict"}, status_code=409)

    @app.exception_handler(DataError)
    async def data_error(_request: Request, exc: DataError):
        return JSONResponse({"detail": "A value in the request cannot be stored: "
                             f"{str(exc.orig).splitlines()[0][:200]}",
                             "code": "invalid_value"}, status_code=422)

    @app.exception_handler(ProgrammingError)
    async def programming(_request: Request, exc: ProgrammingError):
        if "row-level security" in str(exc.orig):
            return JSONResponse({"detail": "That row is not yours to change.",
                                 "code": "forbidden"}, status_code=403)
        log.exception("database error", exc_info=exc)
        return JSONResponse({"detail": "Internal error.", "code": "internal"}, status_code=500)

    @app.exception_handler(OperationalError)
    async def busy(_request: Request, exc: OperationalError):
        log.warning("database unavailable: %s", exc.orig)
        return JSONResponse({"detail": "The database is busy or unavailable; retry shortly.",
                             "code": "unavailable"}, status_code=503,
                            headers={"Retry-After": "2"})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException):
        # FastAPI's own refusals (a body that is not UTF-8 JSON: 400) in the app's shape.
        if exc.status_code == 400:
            return JSONResponse({"detail": "The request body cannot be read: it must be JSON "
                                 "in UTF-8.", "code": "invalid_request"}, status_code=422)
        return JSONResponse({"detail": str(exc.detail), "code": "error"},
                            status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RecursionError)
    async def too_deep(_request: Request, _exc: RecursionError):
        return JSONResponse({"detail": "The request is nested too deeply.",
                             "code": "invalid_request"}, status_code=422)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    auth.configure(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        db = Database(settings.database_url, pool_size=settings.db_pool_size,
                      max_overflow=settings.db_max_overflow)
        db.check_schema()
        app.state.db = db
        # In-process job workers (STUDIO_MARKETPLACE_JOB_WORKERS threads; `serve` sets it),
        # which also refresh the trending counts.
        job_workers = jobs.WorkerPool(db, jobs.WorkerConfig.from_env(), maintenance=trending
                                      .TrendingRefresher(db, settings.trending_days,
                                                         settings.trending_refresh_seconds)
                                      ).start()
        try:
            yield
        finally:
            await asyncio.to_thread(job_workers.stop)
            db.dispose()

    app = FastAPI(
        title="Story Studio marketplace",
        version=SERVER_VERSION,
        summary=f"API v{API_VERSION}: reference stories, versions, forks, sync and remixes.",
        lifespan=lifespan,
        # Every route can refuse with these, all in the app's one error shape; declaring 422
        # here also replaces FastAPI's default validation-error schema in the document.
        responses=ERROR_RESPONSES,
    )
    app.state.settings = settings
    for module in (meta, accounts, stories, forks, sync):
        app.include_router(module.router)
    for module in (community, moderation):
        app.include_router(module.router)
    for module in (ideas, analyses):
        app.include_router(module.router)
    for module in (collaborators, proposals):
        app.include_router(module.router)
    _install_handlers(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    # Outermost: a cached anonymous browse answer needs nothing else.
    app.add_middleware(BrowseCache, ttl=settings.browse_cache_seconds,
                       max_bytes=int(settings.browse_cache_mb * 2**20))
    return app


def create_app_from_env() -> FastAPI:
    """The factory uvicorn workers call (``--factory``): settings come from the environment."""
    return create_app(Settings.from_env())
