"""Automatic persisted queries as Apollo defines them, and the allow-list mode.

A request carrying `extensions.persistedQuery = {version: 1, sha256Hash}` without `query`
runs the text stored under that hash, or gets PersistedQueryNotFound so the client resends
the text; with `query`, the hash must be the text's sha256 and the text is kept (bounded by
bytes, least recently used first out, per worker). In allow-list mode only the documents of
graphql/operations/ and of COURSEGRAPH_PERSISTED_QUERIES_DIR may run, by hash or by text.

Clients hash the text they send, printed by their own GraphQL library (Apollo Client adds
`__typename` too), so an allowed document is known by the hash of its file's text and of
its print; any other printing of it is answered PersistedQueryNotFound, and when the client
resends the text, the text is compared with the allowed documents ignoring layout,
comments and `__typename`, then kept under the client's hash like any persisted query."""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.api.errors import ErrorCode
from app.settings import REPO_ROOT, Settings
from graphql import (
    REMOVE,
    DocumentNode,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    Visitor,
    parse,
    print_ast,
    visit,
)

OPERATIONS_DIR = REPO_ROOT / "graphql" / "operations"
SUPPORTED_VERSION = 1
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# Each kept text costs its UTF-8 bytes plus its key and the dictionary entry.
_ENTRY_OVERHEAD_BYTES = 200


class PersistedQueryRefused(Exception):
    """The request is answered with this one coded error and nothing runs."""

    def __init__(self, message: str, code: ErrorCode, **extensions: Any) -> None:
        super().__init__(message)
        self.error = {"message": message, "extensions": {"code": str(code), **extensions}}
        # Apollo servers answer "not found" / "not supported" with 200 and clients retry on
        # it; the others are request errors (400 under application/graphql-response+json).
        self.retryable = code in (
            ErrorCode.PERSISTED_QUERY_NOT_FOUND,
            ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED,
        )


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class _WithoutTypename(Visitor):
    """Drops every unaliased `__typename`: clients add them (Apollo Client's cache does)."""

    def enter_field(self, node: FieldNode, *_: Any) -> Any:
        if node.alias is None and node.name.value == "__typename":
            return REMOVE
        return None


def _canonical(document: DocumentNode) -> str:
    return print_ast(visit(document, _WithoutTypename()))


def canonical_form(text: str) -> str | None:
    """One printing of the document that ignores layout, comments and `__typename`; None
    when the text does not parse."""
    try:
        return _canonical(parse(text))
    except GraphQLError:
        return None


@dataclass(frozen=True)
class AllowList:
    """The operation files: what allow-list mode runs — by the hash of a file's text or of
    its print, and by canonical form for texts printed otherwise — and their names."""

    texts_by_hash: dict[str, str]
    canonical_forms: frozenset[str]
    operation_names: frozenset[str]


def read_operation_files(folders: list[Path]) -> AllowList:
    texts_by_hash: dict[str, str] = {}
    canonical_forms: set[str] = set()
    names: set[str] = set()
    for folder in folders:
        for path in sorted(folder.glob("*.graphql")):
            text = path.read_text(encoding="utf-8")
            try:
                document = parse(text)
            except GraphQLError as error:
                raise ValueError(f"{path} is not a GraphQL document: {error.message}") from None
            for form in (text, print_ast(document)):
                texts_by_hash[sha256_hex(form)] = form
            canonical_forms.add(_canonical(document))
            names.update(
                definition.name.value
                for definition in document.definitions
                if isinstance(definition, OperationDefinitionNode) and definition.name
            )
    return AllowList(texts_by_hash, frozenset(canonical_forms), frozenset(names))


def operation_folders(settings: Settings) -> list[Path]:
    folders = [OPERATIONS_DIR]
    if settings.persisted_queries_dir is not None:
        folders.append(settings.persisted_queries_dir)
    return folders


@dataclass
class _Kept:
    text: str
    size: int


