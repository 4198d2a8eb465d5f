"""The Host allow-list: a page on another site cannot reach the API through DNS
rebinding (its name resolving to this machine) when the Host is not one we answer to.

Only the API's paths are guarded: /caliper and /healthz are reached by whatever public name
Learn and load balancers use, and carry no data for a browser to read."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.problems import problem

ALLOWED_HOSTS_VARIABLE = "COURSEGRAPH_ALLOWED_HOSTS"
# Path prefixes (whole segments) of everything that serves API data or its pages.
GUARDED_PREFIXES = ("/graphql", "/graphiql", "/metrics", "/dashboard")


def is_guarded(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in GUARDED_PREFIXES)


def split_host(host: str) -> tuple[str, str | None]:
    """("example.org", "8000") for "Example.org:8000"; IPv6 literals keep their brackets."""
    host = host.strip().lower()
    if host.startswith("["):
        name, bracket, rest = host.partition("]")
        port = rest[1:] if rest.startswith(":") else None
        return name + bracket, port or None
    name, colon, port = host.rpartition(":")
    if colon and port.isdigit():
        return name.rstrip("."), port
    return host.rstrip("."), None


def host_allowed(host: str | None, allowed: tuple[str, ...]) -> bool:
    """Whether a Host header matches an entry: `name` (any port), `name:port`, `*.domain`
    (its subdomains) or `*` (anything)."""
    if not host:
        return False
    name, port = split_host(host)
    for entry in allowed:
        if entry == "*":
            return True
        entry_name, entry_port = split_host(entry)
        if entry_port is not None and entry_port != port:
            continue
        if entry_name == name:
            return True
        if entry_name.startswith("*.") and name.endswith(entry_name[1:]):
            return True
    return False


class HostAllowList:
    """ASGI middleware: 403 problem+json (HTTP) or a refused handshake (WebSocket) for a
    guarded path whose Host is not allowed. `allowed` None: every host."""

    def __init__(self, app: ASGIApp, allowed: tuple[str, ...] | None) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.allowed is None
            or scope["type"] not in ("http", "websocket")
            or not is_guarded(scope["path"])
            or host_allowed(Headers(scope=scope).get("host"), self.allowed)
        ):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            # Closing before accepting answers the handshake with 403.
            await send({"type": "websocket.close", "code": 1008, "reason": ""})
            return
        host = (Headers(scope=scope).get("host") or "(none)")[:200]
        refusal = problem(
            403,
            f"this server does not answer to the host name {host!r} here: add it to "
            f"{ALLOWED_HOSTS_VARIABLE} (comma-separated) to allow it",
            setting=ALLOWED_HOSTS_VARIABLE,
        )
        await refusal(scope, receive, send)
