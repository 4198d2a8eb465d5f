"""`coursegraph serve` for bench/live.py, plus GET /bench/statements: how many SQL
statements this worker's store has sent since the first call (a SQLAlchemy hook on its
engines), and GET /bench/commits: the wall-clock time at which each append through
/caliper had committed, by its newest position. Settings come from COURSEGRAPH_* as for
the real command.

    python bench/live_server.py PORT
"""

from __future__ import annotations

import sys
import time
from typing import Any

import uvicorn
from sqlalchemy import event
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.main import create_app
from app.settings import Settings


def main() -> None:
    port = int(sys.argv[1])
    app = create_app(Settings())
    counted = {"statements": 0}
    hooked: set[int] = set()

    def count(*_args: Any) -> None:
        counted["statements"] += 1

    async def statements(request: Request) -> JSONResponse:
        store = request.app.state.store
        for engine in {store.reader, store.writer}:
            if id(engine) not in hooked:
                event.listen(engine.sync_engine, "before_cursor_execute", count)
                hooked.add(id(engine))
        feed = request.app.state.feed
        return JSONResponse({**counted, "subscriptions": feed.subscriptions})

    commits: dict[int, float] = {}
    notify_appended = app.state.notify_appended

    async def note_commit(result: Any) -> None:
        # /caliper calls this as soon as its append has returned, i.e. committed.
        if result.last_position is not None:
            commits[result.last_position] = time.time()
        await notify_appended(result)

    async def commit_times(request: Request) -> JSONResponse:
        return JSONResponse({str(position): at for position, at in commits.items()})

    app.state.notify_appended = note_commit
    app.router.routes.append(Route("/bench/statements", statements))
    app.router.routes.append(Route("/bench/commits", commit_times))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
