"""coursegraph serve | ingest | seed | verify | export | schema | db upgrade"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import ValidationError

from app.settings import Settings

# Kept here, not imported from app.export, so that --help stays fast (no pyarrow).
FORMATS_FOR_HELP = ("parquet", "csv", "jsonl")


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the server on this machine."""
    if host.strip().lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost, or "" (every address)


def _anonymous_refusal(args: argparse.Namespace, settings: Settings) -> str | None:
    """Why `serve` must not start as asked, or None. Logs the warning when told to."""
    if settings.api_tokens or is_loopback(args.host):
        return None
    if args.allow_anonymous or settings.allow_anonymous:
        print(
            f"coursegraph: WARNING: serving on {args.host} without COURSEGRAPH_API_TOKENS: "
            "anyone who can reach this address may query every course and grade. Only Host "
            "names in COURSEGRAPH_ALLOWED_HOSTS (default: loopback names) reach /graphql.",
            file=sys.stderr,
        )
        return None
    return (
        f"coursegraph: refusing to serve /graphql on {args.host} (not a loopback address) "
        "without API tokens: set COURSEGRAPH_API_TOKENS, or pass --allow-anonymous "
        "(COURSEGRAPH_ALLOW_ANONYMOUS=true) to serve it open to anyone who can reach it"
    )


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.request_log import serve_log_config
    from app.startup import check_schema_or_explain

    settings = Settings()
    refusal = _anonymous_refusal(args, settings)
    if refusal:
        print(refusal, file=sys.stderr)
        return 2
    problem = asyncio.run(check_schema_or_explain(settings.database_url))
    if problem:
        print(problem, file=sys.stderr)
        return 1
    print(
        f"coursegraph: GraphQL and GraphiQL at http://{args.host}:{args.port}/graphql",
        file=sys.stderr,
    )
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        log_config=serve_log_config(),
        access_log=False,
        # Frames past the body cap are refused by uvicorn itself; the app checks too.
        ws_max_size=settings.max_body_bytes,
    )
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from app.files import expand_paths
    from app.runner import run_ingest

    files, missing = expand_paths(args.paths)
    if missing:
        for line in missing:
            print(f"coursegraph ingest: {line}", file=sys.stderr)
        return 2
    return asyncio.run(run_ingest(Settings(), files, repair=args.repair))


def _seed(args: argparse.Namespace) -> int:
    from app.runner import run_seed

    return asyncio.run(run_seed(Settings(), scale=args.scale))


def _verify(args: argparse.Namespace) -> int:
    from app.verify import run_verify

    return asyncio.run(run_verify(Settings()))


def _instant(option: str) -> Callable[[str], int]:
    """An argparse type for an ISO-8601 option: a bad value is a usage error naming it."""

    def parse(value: str) -> int:
        from app.export import ExportProblem, parse_instant

        try:
            return parse_instant(option, value)
        except ExportProblem as problem:
            raise argparse.ArgumentTypeError(str(problem)) from None

    return parse


def _export(args: argparse.Namespace) -> int:
    from app.export import ExportScope, run_export

    scope = ExportScope(course_number=args.course, since_ms=args.since, until_ms=args.until)
    return asyncio.run(
        run_export(
            Settings(),
            format=args.format,
            out=Path(args.out),
            scope=scope,
            overwrite=args.overwrite,
        )
    )


def _schema(args: argparse.Namespace) -> int:
    from app.api.schema import schema_sdl

    sys.stdout.write(schema_sdl())
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from app.startup import upgrade

    before, after = asyncio.run(upgrade(Settings().database_url))
    if before == after:
        print(f"coursegraph: the database schema is up to date (revision {after})", file=sys.stderr)
    else:
        print(
            f"coursegraph: upgraded the database schema from {before or 'empty'} to {after}",
            file=sys.stderr,
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coursegraph",
        description="A Caliper event store for Blackboard Learn, with a GraphQL API.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve /graphql, /caliper and /healthz")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--log-level", default="info")
    serve.add_argument(
        "--allow-anonymous",
        action="store_true",
        help="serve /graphql without API tokens on a non-loopback address (open to anyone)",
    )
    serve.set_defaults(run=_serve)

    ingest = commands.add_parser("ingest", help="append Caliper files, folders or stdin (-)")
    ingest.add_argument("paths", nargs="+", metavar="PATH")
    ingest.add_argument(
        "--repair",
        action="store_true",
        help="fix U+00A0 used as whitespace and raw control characters inside strings",
    )
    ingest.set_defaults(run=_ingest)

    seed = commands.add_parser("seed", help="load the demo semester (idempotent)")
    seed.add_argument("--scale", type=int, default=1, help="generate a semester N times larger")
    seed.set_defaults(run=_seed)

    verify = commands.add_parser("verify", help="rebuild derived data from the log and compare")
    verify.set_defaults(run=_verify)

    export = commands.add_parser(
        "export",
        help="write the log and one table per projection as Parquet, CSV or JSON Lines files",
        description="Write the log (events) and one table per projection (courses, people, "
        "groups, content_items, attempts, calculated_grades, participants) into DIR, one file "
        "a table. The log keeps the events with since <= eventTime < until; the other tables "
        "hold each entity's state as of just before --until (the API's asOf), or now.",
    )
    export.add_argument("--format", required=True, choices=FORMATS_FOR_HELP)
    export.add_argument("--out", required=True, metavar="DIR", help="a new or empty directory")
    export.add_argument(
        "--course",
        metavar="NUMBER",
        help="only the courses with this courseNumber (their events, entities and people)",
    )
    export.add_argument("--since", type=_instant("--since"), metavar="T", help="ISO-8601")
    export.add_argument("--until", type=_instant("--until"), metavar="T", help="ISO-8601")
    export.add_argument(
        "--overwrite",
        action="store_true",
        help="write into a DIR that is not empty, replacing an earlier export's files there "
        "(other files are left alone); without it a non-empty DIR is refused",
    )
    export.set_defaults(run=_export)

    schema = commands.add_parser("schema", help="print the GraphQL SDL")
    schema.set_defaults(run=_schema)

    db = commands.add_parser("db", help="database schema migrations")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="bring the database schema up to date")
    upgrade.set_defaults(run=_db_upgrade)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 on usage errors
    from app.runtime import tune_garbage_collector

    tune_garbage_collector()
    from store.schema import SchemaNotReady

    try:
        return int(args.run(args) or 0)
    except SchemaNotReady as error:
        print(f"coursegraph: {error}", file=sys.stderr)
        return 1
    except ValidationError as error:
        for line in settings_problems(error):
            print(f"coursegraph: invalid setting: {line}", file=sys.stderr)
        return 2


def settings_problems(error: ValidationError) -> list[str]:
    """One line per bad setting, naming its variable: no pydantic report."""
    lines = []
    for problem in error.errors():
        variable = "COURSEGRAPH_" + "_".join(str(part) for part in problem["loc"]).upper()
        message = str(problem["msg"]).removeprefix("Value error, ")
        lines.append(message if variable in message else f"{variable}: {message}")
    return lines


if __name__ == "__main__":
    sys.exit(main())
