"""A bounded HTTP load generator for loopback servers (used when `wrk` is not installed).

    python bench/loadgen.py URL BODIES.json --connections 32 --seconds 10

POSTs the JSON bodies in turn over `connections` keep-alive connections for `seconds`
seconds, then prints one JSON line: requests, errors, seconds, rps. With --once, each
body is sent once (the run ends when all are answered, or at `seconds`); --header adds a
request header ("Name: value", repeatable)."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from urllib.parse import urlsplit

import httpx


async def run(
    url: str,
    bodies: list[bytes],
    connections: int,
    seconds: float,
    once: bool = False,
    extra_headers: dict[str, str] | None = None,
) -> dict:
    host = urlsplit(url).hostname or ""
    if not (host.startswith("127.") or host in ("localhost", "::1")):
        raise SystemExit("loadgen only targets loopback addresses")
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    done = errors = 0
    cycle = iter(bodies) if once else itertools.cycle(bodies)
    headers = {"content-type": "application/json", **(extra_headers or {})}
    async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done, errors
            while time.perf_counter() < deadline:
                body = next(cycle, None)
                if body is None:
                    return
                try:
                    response = await client.post(url, content=body, headers=headers)
                    if response.status_code == 200:
                        done += 1
                    else:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return {"requests": done, "errors": errors, "seconds": elapsed, "rps": done / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("bodies", help="a JSON file holding a list of request bodies")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--once", action="store_true", help="send each body once")
    parser.add_argument("--header", action="append", default=[], help='"Name: value"')
    args = parser.parse_args()
    headers = dict(tuple(part.strip() for part in h.split(":", 1)) for h in args.header)
    with open(args.bodies) as source:
        bodies = [json.dumps(body).encode() for body in json.load(source)]
    seconds = min(args.seconds, 120.0)
    result = asyncio.run(run(args.url, bodies, args.connections, seconds, args.once, headers))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
