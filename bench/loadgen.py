"""A bounded HTTP load generator for loopback servers (used when `wrk` is not installed).

    python bench/loadgen.py URL BODIES.json --connections 32 --seconds 10
    python bench/loadgen.py URL BODIES.jsonl --once --connections 8 --header "authorization: Bearer T"

POSTs the JSON bodies in turn over `connections` keep-alive connections for `seconds`
seconds, then prints one JSON line: requests, errors, seconds, rps. With `--once` the
bodies are a JSON Lines file (one body a line, read as the file is sent, so that a big
file costs no memory) and each is sent exactly once; the run ends when all are answered
(or at `seconds`) and also prints the first error's status and text."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from collections.abc import Iterator
from typing import IO
from urllib.parse import urlsplit

import httpx


def _lines(source: IO[bytes]) -> Iterator[bytes]:
    for line in source:
        line = line.rstrip(b"\r\n")
        if line:
            yield line


async def run(
    url: str,
    bodies: Iterator[bytes],
    connections: int,
    seconds: float,
    headers: dict[str, str] | None = None,
) -> dict:
    host = urlsplit(url).hostname or ""
    if not (host.startswith("127.") or host in ("localhost", "::1")):
        raise SystemExit("loadgen only targets loopback addresses")
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    done = errors = 0
    first_error: str | None = None
    sent = {"content-type": "application/json", **(headers or {})}
    async with httpx.AsyncClient(limits=limits, timeout=60.0) as client:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done, errors, first_error
            for body in bodies:  # shared: each body goes to one worker
                if time.perf_counter() >= deadline:
                    return
                try:
                    response = await client.post(url, content=body, headers=sent)
                    if response.status_code == 200:
                        done += 1
                        continue
                    failure = f"{response.status_code} {response.text[:300]}"
                except httpx.HTTPError as error:
                    failure = repr(error)
                errors += 1
                first_error = first_error or failure

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return {
        "requests": done,
        "errors": errors,
        "seconds": elapsed,
        "rps": done / elapsed,
        "first_error": first_error,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("bodies", help="a JSON file holding a list of request bodies")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--once", action="store_true", help="bodies: JSON Lines, each sent once")
    parser.add_argument("--header", action="append", default=[], help='"name: value"')
    args = parser.parse_args()
    headers = dict(
        (name.strip().lower(), value.strip())
        for name, value in (header.split(":", 1) for header in args.header)
    )
    seconds = min(args.seconds, 600.0 if args.once else 120.0)
    if args.once:
        with open(args.bodies, "rb") as source:
            result = asyncio.run(run(args.url, _lines(source), args.connections, seconds, headers))
    else:
        with open(args.bodies) as source:
            bodies = [json.dumps(body).encode() for body in json.load(source)]
        result = asyncio.run(
            run(args.url, itertools.cycle(bodies), args.connections, seconds, headers)
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
