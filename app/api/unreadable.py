"""One error per stored entity a request met but could not read (see context.Unreadable):
a list leaves the entity out and a single field serves null, so that the rest of the
answer stands, and this extension adds the error naming it."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension


class UnreadableEntities(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        report = getattr(self.execution_context.context, "unreadable_errors", None)
        if result is None or report is None:
            return
        found = report()
        if found:
            result.errors = [*(result.errors or []), *found]
