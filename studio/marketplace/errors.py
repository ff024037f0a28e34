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
