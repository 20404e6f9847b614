"""Security headers on every response, and a same-origin check on form posts.

A pure ASGI middleware (no request body is read or buffered). The Content
Security Policy allows nothing but kijun's own origin and no script at all:
the app needs no JavaScript.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    # Not no-referrer: under it browsers send `Origin: null` with same-site form posts,
    # which the Origin check must refuse. same-origin still tells other sites nothing.
    ("referrer-policy", "same-origin"),
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()"),
)

#: Sent only over https (a browser ignores it on http, and on http it would be a lie).
#: No includeSubDomains: other hosts of the town's domain may still be http only.
STRICT_TRANSPORT_SECURITY = ("strict-transport-security", "max-age=31536000")

_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SecurityHeadersMiddleware:
    """Adds `SECURITY_HEADERS`; pages (not static assets) are also `no-store`.

    A state-changing request whose `Origin` names another site is refused
    with 403: a page elsewhere cannot post a decision in a clerk's name.
    (Behind it, `kijun.web.auth.guard` checks each browser session's CSRF token.)
    Over https, `Strict-Transport-Security` is added as well.
    """

    def __init__(self, app: ASGIApp, *, static_prefix: str = "/static/") -> None:
        self.app = app
        self.static_prefix = static_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] in _UNSAFE_METHODS and _cross_origin(scope):
            await _forbidden(send)
            return
        cacheable = str(scope.get("path", "")).startswith(self.static_prefix)
        extra = (STRICT_TRANSPORT_SECURITY,) if scope.get("scheme") == "https" else ()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for name, value in (*SECURITY_HEADERS, *extra):
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                if not cacheable and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", []):
        if k.lower() == name:
            return bytes(v).decode("latin-1")
    return None


def _cross_origin(scope: Scope) -> bool:
    origin = _header(scope, b"origin")
    if origin is None:
        # Browsers send Sec-Fetch-Site even where Origin is left out.
        return _header(scope, b"sec-fetch-site") == "cross-site"
    if origin == "null":
        return True
    # Behind a reverse proxy the Host seen here may be the upstream's; the proxy's
    # X-Forwarded-Host names the site the browser talked to.
    hosts = {h.strip().lower() for name in (b"host", b"x-forwarded-host")
             if (h := _header(scope, name)) is not None}
    return urlsplit(origin).netloc.lower() not in hosts


async def _forbidden(send: Send) -> None:
    body = "他のサイトからの送信は受け付けません。".encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        *((k.encode(), v.encode()) for k, v in SECURITY_HEADERS),
    ]
    await send({"type": "http.response.start", "status": 403, "headers": headers})
    await send({"type": "http.response.body", "body": body})
