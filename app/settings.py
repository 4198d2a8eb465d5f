"""One frozen Settings object, read from COURSEGRAPH_* variables (or a .env file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="COURSEGRAPH_", env_file=".env", frozen=True, extra="ignore"
    )

    database_url: str = "sqlite+aiosqlite:///./coursegraph.db"
    ingest_tokens: Annotated[tuple[str, ...], NoDecode] = ()
    api_tokens: Annotated[tuple[str, ...], NoDecode] = ()
    graphiql: bool = True
    max_body_bytes: int = 10_485_760
    # Slow bodies: a request body not received within this many seconds is refused.
    body_read_timeout_seconds: float = 15.0
    # GraphQL request limits, each checked before anything runs (QUERY_TOO_COMPLEX).
    max_query_chars: int = 50_000
    max_query_tokens: int = 5_000
    max_query_depth: int = 20
    max_query_aliases: int = 30
    max_query_cost: int = 50_000
    max_as_of_values: int = 10
    # Wall-clock budget of one GraphQL request; past it the request ends and its work stops.
    request_budget_seconds: float = 20.0
    # Parsed and validated query texts kept, bounded by the bytes of their text.
    query_cache_bytes: int = 4_194_304
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    # Where `make demo` installs GraphiQL's JavaScript and CSS for offline use.
    graphiql_assets_dir: Path = REPO_ROOT / "node_modules"

    @field_validator(
        "max_body_bytes",
        "body_read_timeout_seconds",
        "max_query_chars",
        "max_query_tokens",
        "max_query_depth",
        "max_query_aliases",
        "max_query_cost",
        "max_as_of_values",
        "request_budget_seconds",
        "query_cache_bytes",
    )
    @classmethod
    def _positive(cls, value: float, info: ValidationInfo) -> float:
        if value <= 0:
            raise ValueError(f"COURSEGRAPH_{str(info.field_name).upper()} must be above 0")
        return value

    @field_validator("ingest_tokens", "api_tokens", "cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return _split_commas(value)
