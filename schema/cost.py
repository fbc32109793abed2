"""The cost of an operation, before it runs: GitHub's node limit.

A field returning objects counts each object it may return; a connection or list
with `first` returns up to `first` (its default when left out), other lists an
estimate (LIST_SIZES); and what a field returns multiplies everything selected
below it. `points`, what a request takes from its client's budget, is
1 + nodes // 100. The walk follows fragments once per path and stops after
MAX_VISITS selections, so no document makes it exponential.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    VariableNode,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

# Lists without `first`: how many items they are assumed to hold.
LIST_SIZES = {
    "ArticlePage.body": 50,
    "ArticlePage.tags": 10,
    "ArticlePage.authors": 5,
    "Comment.replies": 20,
    "Page.ancestors": 6,
    "Page.children": 15,
    "Query.sections": 15,
    "Site.socialLinks": 10,
}
DEFAULT_LIST_SIZE = 20
MAX_FIRST = 100
MAX_VISITS = 20_000  # selections a cost walk may visit (an article page visits about 150)
INTROSPECTION_COST = 2_000  # one full schema description (~150 types), whatever shape it is asked in
_META = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}
CEILING = 10**12  # costs saturate here: far past any limit, well inside 64 bits


def _unwrap(graphql_type):
    is_list = False
    while isinstance(graphql_type, (GraphQLNonNull, GraphQLList)):
        is_list = is_list or isinstance(graphql_type, GraphQLList)
        graphql_type = graphql_type.of_type
    return graphql_type, is_list


class _Walk:
    """Depth, aliases, directives and nodes of one operation, fragments followed once per path."""

    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], variables: dict,
                 defaults: dict | None = None) -> None:
        self.schema, self.fragments, self.variables = schema, fragments, variables
        self.defaults = defaults or {}
        self.aliases = 0
        self.max_directives = 0
        self.depth = 0
        self.visits = 0  # selections walked: fragments spread many times must not make this exponential

    def _first(self, field_def, node: FieldNode) -> int | None:
        if "first" not in field_def.args:
            return None
        for argument in node.arguments or ():
            if argument.name.value == "first":
                value = argument.value
                if isinstance(value, IntValueNode):
                    return max(0, int(value.value))
                if isinstance(value, VariableNode):
                    name = value.name.value
                    given = self.variables.get(name, self.defaults.get(name))
                    if isinstance(given, float) and given.is_integer():  # graphql-core takes 100.0 as an Int
                        given = int(given)
                    if isinstance(given, int) and not isinstance(given, bool):
                        return max(0, given)
                    if given is not None:
                        return MAX_FIRST  # not a number: execution refuses it; price it as the largest page
                break
        default = field_def.args["first"].default_value
        return default if isinstance(default, int) else 10

    def nodes(self, parent, selection_set, depth: int, seen: frozenset[str], page: int | None = None) -> int:
        if selection_set is None:
            return 0
        self.depth = max(self.depth, depth)
        total = 0
        for selection in selection_set.selections:
            self.visits += 1
            if self.visits > MAX_VISITS:
                return CEILING  # refused as too complex; walking on could take minutes
            self.max_directives = max(self.max_directives, len(selection.directives or ()))
            if isinstance(selection, FieldNode):
                if selection.alias is not None:
                    self.aliases += 1
                name = selection.name.value
                if name == "__typename":
                    continue
                if name in _META:
                    # Introspection: walked for aliases and directives, priced flat, kept out of depth
                    # (the standard introspection query nests ofType eight deep).
                    saved = self.depth
                    self.nodes(_META[name].type.of_type if isinstance(_META[name].type, GraphQLNonNull) else _META[name].type,
                               selection.selection_set, depth + 1, seen, None)
                    self.depth = saved
                    total = min(CEILING, total + INTROSPECTION_COST)
                    continue
                fields = getattr(parent, "fields", {})
                field_def = fields.get(name)
                if field_def is None:
                    continue
                target, is_list = _unwrap(field_def.type)
                if not isinstance(target, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)):
                    continue
                first = self._first(field_def, selection)
                if first is not None and not is_list:
                    many = 1  # a connection: its edges and nodes hold `first` items
                elif first is not None:
                    many = first
                elif is_list and page is not None and name in ("edges", "nodes"):
                    many = page
                elif is_list and name == "errors":
                    many = 5
                elif is_list:
                    many = LIST_SIZES.get(f"{parent.name}.{name}") or self._interface_size(parent, name)
                else:
                    many = 1
                inner = first if first is not None and not is_list else None
                total += many + many * self.nodes(target, selection.selection_set, depth + 1, seen, inner)
                total = min(total, CEILING)  # nested huge pages: a number JSON can still carry
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total = min(CEILING, total + self.nodes(target or parent, selection.selection_set, depth, seen, page))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue
                target = self.schema.get_type(fragment.type_condition.name.value) or parent
                total = min(CEILING, total + self.nodes(target, fragment.selection_set, depth, seen | {name}, page))
        return total

    def _interface_size(self, parent, name: str) -> int:
        for interface in getattr(parent, "interfaces", ()):
            size = LIST_SIZES.get(f"{interface.name}.{name}")
            if size:
                return size
        return DEFAULT_LIST_SIZE


@dataclass
class Cost:
    nodes: int
    depth: int
    aliases: int
    directives: int

    @property
    def points(self) -> int:
        return 1 + self.nodes // 100


def measure(schema: GraphQLSchema, document, operation_name: str | None, variables: dict | None) -> Cost | None:
    """The cost of the operation a request runs, or None when there is no such single operation."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == operation_name]
    if len(operations) != 1:
        return None
    operation = operations[0]
    root = {"query": schema.query_type, "mutation": schema.mutation_type, "subscription": schema.subscription_type}[
        operation.operation.value
    ]
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    defaults = {}
    for definition in operation.variable_definitions or ():
        value = definition.default_value
        if isinstance(value, IntValueNode):
            defaults[definition.variable.name.value] = int(value.value)
    walk = _Walk(schema, fragments, variables or {}, defaults)
    nodes = walk.nodes(root, operation.selection_set, 1, frozenset())
    # Aliases and directives inside fragments count once per document, wherever they are spread.
    return Cost(nodes=nodes, depth=walk.depth, aliases=walk.aliases, directives=walk.max_directives)
