"""Execution plans: what graphql-core works out again for every request, worked out once per operation.

For each query operation, once: its root fields, and for each object type and
selection, the collected sub-fields (graphql-core collects them per request,
memoised only within it), each as a list of steps, one per response key:
`__typename`, a leaf read straight off its source (executor.Leaf), or a field to
resolve, with its definition, field nodes and whether it takes arguments.

Collecting fields depends on variables only through directives (@skip,
@include, @defer, @stream) and fragment arguments, so only operations without
any of them get a plan; the others take graphql-core's own path. A plan keeps
its operation and fragments alive: the field lists it is keyed by cannot be
freed and their ids reused while it exists.

Relies on: graphql-core's `collect_fields` and `collect_subfields` functions
(graphql.execution.collect_fields) and their CollectedFields results, and the
executor's `schema`, `fragments`, `operation`, `variable_values` and
`hide_suggestions` attributes (graphql-core 3.3). tests/test_executor.py
compares every documented operation with the stock executor.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
)
from graphql.execution.collect_fields import collect_fields, collect_subfields

TYPENAME, LEAF, FIELD = 0, 1, 2
PLANS_KEPT = 256  # operations; a plan holds its document's syntax tree and collected fields
ENTRIES_KEPT = 4096  # selections of one plan (a document of at most 1,000 fields has fewer)


class Step:
    """One response key of a selection on one object type."""

    __slots__ = ("name", "kind", "field_details", "nodes", "node", "field_def", "return_type", "leaf", "resolve",
                 "has_args", "read", "object_type", "item_type")

    def __init__(self, name: str, field_details: list, field_def: Any, leaf: Any, read: Any) -> None:
        self.name = name
        self.field_details = field_details
        self.nodes = [details.node for details in field_details]
        self.node = self.nodes[0]
        self.field_def = field_def
        self.leaf = leaf
        self.read = read  # source -> what the resolver returns, for fields that need nothing else
        if self.node.name.value == "__typename":
            self.kind = TYPENAME
        else:
            self.kind = LEAF if leaf is not None else FIELD
        self.return_type = field_def.type if field_def is not None else None
        self.resolve = field_def.resolve if field_def is not None else None
        self.has_args = field_def is not None and bool(field_def.args or self.node.arguments)
        # The two shapes most fields have: an object, or a list (of anything).
        inner = self.return_type.of_type if isinstance(self.return_type, GraphQLNonNull) else self.return_type
        self.object_type = inner if isinstance(inner, GraphQLObjectType) else None
        self.item_type = inner.of_type if isinstance(inner, GraphQLList) else None


class Plan:
    """The collected fields and steps of one operation against one schema.

    Field lists are keyed by identity, each entry keeping its key alive (so no
    other list can take its id while the entry exists).
    """

    __slots__ = ("schema", "operation", "fragments", "leaves", "readers", "root", "root_steps", "_objects", "_steps")

    def __init__(self, executor: Any, leaves: dict, readers: dict) -> None:
        self.schema, self.operation, self.fragments, self.leaves, self.readers = (
            executor.schema, executor.operation, executor.fragments, leaves, readers)
        self._objects: dict[tuple[GraphQLObjectType, int], tuple[list, list[Step]]] = {}
        self._steps: dict[int, tuple[Any, list[Step]]] = {}
        root_type = executor.schema.get_root_type(executor.operation.operation)
        self.root = collect_fields(executor.schema, executor.fragments, executor.variable_values, root_type,
                                   executor.operation, executor.hide_suggestions).grouped_field_set
        self.root_steps = self.steps(root_type, self.root)

    def object_steps(self, executor: Any, return_type: GraphQLObjectType, field_details: list) -> list[Step]:
        """The steps of the selections under `field_details` on an object of `return_type`."""
        entry = self._objects.get((return_type, id(field_details)))
        if entry is not None and entry[0] is field_details:
            return entry[1]
        grouped_field_set = collect_subfields(self.schema, self.fragments, executor.variable_values, self.operation,
                                              return_type, field_details, executor.hide_suggestions).grouped_field_set
        steps = self.steps(return_type, grouped_field_set)
        if len(self._objects) < ENTRIES_KEPT:
            self._objects[(return_type, id(field_details))] = (field_details, steps)
        return steps

    def steps(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[Step]:
        """The steps of a grouped field set on `parent_type`."""
        entry = self._steps.get(id(grouped_field_set))
        if entry is not None and entry[0] is grouped_field_set:
            return entry[1]
        steps = []
        for name, field_details in grouped_field_set.items():
            field_name = field_details[0].node.name.value
            field_def = self.schema.get_field(parent_type, field_name)
            key = (parent_type.name, field_name)
            steps.append(Step(name, field_details, field_def, self.leaves.get(key), self.readers.get(key)))
        if len(self._steps) < ENTRIES_KEPT:
            self._steps[id(grouped_field_set)] = (grouped_field_set, steps)
        return steps


_plans: OrderedDict[int, Plan] = OrderedDict()


def for_executor(executor: Any, leaves: dict, readers: dict) -> Plan | None:
    """The plan of the executor's operation (made on first use), or None when it cannot have one."""
    operation = executor.operation
    plan = _plans.get(id(operation))
    if plan is not None and plan.operation is operation and plan.schema is executor.schema:
        _plans.move_to_end(id(operation))
        return plan
    if operation.operation != OperationType.QUERY or not _plain(operation, executor.fragment_definitions):
        return None
    plan = Plan(executor, leaves, readers)
    _plans[id(operation)] = plan
    if len(_plans) > PLANS_KEPT:
        _plans.popitem(last=False)
    return plan


def _plain(operation: Any, fragment_definitions: dict) -> bool:
    """Whether the operation and the fragments it spreads carry no directive and no fragment variables."""
    if operation.directives:
        return False
    pending: list[SelectionSetNode] = [operation.selection_set]
    seen: set[str] = set()
    while pending:
        for selection in pending.pop().selections:
            if selection.directives:
                return False
            if isinstance(selection, FieldNode | InlineFragmentNode):
                if selection.selection_set is not None:
                    pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                if getattr(selection, "arguments", None):
                    return False
                name = selection.name.value
                if name in seen:
                    continue
                seen.add(name)
                fragment = fragment_definitions.get(name)
                if fragment is None or fragment.directives or fragment.variable_definitions:
                    return False
                pending.append(fragment.selection_set)
            else:
                return False
    return True
