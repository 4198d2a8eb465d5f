"""GraphiQL at GET /graphql: a course overview to run, the example operations in tabs, the
schema docs, a header editor, and its JavaScript and CSS served by the app itself.

The assets are the ready-made browser bundles that `make assets` installs from the npm
registry (package.json pins the versions below) into settings.graphiql_assets_dir; the app
serves exactly those files under /graphiql/assets/, so GraphiQL needs no internet. Where
they are not installed, the page takes the same versions from a CDN, pinned by Subresource
Integrity, and says how to install them; when that fails too it says so instead of staying
blank.
"""

from __future__ import annotations

import functools
import html
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from string import Template
from typing import Any

from graphql.error import GraphQLError
from graphql.language import ListTypeNode, NonNullTypeNode, OperationDefinitionNode, parse
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from app.settings import REPO_ROOT, Settings

log = logging.getLogger("coursegraph.graphiql")

# The example operations, one per file; the folder may be empty or missing.
OPERATIONS_DIR = REPO_ROOT / "graphql" / "operations"

ASSETS_PREFIX = "/graphiql/assets"
CDN_BASE = "https://unpkg.com"

# Must match package.json. The hashes are sha384 of the files in the npm tarballs (which is
# what unpkg serves byte for byte); tests/test_graphiql_browser.py checks both against an
# installed node_modules, so a version bump that forgets one of them fails there.
GRAPHIQL_VERSION = "3.8.3"
REACT_VERSION = "18.3.1"


@dataclass(frozen=True)
class Asset:
    package: str
    version: str
    file: str  # inside the package
    integrity: str

    @property
    def path(self) -> str:
        """Where it lies under node_modules/, and under ASSETS_PREFIX."""
        return f"{self.package}/{self.file}"

    @property
    def cdn_url(self) -> str:
        return f"{CDN_BASE}/{self.package}@{self.version}/{self.file}"


REACT = Asset(
    "react",
    REACT_VERSION,
    "umd/react.production.min.js",
    "sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z",
)
REACT_DOM = Asset(
    "react-dom",
    REACT_VERSION,
    "umd/react-dom.production.min.js",
    "sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1",
)
GRAPHIQL_JS = Asset(
    "graphiql",
    GRAPHIQL_VERSION,
    "graphiql.min.js",
    "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
)
GRAPHIQL_CSS = Asset(
    "graphiql",
    GRAPHIQL_VERSION,
    "graphiql.min.css",
    "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
)
ASSETS = (REACT, REACT_DOM, GRAPHIQL_JS, GRAPHIQL_CSS)

# The only files the asset route serves: node_modules holds a hundred packages and their
# package.json files, none of which a browser needs. The source maps only load when
# someone opens the browser's developer tools.
SERVED_FILES = frozenset(
    [*(asset.path for asset in ASSETS), f"{GRAPHIQL_JS.path}.map", f"{GRAPHIQL_CSS.path}.map"]
)
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".map": "application/json"}

DEFAULT_QUERY = """\
# coursegraph: Learn's Caliper events as a graph.
#
# ▶ or Ctrl-Enter runs this. The other tabs hold
# example operations; the book icon on the left
# opens the schema's docs. If the API needs a
# token, put {"Authorization": "Bearer <token>"}
# in Headers below.
query Courses {
  courses(first: 5) {
    totalCount
    nodes {
      courseNumber
      name
      groups { totalCount }
      contentItems { totalCount }
    }
  }
}
"""

# What a tab's variables editor starts with, per type: a value of the right shape that the
# user sees to fill in (a course number from the first tab's result, say).
PLACEHOLDERS: dict[str, Any] = {"String": "", "ID": "", "Int": 0, "Float": 0, "Boolean": False}


def assets_installed(assets_dir: Path) -> bool:
    return all((assets_dir / asset.path).is_file() for asset in ASSETS)


