"""Fields that several types share: the course an entity belongs to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

if TYPE_CHECKING:
    from app.api.course import Course


async def owning_course(
    root: Any, info: Info
) -> Annotated[Course, strawberry.lazy("app.api.course")] | None:
    """The course of the entity's first event, as of the same instant as the entity."""
    from app.api.course import load_course

    return await load_course(info, root.state.course_id, root.as_of)
