"""`coursegraph serve` for bench/live.py, plus GET /bench/statements: how many SQL
statements this worker's store has sent since the first call (a SQLAlchemy hook on its
engines). Settings come from COURSEGRAPH_* as for the real command.

    python bench/live_server.py PORT
"""

from __future__ import annotations

import sys
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

    app.router.routes.append(Route("/bench/statements", statements))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
