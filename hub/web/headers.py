"""Security headers on every answer, and ``Secure`` session cookies behind TLS.

A plain ASGI middleware, added outermost, so it sees every response: pages, JSON, redirects,
static files, 404s and 422s, and even an unexpected exception (it answers the 500 itself, with
the headers, then lets the exception go on to be logged).

The Content-Security-Policy allows scripts, styles, fonts and connections from the hub itself
only: no inline script or style (the pages keep theirs in ``/static``), images also as ``data:``
URIs (the receipt's QR). ``frame-ancestors 'none'`` keeps the pages out of other sites' frames;
``Referrer-Policy: no-referrer`` keeps the rating URL's signature out of any other site's logs.

``secure_cookies``: ``True`` always marks the cookie ``Secure``; ``False`` never; ``None`` marks
it when the request came over https (directly, or through the trusted reverse proxy whose
``X-Forwarded-Proto`` uvicorn honours), and then also sends ``Strict-Transport-Security``.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=()"),
)
HSTS = ("strict-transport-security", "max-age=31536000")


class SecurityHeaders:
    def __init__(
        self, app: ASGIApp, *, session_cookie: str, secure_cookies: bool | None = None
    ) -> None:
        self.app = app
        self.cookie_prefix = (session_cookie + "=").encode()
        self.secure_cookies = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        secure = https if self.secure_cookies is None else self.secure_cookies
        static = str(scope.get("path", "")).startswith("/static/")
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = self._headers(message.get("headers", []), secure, static)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:
                body = b"Internal Server Error"
                await send_with_headers(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
            raise

    def _headers(
        self, raw: list[tuple[bytes, bytes]], secure: bool, static: bool
    ) -> list[tuple[bytes, bytes]]:
        headers = []
        present = set()
        for name, value in raw:
            lowered = name.lower()
            present.add(lowered)
            ours = lowered == b"set-cookie" and value.startswith(self.cookie_prefix)
            if secure and ours and b"; secure" not in value.lower():
                value += b"; secure"
            headers.append((name, value))
        wanted = list(SECURITY_HEADERS)
        if secure:
            wanted.append(HSTS)
        if not static:
            # Pages and answers carry personal data or a signed link: no shared or disk caches.
            wanted.append(("cache-control", "no-store"))
        for key, text in wanted:
            if key.encode() not in present:
                headers.append((key.encode(), text.encode()))
        return headers