def _variables_skeleton(source: str) -> str | None:
    """`{"courseNumber": ""}` for `query X($courseNumber: String!, $after: String)`: the
    variables an operation cannot run without. None when there are none or the operation
    does not parse (GraphiQL then shows the syntax error itself)."""
    try:
        document = parse(source)
    except GraphQLError:
        return None
    values: dict[str, Any] = {}
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        for variable in definition.variable_definitions or ():
            # Nullable ones and those with a default run as they are; an empty cursor
            # would not.
            if not isinstance(variable.type, NonNullTypeNode) or variable.default_value is not None:
                continue
            inner = variable.type.type
            name = variable.variable.name.value
            if isinstance(inner, ListTypeNode):
                values[name] = []
            elif inner.name.value == "DateTime":
                # When the app was built, i.e. about now: an as-of query shows the present.
                values[name] = datetime.now(UTC).isoformat(timespec="seconds")
            else:
                values[name] = PLACEHOLDERS.get(inner.name.value)
    return json.dumps(values, indent=2) if values else None


@functools.cache
def operation_tabs(folder: Path) -> tuple[dict[str, str], ...]:
    """One GraphiQL tab per *.graphql file, by file name. Cached: graphiql_routes reads the
    folder once when the app is built, not on every page view."""
    if not folder.is_dir():
        return ()
    tabs: list[dict[str, str]] = []
    for path in sorted(folder.glob("*.graphql")):
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            log.warning("GraphiQL leaves out %s: %s", path, error)
            continue
        tab = {"query": source}
        variables = _variables_skeleton(source)
        if variables is not None:
            tab["variables"] = variables
        tabs.append(tab)
    return tuple(tabs)


def script_json(value: object) -> str:
    """JSON that cannot end the <script> element it sits in (`</script>`, `<!--`)."""
    text = json.dumps(value, ensure_ascii=False)
    for raw, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return text


def _config(settings: Settings) -> dict[str, Any]:
    # With API tokens the first request (the schema introspection) needs a token too: the
    # header editor starts with the header to complete, and opens on it.
    headers = (
        json.dumps({"Authorization": "Bearer <one of COURSEGRAPH_API_TOKENS>"}, indent=2)
        if settings.api_tokens
        else None
    )
    tabs = [{"query": DEFAULT_QUERY}, *operation_tabs(OPERATIONS_DIR)]
    if headers:
        tabs = [{**tab, "headers": headers} for tab in tabs]
    return {
        "defaultQuery": DEFAULT_QUERY,
        "defaultTabs": tabs,
        "defaultHeaders": headers,
        "editorTools": "headers" if headers else True,
    }


def _tags(local: bool) -> tuple[str, str]:
    """(the stylesheet link, the script tags) for local or CDN assets."""

    def attributes(asset: Asset) -> str:
        if local:
            return f'"{ASSETS_PREFIX}/{asset.path}?v={asset.version}"'
        # crossorigin is what lets the browser check integrity on another origin.
        return (
            f'"{html.escape(asset.cdn_url)}" integrity="{asset.integrity}" crossorigin="anonymous"'
        )

    stylesheet = f'<link rel="stylesheet" href={attributes(GRAPHIQL_CSS)} />'
    scripts = "\n    ".join(
        f"<script src={attributes(asset)}></script>" for asset in (REACT, REACT_DOM, GRAPHIQL_JS)
    )
    return stylesheet, scripts


# The page, with ${...} placeholders (string.Template: the page's own braces stay as they are).
PAGE = Template((Path(__file__).parent / "templates" / "graphiql.html").read_text(encoding="utf-8"))

CDN_NOTICE = (
    '<div class="notice" id="graphiql-assets-notice">GraphiQL is loading its JavaScript and '
    "CSS from {host} because they are not installed on this server. To use it offline, run "
    "<code>make assets</code> in the coursegraph folder (needs Node.js and npm), then "
    "reload this page.</div>"
)

