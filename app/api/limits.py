"""What a GraphQL document would cost, measured on its parsed form before it runs: depth,
aliases, distinct `asOf` instants, and a cost that multiplies page sizes down nested
connections. Pure functions over graphql-core's AST, the schema and the variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

from app.api.connections import DEFAULT_PAGE, MAX_PAGE
from app.api.errors import too_complex
from app.settings import Settings
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_interface_type,
    is_leaf_type,
    is_list_type,
    is_object_type,
)

# A list without paging (versions of an entity, introspection's fields) is taken to hold
# this many items.
UNPAGED_LIST_ITEMS = 10
# A JSON value (an event as it was sent) weighs as much as this many objects.
JSON_WEIGHT = 20
PAGED_FIELDS = ("nodes", "edges")


@dataclass(frozen=True)
class Limits:
    """The limits, each with the setting that sets it."""

    max_depth: int
    max_aliases: int
    max_cost: int
    max_as_of_values: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_query_aliases,
            max_cost=settings.max_query_cost,
            max_as_of_values=settings.max_as_of_values,
        )


class _Refused(Exception):
    def __init__(self, error: GraphQLError) -> None:
        self.error = error


@dataclass
class _Walk:
    schema: GraphQLSchema
    limits: Limits
    variables: Mapping[str, Any]
    variable_defaults: dict[str, Any]
    fragments: dict[str, FragmentDefinitionNode]
    cost: int = 0
    visited: int = 0
    aliases: int = 0
    as_of_values: set[str] = field(default_factory=set)

    def selection_set(
        self,
        selections: SelectionSetNode,
        parent: Any,
        multiplier: int,
        depth: int,
        page: int,
        spreads: frozenset[str],
    ) -> None:
        seen_keys: set[str] = set()
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                key = (selection.alias or selection.name).value
                if selection.alias is not None or key in seen_keys:
                    self.aliases += 1
                    if self.aliases > self.limits.max_aliases:
                        raise _Refused(
                            too_complex(
                                "COURSEGRAPH_MAX_QUERY_ALIASES",
                                self.limits.max_aliases,
                                "the query has more aliased or repeated fields than "
                                f"COURSEGRAPH_MAX_QUERY_ALIASES ({self.limits.max_aliases})",
                            )
                        )
                seen_keys.add(key)
                self.field(selection, parent, multiplier, depth, page, spreads)
            elif isinstance(selection, InlineFragmentNode):
                inner = self._type_named(selection.type_condition, parent)
                self.selection_set(selection.selection_set, inner, multiplier, depth, page, spreads)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in spreads:
                    continue  # unknown or cyclic: validation reports it
                inner = self._type_named(fragment.type_condition, parent)
                self.selection_set(
                    fragment.selection_set, inner, multiplier, depth, page, spreads | {name}
                )

    def _type_named(self, condition: Any, parent: Any) -> Any:
        if condition is None:
            return parent
        return self.schema.get_type(condition.name.value)

    def field(
        self,
        node: FieldNode,
        parent: Any,
        multiplier: int,
        depth: int,
        page: int,
        spreads: frozenset[str],
    ) -> None:
        depth += 1
        self.visited += 1
        if depth > self.limits.max_depth:
            raise _Refused(
                too_complex(
                    "COURSEGRAPH_MAX_QUERY_DEPTH",
                    self.limits.max_depth,
                    f"the query nests deeper than COURSEGRAPH_MAX_QUERY_DEPTH "
                    f"({self.limits.max_depth})",
                )
            )
        definition = self._definition(node, parent)
        for argument in node.arguments or ():
            if argument.name.value == "asOf":
                value = self._value(argument.value)
                if value is not None:
                    self.as_of_values.add(str(value))
        if len(self.as_of_values) > self.limits.max_as_of_values:
            raise _Refused(
                too_complex(
                    "COURSEGRAPH_MAX_AS_OF_VALUES",
                    self.limits.max_as_of_values,
                    "the query asks for more distinct `asOf` instants than "
                    f"COURSEGRAPH_MAX_AS_OF_VALUES ({self.limits.max_as_of_values})",
                )
            )
        if definition is None:
            self._charge(0)
            return  # unknown field: validation reports it
        field_type = get_nullable_type(definition.type)  # type: ignore[arg-type]
        named = get_named_type(field_type)
        if is_leaf_type(named):
            self._charge(multiplier * (JSON_WEIGHT if named.name == "JSON" else 0))
            return
        inner = multiplier
        if node.name.value in PAGED_FIELDS and _is_connection(parent):
            inner = multiplier * page
        elif is_list_type(field_type):
            inner = multiplier * UNPAGED_LIST_ITEMS
        self._charge(inner)
        own_page = self._page_size(node, definition) if _is_connection(named) else page
        if node.selection_set is not None:
            self.selection_set(node.selection_set, named, inner, depth, own_page, spreads)

    def _charge(self, amount: int) -> None:
        self.cost += amount
        # `visited` bounds the walk itself (fragments spread inside fragments multiply).
        if self.cost > self.limits.max_cost or self.visited > self.limits.max_cost:
            raise _Refused(
                too_complex(
                    "COURSEGRAPH_MAX_QUERY_COST",
                    self.limits.max_cost,
                    "the query would produce more than COURSEGRAPH_MAX_QUERY_COST "
                    f"({self.limits.max_cost}) objects: page sizes (`first`, default "
                    f"{DEFAULT_PAGE}) multiply down nested connections; ask for smaller pages "
                    "or fewer levels",
                )
            )

    def _definition(self, node: FieldNode, parent: Any) -> GraphQLField | None:
        name = node.name.value
        if name == "__schema":
            return SchemaMetaFieldDef
        if name == "__type":
            return TypeMetaFieldDef
        if not (is_object_type(parent) or is_interface_type(parent)):
            return None
        return parent.fields.get(name)

    def _value(self, value_node: Any) -> Any:
        if isinstance(value_node, VariableNode):
            name = value_node.name.value
            if name in self.variables:
                return self.variables[name]
            return self.variable_defaults.get(name)
        if isinstance(value_node, IntValueNode | StringValueNode):
            return value_node.value
        return None

    def _page_size(self, node: FieldNode, definition: GraphQLField) -> int:
        given: Any = None
        found = False
        for argument in node.arguments or ():
            if argument.name.value == "first":
                given, found = self._value(argument.value), True
        if not found:
            default = definition.args.get("first")
            given = default.default_value if default is not None else None
        try:
            size = int(given) if given is not None else DEFAULT_PAGE
        except (TypeError, ValueError):
            size = DEFAULT_PAGE
        # `first` above the maximum is refused by the resolver (BAD_USER_INPUT).
        return max(0, min(size, MAX_PAGE))


def _is_connection(graphql_type: Any) -> bool:
    return is_object_type(graphql_type) and graphql_type.name.endswith("Connection")


def _variable_defaults(operation: OperationDefinitionNode) -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        value = definition.default_value
        if isinstance(value, IntValueNode | StringValueNode):
            defaults[definition.variable.name.value] = value.value
    return defaults


def _measure(
    document: DocumentNode,
    schema: GraphQLSchema,
    variables: Mapping[str, Any] | None,
    limits: Limits,
) -> _Walk:
    """Walk every operation in the document, whichever one runs: validation reads them
    all. Raises _Refused at the first limit passed."""
    walk = _Walk(
        schema=schema,
        limits=limits,
        variables=variables if isinstance(variables, Mapping) else {},
        variable_defaults={},
        fragments={
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        },
    )
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            root = schema.get_root_type(definition.operation)
            walk.variable_defaults = _variable_defaults(definition)
            walk.selection_set(definition.selection_set, root, 1, 0, DEFAULT_PAGE, frozenset())
    return walk


def over_time_budget(budget_seconds: float) -> GraphQLError:
    """A query or mutation that ran past COURSEGRAPH_REQUEST_BUDGET_SECONDS and was stopped
    (over HTTP and over the WebSocket alike)."""
    return too_complex(
        "COURSEGRAPH_REQUEST_BUDGET_SECONDS",
        budget_seconds,
        f"the request ran past its time budget, COURSEGRAPH_REQUEST_BUDGET_SECONDS "
        f"({budget_seconds} s), and was stopped",
    )


def refusal(
    document: DocumentNode,
    schema: GraphQLSchema,
    variables: Mapping[str, Any] | None,
    limits: Limits,
) -> GraphQLError | None:
    """The first limit the document goes past (a QUERY_TOO_COMPLEX error), or None."""
    try:
        _measure(document, schema, variables, limits)
    except _Refused as refused:
        return refused.error
    return None


UNLIMITED = Limits(max_depth=10**9, max_aliases=10**9, max_cost=10**15, max_as_of_values=10**9)


def cost_of(
    document: DocumentNode, schema: GraphQLSchema, variables: Mapping[str, Any] | None
) -> int:
    """The document's cost, with no limit applied."""
    return _measure(document, schema, variables, UNLIMITED).cost