class PersistedQueries:
    """This worker's persisted queries (app.state.persisted_queries)."""

    def __init__(self, settings: Settings) -> None:
        self.mode = settings.persisted_queries
        self.max_bytes = settings.persisted_queries_max_bytes
        folder = settings.persisted_queries_dir
        if folder is not None and not folder.is_dir():
            raise ValueError(f"COURSEGRAPH_PERSISTED_QUERIES_DIR is not a folder: {folder}")
        self.allowed = read_operation_files(operation_folders(settings))
        # In allow-list mode only texts found allowed are kept.
        self._kept: OrderedDict[str, _Kept] = OrderedDict()
        self.kept_bytes = 0

    @property
    def checks_every_request(self) -> bool:
        """In allow-list mode a request without a hash is checked too."""
        return self.mode == "allowlist"

    def resolve(self, query: Any, extensions: Any) -> Any:
        """The query text to run for a request's `query` and `extensions`; raises
        PersistedQueryRefused. Shapes it does not handle (a query that is not a string)
        pass through for the GraphQL layer to refuse."""
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        if persisted is None:
            if self.mode == "allowlist" and isinstance(query, str):
                self._check_allowed(sha256_hex(query), query)
            return query
        if self.mode == "off":
            raise PersistedQueryRefused(
                "PersistedQueryNotSupported",
                ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED,
                setting="COURSEGRAPH_PERSISTED_QUERIES",
            )
        wanted = _requested_hash(persisted)
        if query is None:
            return self._text_for(wanted)
        if not isinstance(query, str):
            return query
        if sha256_hex(query) != wanted:
            raise PersistedQueryRefused(
                "provided sha does not match query", ErrorCode.BAD_USER_INPUT
            )
        if self.mode == "allowlist":
            self._check_allowed(wanted, query)
        elif wanted not in self.allowed.texts_by_hash:
            self._keep(wanted, query)
        return query

    def resolve_payload(self, payload: Any) -> Any:
        """A request's JSON (one operation, or a batch) with each `query` resolved: the
        same object when nothing changed, else a copy. Raises PersistedQueryRefused."""
        if isinstance(payload, list):
            resolved = [self.resolve_payload(operation) for operation in payload]
            changed = any(new is not old for new, old in zip(resolved, payload, strict=True))
            return resolved if changed else payload
        if not isinstance(payload, dict):
            return payload
        query = self.resolve(payload.get("query"), payload.get("extensions"))
        return payload if query is payload.get("query") else {**payload, "query": query}

    def _text_for(self, wanted: str) -> str:
        found = self.allowed.texts_by_hash.get(wanted)
        if found is not None:
            return found
        kept = self._kept.get(wanted)
        if kept is None:
            # Also in allow-list mode: the client may print an allowed document its own way,
            # and the text it resends is checked.
            raise PersistedQueryRefused(
                "PersistedQueryNotFound", ErrorCode.PERSISTED_QUERY_NOT_FOUND
            )
        self._kept.move_to_end(wanted)
        return kept.text

    def _check_allowed(self, key: str, text: str) -> None:
        if key in self.allowed.texts_by_hash or key in self._kept:
            return
        if canonical_form(text) not in self.allowed.canonical_forms:
            raise PersistedQueryRefused(
                "this operation is not on the allow-list: with "
                "COURSEGRAPH_PERSISTED_QUERIES=allowlist only the documents of "
                "graphql/operations/ and COURSEGRAPH_PERSISTED_QUERIES_DIR may run",
                ErrorCode.QUERY_NOT_IN_SAFELIST,
                setting="COURSEGRAPH_PERSISTED_QUERIES",
            )
        self._keep(key, text)  # the next request with this text or hash skips the parse

    def _keep(self, key: str, text: str) -> None:
        if key in self._kept:
            self._kept.move_to_end(key)
            return
        size = len(text.encode()) + _ENTRY_OVERHEAD_BYTES
        if size > self.max_bytes:
            return  # runs, but is not kept: the client sends its text each time
        self._kept[key] = _Kept(text, size)
        self.kept_bytes += size
        while self.kept_bytes > self.max_bytes:
            _, dropped = self._kept.popitem(last=False)
            self.kept_bytes -= dropped.size

    def __len__(self) -> int:
        return len(self._kept)


def _requested_hash(persisted: Any) -> str:
    if not isinstance(persisted, dict) or persisted.get("version") != SUPPORTED_VERSION:
        raise PersistedQueryRefused(
            "Unsupported persisted query version: extensions.persistedQuery.version "
            f"must be {SUPPORTED_VERSION}",
            ErrorCode.BAD_USER_INPUT,
        )
    wanted = persisted.get("sha256Hash")
    if not isinstance(wanted, str) or not _SHA256_HEX.fullmatch(wanted.lower()):
        raise PersistedQueryRefused(
            "extensions.persistedQuery.sha256Hash must be 64 hexadecimal digits",
            ErrorCode.BAD_USER_INPUT,
        )
    return wanted.lower()