FAILURE_LOCAL = (
    "<div class='failure'><h2>GraphiQL could not load</h2><p>The server did not deliver "
    "<code data-src></code>. Run <code>make assets</code> in the coursegraph folder to "
    "reinstall GraphiQL's assets, then reload.</p></div>"
)
FAILURE_CDN = (
    "<div class='failure'><h2>GraphiQL could not load</h2><p>Its assets are not installed "
    "on this server, and <code data-src></code> could not be fetched (no internet?). Run "
    "<code>make assets</code> in the coursegraph folder (needs Node.js and npm) so the "
    "server provides them itself, then reload. GraphQL itself works meanwhile: POST "
    "queries to this address.</p></div>"
)


def render_page(settings: Settings, nonce: str = "") -> str:
    local = assets_installed(settings.graphiql_assets_dir)
    stylesheet, scripts = _tags(local)
    return PAGE.substitute(
        nonce=nonce,
        stylesheet=stylesheet,
        scripts=scripts,
        notice="" if local else CDN_NOTICE.format(host=CDN_BASE.removeprefix("https://")),
        failure=script_json(FAILURE_LOCAL if local else FAILURE_CDN),
        config=script_json(_config(settings)),
    )


def content_security_policy(nonce: str, host: str) -> str:
    """Scripts only from this server, the CDN fallback and the page's own inline scripts
    (by nonce); queries and subscriptions only to this server; no framing."""
    sources = f"'self' {CDN_BASE}"
    directives = [
        "default-src 'none'",
        f"script-src {sources} 'nonce-{nonce}'",
        # GraphiQL's editors set inline styles.
        f"style-src {sources} 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        # 'self' covers ws: and wss: of this origin in newer browsers only.
        f"connect-src 'self' ws://{host} wss://{host}",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


def graphiql_page(settings: Settings, request: Request) -> Response:
    # Whether the assets are installed is looked up per view (a few stat calls), so
    # `make assets` while the server runs takes effect on the next reload.
    nonce = secrets.token_urlsafe(18)
    # The Host reached the page through the allow-list; anything unusual in it is dropped.
    host = "".join(c for c in request.headers.get("host", "") if c.isalnum() or c in ".-:[]")
    return HTMLResponse(
        render_page(settings, nonce),
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": content_security_policy(nonce, host or "localhost"),
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


def asset_route(root: Path, prefix: str, served: frozenset[str], what: str) -> Route:
    """GET prefix/<path> for exactly the `served` files under `root` (an npm
    node_modules): the browser bundles a page needs, nothing else of that folder.
    Shared by GraphiQL and the dashboard."""

    async def serve_asset(request: Request) -> Response:
        path = str(request.path_params["path"])
        if path not in served:
            return PlainTextResponse(f"not a {what} asset", status_code=404)
        file = root / path
        if not file.is_file():
            return PlainTextResponse(
                f"{path} is not installed: run `make assets` (needs npm)", status_code=404
            )
        # The page asks for ?v=<version>, so a new version is a new URL: cache for a day.
        return FileResponse(
            file,
            media_type=MEDIA_TYPES[file.suffix],
            headers={"Cache-Control": "public, max-age=86400"},
        )

    return Route(f"{prefix}/{{path:path}}", serve_asset, methods=["GET", "HEAD"])


def graphiql_routes(settings: Settings) -> list[BaseRoute]:
    if not settings.graphiql:
        return []
    # Read the example operations now, at startup: a new app sees the folder as it is.
    operation_tabs.cache_clear()
    tabs = operation_tabs(OPERATIONS_DIR)
    if assets_installed(settings.graphiql_assets_dir):
        log.info("GraphiQL serves its assets from %s", settings.graphiql_assets_dir)
    else:
        log.warning(
            "GraphiQL's assets are not in %s: the page loads them from %s (run `make assets`)",
            settings.graphiql_assets_dir,
            CDN_BASE,
        )
    log.debug("GraphiQL has %d example operations from %s", len(tabs), OPERATIONS_DIR)
    return [asset_route(settings.graphiql_assets_dir, ASSETS_PREFIX, SERVED_FILES, "GraphiQL")]
