"""API errors: every refusal is a 4xx with a sentence saying what was wrong and what to do."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str = "error",
                 headers: dict[str, str] | None = None, **extra):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict:
        return {"detail": self.message, "code": self.code, **self.extra}


def not_found(what: str, ident: str) -> ApiError:
    return ApiError(404, f"No {what} {ident!r} exists, or it is not visible to you.",
                    "not_found")


def forbidden(message: str) -> ApiError:
    return ApiError(403, message, "forbidden")


def unauthorized(message: str) -> ApiError:
    return ApiError(401, message, "unauthorized", headers={"WWW-Authenticate": "Bearer"})


# What every refusal looks like, for the OpenAPI document (clients and fuzzers read it).
ERROR_SCHEMA = {
    "type": "object",
    "required": ["detail", "code"],
    "properties": {
        "detail": {"type": "string", "description": "A sentence saying what was wrong."},
        "code": {"type": "string", "description": "A stable machine-readable reason."},
        "errors": {"type": "array", "items": {"type": "object"},
                   "description": "Per-field problems of an invalid request."},
    },
    "additionalProperties": True,
}
ERROR_RESPONSES = {
    status: {"description": text, "content": {"application/json": {"schema": ERROR_SCHEMA}}}
    for status, text in (
        (401, "Not logged in, or the token expired or was revoked."),
        (403, "Not allowed: not yours, not a moderator, or over a quota."),
        (404, "No such item, or it is not visible to you."),
        (409, "Conflicts with existing data (already done, taken, or in use)."),
        (410, "Deleted."),
        (413, "The request body is too large."),
        (422, "Invalid request: the sentence and the field errors say what to fix."),
        (429, "Too many attempts; retry after the Retry-After header."),
    )
}
