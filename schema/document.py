"""What a parsed document holds, looked at before graphql-core validates it.

`count`: how much work validation would do.

OverlappingFieldsCanBeMergedRule compares every two fields that land under the
same response name at the same place of the response, fragments and inline
fragments expanded, and every two fragments spread in one selection set. Both
grow with the square of what a document repeats: `{ site { name } }` written
400 times is 1.5 KB of text and a second of validation. This walk counts those
pairs (and the field selections, fragments expanded) with a bounded, iterative
walk, so the guard can refuse such documents before validation starts.

`holds_nul`: whether a string literal anywhere in it holds a NUL character
(written raw, or escaped as \\u0000 or \\u{0}); no text column takes one.

`operation_label`: the name a trusted document is registered under (service.operations).
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSyntaxError,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    StringValueNode,
    parse,
)


@dataclass(frozen=True)
class Fields:
    selections: int  # field selections, every fragment spread expanded where it is spread
    pairs: int  # pairs of same-named fields (and of fragments) the overlap check compares
    complete: bool  # False when the walk stopped at its limit: `selections` is then a lower bound


def count(document, limit: int) -> Fields:
    """Field selections and overlap pairs of every definition in a document, walking at most `limit` selections."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    groups: dict[tuple[int, str], int] = {}  # (merged place, response name) -> fields seen there
    places: dict[tuple[int, str], int] = {}  # (merged place, response name) -> the place below it
    selections = pairs = 0
    for root, definition in enumerate(document.definitions):  # roots count up, places below them down
        selection_set = getattr(definition, "selection_set", None)
        if selection_set is None:
            continue
        stack = [(selection_set, root, frozenset())]
        while stack:
            selection_set, place, seen = stack.pop()
            spreads = 0
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    selections += 1
                    if selections > limit:
                        return Fields(selections, pairs, complete=False)
                    key = (place, (selection.alias or selection.name).value)
                    seen_here = groups.get(key, 0)
                    pairs += seen_here  # this field against each earlier one of its name here
                    groups[key] = seen_here + 1
                    if selection.selection_set is not None:
                        below = places.get(key)
                        if below is None:
                            below = places[key] = -len(places) - 1
                        stack.append((selection.selection_set, below, seen))
                elif isinstance(selection, InlineFragmentNode):
                    stack.append((selection.selection_set, place, seen))
                elif isinstance(selection, FragmentSpreadNode):
                    spreads += 1
                    name = selection.name.value
                    fragment = fragments.get(name)
                    if fragment is not None and name not in seen:
                        stack.append((fragment.selection_set, place, seen | {name}))
            pairs += spreads * (spreads - 1) // 2  # fragments spread side by side are compared pairwise
    return Fields(selections, pairs, complete=True)


def may_hold_nul(text: str) -> bool:
    """Whether a document's text could hold a NUL in a string (raw, or as a \\u escape): the cheap test first."""
    return "\x00" in text or "\\u" in text


def holds_nul(document) -> bool:
    """Whether any string value of the document (arguments, defaults, directives; block strings too) holds a NUL."""
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, StringValueNode):
            if "\x00" in node.value:
                return True
            continue
        for key in node.keys:
            if key == "loc":
                continue
            value = getattr(node, key, None)
            if isinstance(value, Node):
                stack.append(value)
            elif isinstance(value, (list, tuple)):
                stack.extend(item for item in value if isinstance(item, Node))
    return False


def operation_label(text: str) -> str:
    """The name of a document's first operation ("" when it has none); ValueError when it does not parse."""
    try:
        operations = [d for d in parse(text).definitions if isinstance(d, OperationDefinitionNode)]
    except GraphQLSyntaxError as error:
        raise ValueError(error.message) from None
    return operations[0].name.value if operations and operations[0].name else ""
