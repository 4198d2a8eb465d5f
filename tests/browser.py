"""Headless Chromium for the browser tests, driven over the DevTools protocol (the
`websockets` package the test extras install), offline: every host but 127.0.0.1
resolves to nothing. Screenshots land in test-artifacts/ (git-ignored) for CI to keep.
"""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from app.api.dashboard import CHART_JS
from app.api.graphiql import assets_installed
from app.seeding import seed_store
from app.settings import REPO_ROOT
from app.startup import open_ready_store
from tests.processes import stop_process_group

ARTIFACTS = REPO_ROOT / "test-artifacts"
NODE_MODULES = REPO_ROOT / "node_modules"
WAIT_SECONDS = 45.0


# Every page records what its Content-Security-Policy blocked.
RECORD_CSP_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


class DevToolsError(RuntimeError):
    pass


class DevTools:
    """The few DevTools protocol calls these tests need, over one page's websocket."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.last_id = 0
        self.events: list[dict[str, Any]] = []
        # What a timed-out wait saves; a test may name its own.
        self.failure_screenshot = "browser-failure.png"

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.last_id += 1
        call_id = self.last_id
        self.connection.send(json.dumps({"id": call_id, "method": method, "params": params}))
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            message = json.loads(self.connection.recv(timeout=deadline - time.monotonic()))
            if message.get("id") != call_id:
                self.events.append(message)  # events arrive between the answers
                continue
            if "error" in message:
                raise DevToolsError(f"{method}: {message['error']}")
            return dict(message.get("result", {}))

    def evaluate(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise DevToolsError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, what: str) -> Any:
        """The value of a JavaScript expression once it is truthy."""
        deadline = time.monotonic() + WAIT_SECONDS
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except DevToolsError as error:  # e.g. the page is still navigating
                last_error = error
                value = None
            if value:
                return value
            time.sleep(0.2)
        self.screenshot(self.failure_screenshot)
        raise AssertionError(
            f"timed out waiting for {what} (screenshot in "
            f"test-artifacts/{self.failure_screenshot}); "
            f"last error: {last_error}; page errors: {self.page_errors()}"
        )

    def click(self, selector: str) -> None:
        """A real mouse click at the element's centre, as a user would do it."""
        box = self.wait_for(
            f"""(() => {{
                const element = document.querySelector({json.dumps(selector)});
                if (!element) return null;
                const rect = element.getBoundingClientRect();
                return {{x: rect.x + rect.width / 2, y: rect.y + rect.height / 2}};
            }})()""",
            f"{selector} to appear",
        )
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call(
                "Input.dispatchMouseEvent",
                type=kind,
                x=box["x"],
                y=box["y"],
                button="left" if kind != "mouseMoved" else "none",
                clickCount=1 if kind != "mouseMoved" else 0,
            )

    def navigate(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        self.wait_for(
            f"location.href.startsWith({json.dumps(url)}) && document.readyState === 'complete'",
            f"{url} to load",
        )

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        try:
            data = self.call("Page.captureScreenshot", format="png")["data"]
        except (DevToolsError, TimeoutError):
            return path
        path.write_bytes(base64.b64decode(data))
        return path

    def requested_urls(self) -> list[str]:
        return [
            event["params"]["request"]["url"]
            for event in self.events
            if event.get("method") == "Network.requestWillBeSent"
        ]

    def page_errors(self) -> list[str]:
        errors = []
        for event in self.events:
            if event.get("method") == "Runtime.exceptionThrown":
                details = event["params"]["exceptionDetails"]
                errors.append(str(details.get("exception", {}).get("description") or details))
            elif event.get("method") == "Log.entryAdded":
                entry = event["params"]["entry"]
                if entry.get("level") == "error":
                    errors.append(f"{entry.get('text')} {entry.get('url', '')}".strip())
        return errors


def _chromium_binary() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(
        "headless Chromium is not installed: `apt-get install -y chromium` (.ci/run installs it)"
    )


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    """A page in a fresh, offline headless Chromium, its network and console recorded."""
    binary = _chromium_binary()
    profile = tmp_path / "chromium-profile"
    log_path = tmp_path / "chromium.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                # No internet: every name but the test server's address resolves to nothing,
                # and no proxy from the environment gets a say.
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                "--no-proxy-server",
                "--remote-debugging-port=0",  # Chromium picks one and writes it down
                "--window-size=1400,900",
                "about:blank",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        active_port = profile / "DevToolsActivePort"
        deadline = time.monotonic() + WAIT_SECONDS
        while not active_port.is_file() or not active_port.read_text().strip():
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"Chromium did not start (exit {process.poll()}):\n"
                    + log_path.read_text(errors="replace")[-2000:]
                )
            time.sleep(0.1)
        port = active_port.read_text().split()[0]
        targets = httpx.get(
            f"http://127.0.0.1:{port}/json/list", timeout=10, trust_env=False
        ).json()
        page = next(target for target in targets if target["type"] == "page")
        # Screenshots arrive as one big message.
        with connect(page["webSocketDebuggerUrl"], max_size=None) as connection:
            devtools = DevTools(connection)
            for domain in ("Page", "Runtime", "Network", "Log"):
                devtools.call(f"{domain}.enable")
            devtools.call("Page.addScriptToEvaluateOnNewDocument", source=RECORD_CSP_VIOLATIONS)
            yield devtools
    finally:
        stop_process_group(process)


def seed_demo(database_url: str) -> None:
    """The demo semester, as `coursegraph seed` loads it."""

    async def load() -> None:
        store = await open_ready_store(database_url)
        try:
            await seed_store(store)
        finally:
            await store.close()

    asyncio.run(load())


def npm_assets_installed() -> bool:
    """GraphiQL's bundles and the dashboard's chart library, as `make assets` installs them."""
    return assets_installed(NODE_MODULES) and (NODE_MODULES / CHART_JS).is_file()


@pytest.fixture(scope="session")
def installed_assets() -> Path:
    """node_modules with GraphiQL's bundles: installs them (as `make assets` does) where
    npm can, skips where it cannot."""
    if npm_assets_installed():
        return NODE_MODULES
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip(
            "GraphiQL's assets are not in node_modules/ and npm is absent: install Node.js "
            "and run `make assets`"
        )
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0 or not npm_assets_installed():
        pytest.skip(f"`npm ci` could not install GraphiQL's assets: {done.stderr[-500:]}")
    return NODE_MODULES
