"""The served schema holds the whole contract: every type, field, argument, type
string and default, exactly; the contract's operations validate; the SDL export is
current; `import graphql` is graphql-core."""

from __future__ import annotations

from pathlib import Path

import pytest

import graphql
from app.api.schema import SCHEMA, schema_sdl
from app.settings import REPO_ROOT
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    build_schema,
    parse,
    validate,
)

SERVED = SCHEMA._schema


@pytest.fixture(scope="module")
def contract(contract_dir: Path) -> graphql.GraphQLSchema:
    """schema.graphql extended by analytics.graphql: the contract is both files."""
    parts = [(contract_dir / name).read_text() for name in ("schema.graphql", "analytics.graphql")]
    return build_schema("\n".join(parts))


def _named_types(schema: graphql.GraphQLSchema) -> dict[str, object]:
    return {name: t for name, t in schema.type_map.items() if not name.startswith("__")}


def _default_of(arg: graphql.GraphQLArgument) -> object:
    """build_schema keeps SDL defaults on the AST node; read them as values."""
    node = arg.ast_node.default_value if arg.ast_node is not None else None
    if node is None:
        return graphql.Undefined
    return graphql.value_from_ast(node, arg.type)


def _sdl_default(node: graphql.ValueNode | None) -> str | None:
    return graphql.print_ast(node) if node is not None else None


def test_import_graphql_is_graphql_core() -> None:
    assert hasattr(graphql, "graphql_sync"), "a local `graphql` module hides graphql-core"
    assert "site-packages" in (graphql.__file__ or "")


def test_every_contract_type_exists_with_its_kind(contract: graphql.GraphQLSchema) -> None:
    served = _named_types(SERVED)
    for name, wanted in _named_types(contract).items():
        assert name in served, f"type {name} is missing"
        assert isinstance(served[name], type(wanted)), f"{name} is a {type(served[name]).__name__}"


def test_every_field_and_argument_matches(contract: graphql.GraphQLSchema) -> None:
    served = _named_types(SERVED)
    for name, wanted in _named_types(contract).items():
        if not isinstance(
            wanted, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType
        ):
            continue
        have = served[name]
        for field_name, field in wanted.fields.items():
            assert field_name in have.fields, f"{name}.{field_name} is missing"
            served_field = have.fields[field_name]
            assert str(served_field.type) == str(field.type), (
                f"{name}.{field_name} is {served_field.type}, contract says {field.type}"
            )
            for arg_name, arg in getattr(field, "args", {}).items():
                assert arg_name in served_field.args, f"{name}.{field_name}({arg_name}) is missing"
                served_arg = served_field.args[arg_name]
                assert str(served_arg.type) == str(arg.type), (
                    f"{name}.{field_name}({arg_name}) type"
                )
                wanted_default = _default_of(arg)
                if isinstance(graphql.get_named_type(arg.type), GraphQLEnumType):
                    # Enum defaults compare as the SDL spells them (served ones are
                    # Python enum members).
                    wanted_default = _sdl_default(arg.ast_node.default_value)
                    served_value = served_arg.default_value
                    served_default = graphql.ast_from_value(served_value, served_arg.type)
                    served_arg_default = _sdl_default(served_default)
                else:
                    served_arg_default = served_arg.default_value
                assert served_arg_default == wanted_default, (
                    f"{name}.{field_name}({arg_name}) default {served_arg_default!r}, "
                    f"contract says {wanted_default!r}"
                )
            # Arguments the project adds must be optional, so contract queries still work.
            for extra in set(getattr(served_field, "args", {})) - set(getattr(field, "args", {})):
                assert not graphql.is_non_null_type(served_field.args[extra].type)


def test_contract_root_types(contract: graphql.GraphQLSchema) -> None:
    assert SERVED.query_type is not None and SERVED.query_type.name == "Query"
    assert SERVED.subscription_type is not None and SERVED.subscription_type.name == "Subscription"
    assert not isinstance(SERVED.type_map.get("DateTime"), GraphQLEnumType)


def test_contract_operations_validate(contract_dir: Path) -> None:
    operations = sorted((contract_dir / "operations").glob("*.graphql"))
    assert operations, "the contract ships operations"
    for path in operations:
        errors = validate(SERVED, parse(path.read_text()))
        assert not errors, f"{path.name}: {errors}"


def test_own_operations_validate() -> None:
    operations = sorted((REPO_ROOT / "graphql" / "operations").glob("*.graphql"))
    names = {path.stem for path in operations}
    assert {
        "CourseOverview",
        "Gradebook",
        "ContentHistory",
        "StudentGrades",
        "RecentEvents",
        "CourseActivity",
        "AtRiskStudents",
        "ItemStatistics",
    } <= names
    for path in operations:
        assert not validate(SERVED, parse(path.read_text())), path.name


def test_exported_sdl_is_current() -> None:
    exported = (REPO_ROOT / "graphql" / "schema.graphql").read_text()
    assert exported == schema_sdl(), (
        "graphql/schema.graphql drifted: run `coursegraph schema > graphql/schema.graphql`"
    )
