"""The Starlette application: HTML pages and the JSON API (`/api/v1/...`) over `actions/`.

Each request works on its own cursor of the one open database (`Store.cursor()`), in a worker thread,
so pages stay readable while the watcher in the same process writes. Every page is a template with
autoescaping on; every API answer is JSON; every change needs the session's CSRF token (see auth.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tunnelhunt import __version__
from tunnelhunt.actions import incidents
from tunnelhunt.actions.common import OptionError, resolve_time
from tunnelhunt.actions.events import READABLE, NotFound, ResultEvents, events_in
from tunnelhunt.actions.search import SearchOptions, search_on
from tunnelhunt.content.loader import ContentSet
from tunnelhunt.errors import TunnelhuntError
from tunnelhunt.report import charts
from tunnelhunt.report.templating import environment
from tunnelhunt.store.duckdb_store import Store
from tunnelhunt.web.auth import COOKIE, CSRF_HEADER, Guard, same_origin

T = TypeVar("T")
#: The actions' errors that mean "no such thing" (404 rather than 400).
NOT_FOUND = (incidents.UnknownFinding, NotFound)
API = "/api/v1"
#: No script, style or image from anywhere but this server (inline ones are the templates' own).
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


class BadRequest(TunnelhuntError):
    """A request the server refuses (bad filter, CSRF, ...): 400 or `status`."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def create_app(store: Store, content: ContentSet, token_hash: str | None = None) -> Starlette:
    """The application over an open store; `token_hash` (auth.hash_token) makes every page need a login."""
    guard = Guard(token_hash)
    app = Starlette(
        routes=_routes(),
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=_dispatch)],
        exception_handlers={TunnelhuntError: _error},
    )
    app.state.store, app.state.content, app.state.guard = store, content, guard
    return app


# --- plumbing ----------------------------------------------------------------------------------------


async def _dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
    """Session cookie, login wall, security headers."""
    guard: Guard = request.app.state.guard
    session = request.cookies.get(COOKIE) or ""
    fresh = not session
    if fresh:
        session = guard.new_session()
    request.state.session = session
    path = request.url.path
    if not guard.allowed(request, session) and path not in ("/login", "/static/style.css"):
        if path.startswith(API):
            response: Response = JSONResponse({"error": "log in: send Authorization: Bearer TOKEN"}, 401)
        else:
            response = RedirectResponse("/login", 303)
    else:
        response = await call_next(request)
    if fresh and COOKIE not in response.headers.get("set-cookie", ""):
        _set_session(response, session)
    response.headers["content-security-policy"] = CSP
    response.headers["x-content-type-options"] = "nosniff"
    response.headers["referrer-policy"] = "same-origin"
    response.headers["x-frame-options"] = "DENY"
    return response


def _set_session(response: Response, session: str) -> None:
    response.set_cookie(COOKIE, session, httponly=True, samesite="strict", path="/")


async def _error(request: Request, exc: Exception) -> Response:
    status = exc.status if isinstance(exc, BadRequest) else 404 if isinstance(exc, NOT_FOUND) else 400
    if request.url.path.startswith(API):
        return JSONResponse({"error": str(exc)}, status)
    return _page(request, "error.html", {"message": str(exc)}, status)


async def _db(request: Request, work: Callable[..., T], *args: Any) -> T:
    """Run `work(store, *args)` in a worker thread on its own cursor of the served database."""
    store: Store = request.app.state.store

    def run() -> T:
        with store.cursor() as cursor:
            return work(cursor, *args)

    return await run_in_threadpool(run)


def _page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    env = environment("tunnelhunt.web")
    guard: Guard = request.app.state.guard
    body = env.get_template(template).render(
        request=request, csrf=guard.csrf(request.state.session), version=__version__, **context
    )
    return HTMLResponse(body, status)


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, default=_plain), status, media_type="application/json")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


async def _check_change(request: Request, token: str | None) -> None:
    """A state-changing request: same origin, and the session's CSRF token (unless bearer-authenticated)."""
    guard: Guard = request.app.state.guard
    if not same_origin(request):
        raise BadRequest("cross-origin request refused", 403)
    if not guard.bearer(request) and not guard.csrf_ok(request.state.session, token):
        raise BadRequest("missing or wrong CSRF token (reload the page)", 403)


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return resolve_time(text)
    except OptionError as exc:
        raise BadRequest(str(exc)) from None


def _filters(request: Request) -> incidents.QueueFilters:
    q = request.query_params
    after = q.get("after_seq")
    if after is not None and not after.isdigit():
        raise BadRequest("after_seq must be a number")
    return incidents.QueueFilters(
        earliest=_time(q.get("earliest")), latest=_time(q.get("latest")), severity=q.get("severity") or None,
        detection=q.get("detection") or None, entity=q.get("entity") or None, status=q.get("status") or None,
        after_seq=int(after) if after is not None else None,
    )  # fmt: skip


def _actor(request: Request, given: str | None) -> str:
    host = request.client.host if request.client else "unknown"
    return f"{(given or '').strip()[:64] or 'analyst'}@{host}"


def _events(store: Store, content: ContentSet, ident: str) -> list[ResultEvents]:
    return events_in(store, content, ident, limit=100, max_results=20)


def _event_rows(found: list[ResultEvents]) -> list[dict[str, Any]]:
    return [{"detection": item.detection, "result_id": item.result["result_id"], "columns": item.shown(READABLE),
             "events": item.events.to_pylist()} for item in found]  # fmt: skip


def _search_options(request: Request) -> SearchOptions | None:
    q = request.query_params
    text = (q.get("q") or "").strip()
    if not text:
        return None
    limit = q.get("limit") or "200"
    if not limit.isdigit():
        raise BadRequest("limit must be a number")
    return SearchOptions(text, earliest=_time(q.get("earliest")), latest=_time(q.get("latest")), limit=int(limit))


