"""How the desk answers what goes wrong: one JSON shape for every error (never a traceback), and
the security headers on every response."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException


class ApiError(Exception):
    def __init__(self, status: int, message: str, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details


def _error(status: int, message: str, details: list[dict[str, str]] | None = None) -> JSONResponse:
    body: dict[str, object] = {"error": message, "status": status}
    if details:
        body["details"] = details
    return JSONResponse(body, status_code=status)


def validation_details(errors: list[dict[str, object]]) -> list[dict[str, str]]:
    details = []
    for error in errors:
        loc = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body",))  # type: ignore[union-attr]
        msg = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        details.append({"field": loc, "message": msg})
    return details


def install_error_handlers(app: FastAPI, log: logging.Logger) -> None:
    """The error handlers and the security-headers middleware; ``log`` hears of crashes."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, error: ApiError) -> JSONResponse:
        return _error(error.status, error.message, error.details)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, error: HTTPException) -> JSONResponse:
        message = (
            error.detail if error.status_code != 404 or error.detail != "Not Found"
            else f"no such page: {request.url.path}"
        )
        return _error(error.status_code, str(message))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        details = validation_details(list(error.errors()))
        summary = "; ".join(f"{d['field']}: {d['message']}" if d["field"] else d["message"] for d in details)
        return _error(422, f"invalid request: {summary}", details)

    @app.exception_handler(Exception)
    async def _crash(request: Request, error: Exception) -> JSONResponse:
        # Logged for the operator; the browser gets a message, never a traceback.
        log.exception("unhandled error on %s", request.url.path)
        return _error(500, "internal error; see the server log")

    @app.middleware("http")
    async def _security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if response.headers.get("content-type", "").startswith("text/html"):
            response.headers.setdefault(
                "Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"
            )
        return response
