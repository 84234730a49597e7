"""Security headers on every answer: a CSP without inline script, no framing, no sniffing."""

from __future__ import annotations

from aiohttp import web

from forgeguard_app.web.state import APP_STATE

CSP = web.AppKey("forgeguard_csp", str)


def content_security_policy(github_url: str) -> str:
    # form-action names GitHub: the /setup form posts the manifest there.
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            "connect-src 'self'",
            f"form-action 'self' {github_url.rstrip('/')}",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", request.app[CSP])
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")


def install(app: web.Application) -> None:
    app[CSP] = content_security_policy(app[APP_STATE].settings.github_url)
    app.on_response_prepare.append(add_headers)