def _search(store: Store, options: SearchOptions) -> dict[str, Any]:
    result = search_on(store, options)
    rows = result.rows.to_pylist()
    columns = [c for c in result.compiled.output_fields if any(r.get(c) is not None for r in rows)]
    return {"columns": columns or result.compiled.output_fields, "rows": rows, "truncated": result.truncated,
            "warnings": list(result.compiled.warnings)}  # fmt: skip


# --- pages ---------------------------------------------------------------------------------------------


async def queue_page(request: Request) -> Response:
    filters = _filters(request)
    rows = await _db(request, incidents.queue, filters)
    options = await _db(request, incidents.choices)
    latest = await _db(request, incidents.latest_seq)
    return _page(request, "queue.html", {"rows": rows, "choices": options, "latest": latest,
                                          "q": request.query_params})  # fmt: skip


async def finding_page(request: Request) -> Response:
    item = await _db(request, incidents.finding, request.path_params["finding_id"])
    return _page(request, "finding.html", {"f": item, "statuses": incidents.STATUSES})


async def review_form(request: Request) -> Response:
    form = await request.form()
    await _check_change(request, _text(form.get("csrf")))
    finding_id = request.path_params["finding_id"]
    changes = {name: _text(form.get(name)) for name in ("status", "owner", "comment") if name in form}
    await _db(request, incidents.review, finding_id, _actor(request, _text(form.get("by"))), changes)
    return RedirectResponse(f"/findings/{finding_id}", 303)


async def entity_page(request: Request) -> Response:
    item = await _db(request, incidents.entity, request.path_params["name"])
    if not item["summary"] and not item["findings"]:
        raise BadRequest(f"no risk recorded for entity {request.path_params['name']!r}", 404)
    return _page(request, "entity.html", {"e": item, "chart": charts.risk_over_time(item["risk_events"])})


async def events_page(request: Request) -> Response:
    ident = request.path_params["ident"]
    found = await _db(request, _events, request.app.state.content, ident)
    return _page(request, "events.html", {"ident": ident, "results": _event_rows(found)})


async def search_page(request: Request) -> Response:
    options = _search_options(request)
    answer, error = None, None
    if options is not None:
        try:
            answer = await _db(request, _search, options)
        except TunnelhuntError as exc:
            error = str(exc)
    return _page(request, "search.html", {"q": request.query_params, "answer": answer, "error": error})


async def login_page(request: Request) -> Response:
    guard: Guard = request.app.state.guard
    if request.method == "GET":
        return _page(request, "login.html", {"error": None})
    form = await request.form()
    await _check_change(request, _text(form.get("csrf")))
    session = await run_in_threadpool(guard.login, _text(form.get("token")) or "")
    if session is None:
        return _page(request, "login.html", {"error": "wrong token"}, 403)
    response = RedirectResponse("/", 303)
    _set_session(response, session)
    return response


async def plotly_js(request: Request) -> Response:
    return Response(charts.plotly_js(), media_type="text/javascript", headers={"cache-control": "max-age=86400"})


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# --- API -----------------------------------------------------------------------------------------------


async def api_findings(request: Request) -> Response:
    filters = _filters(request)
    rows = await _db(request, incidents.queue, filters)
    return _json({"findings": rows, "latest_seq": await _db(request, incidents.latest_seq)})


async def api_finding(request: Request) -> Response:
    return _json(await _db(request, incidents.finding, request.path_params["finding_id"]))


async def api_review(request: Request) -> Response:
    await _check_change(request, request.headers.get(CSRF_HEADER))
    try:
        body = await request.json()
    except ValueError:
        raise BadRequest("the body must be a JSON object") from None
    if not isinstance(body, dict) or not all(isinstance(v, str | None) for v in body.values()):
        raise BadRequest('the body must be a JSON object of strings, e.g. {"status": "in progress"}')
    actor = _actor(request, body.pop("by", None))
    item = await _db(request, incidents.review, request.path_params["finding_id"], actor, body)
    return _json(item)


async def api_entity(request: Request) -> Response:
    return _json(await _db(request, incidents.entity, request.path_params["name"]))


async def api_events(request: Request) -> Response:
    found = await _db(request, _events, request.app.state.content, request.path_params["ident"])
    return _json({"results": _event_rows(found)})


async def api_search(request: Request) -> Response:
    options = _search_options(request)
    if options is None:
        raise BadRequest("give the search as ?q=SPL")
    return _json(await _db(request, _search, options))


async def api_session(request: Request) -> Response:
    """The CSRF token of this session (a script or API client sends it as X-CSRF-Token)."""
    guard: Guard = request.app.state.guard
    return _json({"csrf": guard.csrf(request.state.session), "version": __version__})


def _routes() -> list[Route]:
    return [
        Route("/", queue_page),
        Route("/findings/{finding_id}", finding_page),
        Route("/findings/{finding_id}/review", review_form, methods=["POST"]),
        Route("/entities/{name:path}", entity_page),
        Route("/events/{ident}", events_page),
        Route("/search", search_page),
        Route("/login", login_page, methods=["GET", "POST"]),
        Route("/static/plotly.min.js", plotly_js),
        Route(f"{API}/findings", api_findings),
        Route(f"{API}/findings/{{finding_id}}", api_finding),
        Route(f"{API}/findings/{{finding_id}}/review", api_review, methods=["POST"]),
        Route(f"{API}/entities/{{name:path}}", api_entity),
        Route(f"{API}/events/{{ident}}", api_events),
        Route(f"{API}/search", api_search),
        Route(f"{API}/session", api_session),
    ]
