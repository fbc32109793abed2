"""A graphql-core executor that skips its machinery where a field needs none of it.

An article page resolves ~270 fields and ~190 of them are leaves read straight off
an object: a title, a url, a date. graphql-core gives each one a resolve-info
object, an error boundary, two awaitable checks and a completion pass. Here such
a field is read and coerced directly; anything unusual (null where the type
forbids it, a value the scalar refuses, an exception) falls back to the full
path, which reports the error exactly as before. The leaves are worked out once,
when the schema is built.

The other fields of a query whose operation has a plan (schema/runtime/plans.py:
no directives) run graphql-core's own algorithm in a leaner form: the fields
collected once for the operation, each field's definition and argument check
known in advance, values completed by their type's class rather than by a chain
of type tests, lists without the @stream lookups, and awaited without the abort
signal's extra coroutine (strawberry passes none). Errors still go through
graphql-core's `handle_field_error`, at the same places, so answers and errors
are the stock executor's; anything else (an abstract type, an iterable that is not
a list, a pending `is_type_of`) is handed to graphql-core's own method.

Relies on: graphql-core's `Executor` methods `execute_field(parent_type, source,
field_details_list, path, position_context)`, `execute_fields`,
`execute_root_grouped_field_set`, `complete_value`, `complete_awaitable_value`,
`complete_list_value`, `complete_awaitable_list_item_value`,
`complete_object_value`, `handle_field_error`, `settle_in_background` and
`build_resolve_info` (all marked private in graphql-core 3.3), its
`invalid_return_type_error`, `gather_with_cancel` and `get_argument_values`, and
its `is_awaitable`, `abort_signal` and `middleware_manager._middleware_resolvers`
attributes; strawberry's `StrawberryGraphQLCoreExecutionContext`, the
"strawberry-definition" key of a GraphQL field's extensions,
`StrawberryField.base_resolver` (with `info_parameter` and `wrapped_func`) and
the `_is_default` mark on its getattr resolver;
`strawberry.execution.is_awaitable.optimized_is_awaitable`; tortoise models
defining `__await__`. If a method changes shape, fields fail or answers differ
(tests/test_executor.py compares with the stock executor, errors included); if
the default resolver loses its mark, plain fields quietly take the full path
again (slower, same answers). tests/test_runtime_assumptions.py names each one.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    Undefined,
)
from graphql.execution import Executor as GraphQLCoreExecutor
from graphql.execution.executor import invalid_return_type_error
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, gather_with_cancel
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from tortoise.models import Model

from schema.runtime import plans
from schema.runtime.leaves import PLAN, READERS, Leaf, plan  # noqa: F401 - plan: executor.plan(schema)
from schema.runtime.plans import LEAF, TYPENAME


_PLAIN = frozenset({type(None), bool, int, float, str, list, tuple, dict})


def is_awaitable(value: Any) -> bool:
    """Tortoise models define `__await__` (awaiting one returns itself), so graphql-core
    took every page and comment a resolver returned for a pending value: a coroutine
    and a task each, 30 of them on an article page. They are plain values here."""
    if value.__class__ in _PLAIN or isinstance(value, Model):
        return False
    return optimized_is_awaitable(value)


class Executor(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.is_awaitable = is_awaitable
        manager = self.middleware_manager
        wrapped = manager is not None and getattr(manager, "_middleware_resolvers", None) is not None
        # Middleware must see every field; a schema never planned gets the full path.
        extensions = self.schema.extensions or {}
        self._leaves = {} if wrapped else extensions.get(PLAN, {})
        self._plan = plans.for_executor(self, self._leaves, extensions.get(READERS, {})) if self._leaves else None
        surrogate = getattr(getattr(self.context_value, "loaders", None), "surrogate", None)
        if surrogate is not None:  # only a query's answer may be cached (schema/caching.py)
            surrogate.operation = self.operation.operation

    def build_response(self, *args: Any, **kwargs: Any) -> Any:
        response = super().build_response(*args, **kwargs)
        # graphql-core keeps two of its own bound methods (async_helpers): a reference cycle
        # through the context, the loaders and every row the request read, which only a
        # full collection could free. The answer is built: let reference counting free it all.
        self.async_helpers = None
        return response

    # -- without a plan: graphql-core's path, leaves read directly ---------------------

    def execute_field(self, parent_type, source, field_details_list, path, position_context):
        name = field_details_list[0].node.name.value
        if name == "__typename":
            return parent_type.name
        leaf = self._leaves.get((parent_type.name, name))
        if leaf is not None:
            try:
                value = leaf.read(source)
                if value is None:
                    if not leaf.non_null:
                        return None
                else:
                    coerced = leaf.coerce(value)
                    if coerced is not None and coerced is not Undefined:
                        return coerced
            except Exception:  # noqa: BLE001 - the full path below reports it properly
                pass
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

    # -- with a plan ----------------------------------------------------------------------

    def execute_root_grouped_field_set(self, root_type, root_value, grouped_field_set, serially, position_context):
        plan = self._plan
        if plan is None or serially:
            return super().execute_root_grouped_field_set(root_type, root_value, grouped_field_set, serially,
                                                          position_context)
        # The same fields graphql-core just collected, as the plan holds them.
        return self._execute_steps(root_type, root_value, None, plan.root_steps)

    def execute_fields(self, parent_type, source_value, path, grouped_field_set, position_context):
        plan = self._plan
        if plan is None:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        return self._execute_steps(parent_type, source_value, path, plan.steps(parent_type, grouped_field_set))

    def _execute_steps(self, parent_type, source, path, steps):
        """graphql-core's execute_fields over a plan's steps: leaves and __typename inline."""
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        type_name = parent_type.name
        try:
            for step in steps:
                kind = step.kind
                if kind is LEAF:
                    leaf = step.leaf
                    try:
                        value = leaf.read(source)
                        if value.__class__ is leaf.same:
                            results[step.name] = value
                            continue
                        if value is None:
                            if not leaf.non_null:
                                results[step.name] = None
                                continue
                        else:
                            coerced = leaf.coerce(value)
                            if coerced is not None and coerced is not Undefined:
                                results[step.name] = coerced
                                continue
                    except Exception:  # noqa: BLE001 - the full path below reports it properly
                        pass
                elif kind is TYPENAME:
                    results[step.name] = type_name
                    continue
                result = self._execute_step(step, parent_type, source, Path(path, step.name, type_name))
                if result is not Undefined:
                    results[step.name] = result
                    if result.__class__ not in _PLAIN and is_awaitable(result):
                        awaitable_fields.append(step.name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited = await gather_with_cancel(*(results[field] for field in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def _execute_step(self, step, parent_type, source, path):
        """graphql-core's execute_field with the field's definition, argument check and shape known in advance."""
        field_def = step.field_def
        if field_def is None:
            return GraphQLCoreExecutor.execute_field(self, parent_type, source, step.field_details, path, None)
        return_type = step.return_type
        field_details = step.field_details
        info = self.build_resolve_info(field_def, step.nodes, parent_type, path)
        try:
            if step.read is not None:  # what the resolver would return, read off the source
                result = step.read(source)
            else:
                args = (get_argument_values(field_def, step.node, self.variable_values, None, self.hide_suggestions)
                        if step.has_args else {})
                result = (step.resolve or self.field_resolver)(source, info, **args)
            if result.__class__ not in _PLAIN and self.is_awaitable(result):
                return self.complete_awaitable_value(return_type, field_details, info, path, result, None)
            # complete_value's own dispatch, for the shapes most fields have
            if step.object_type is not None and result is not None and not isinstance(result, Exception):
                completed = self.complete_object_value(step.object_type, field_details, info, path, result, None)
            elif step.item_type is not None and (result.__class__ is list or result.__class__ is tuple):
                completed = self._complete_list(step.item_type, field_details, info, path, result)
            else:
                completed = self.complete_value(return_type, field_details, info, path, result, None)
            if completed.__class__ not in _PLAIN and self.is_awaitable(completed):
                return self._await_completed(completed, return_type, field_details, path)
        except Exception as raw_error:  # noqa: BLE001 - as graphql-core: the error goes in the answer
            self.handle_field_error(raw_error, return_type, field_details, path)
            return None
        return completed

    async def _await_completed(self, completed, return_type, field_details, path):
        try:
            return await completed
        except Exception as raw_error:  # noqa: BLE001
            self.handle_field_error(raw_error, return_type, field_details, path)
            return None

    def complete_value(self, return_type, field_details_list, info, path, result, position_context):
        if self._plan is None:
            return super().complete_value(return_type, field_details_list, info, path, result, position_context)
        if isinstance(result, Exception):
            raise result
        non_null = return_type.__class__ is GraphQLNonNull
        if non_null:
            return_type = return_type.of_type
        if result is None or result is Undefined:
            completed = None
        elif return_type.__class__ is GraphQLList:
            if result.__class__ is list or result.__class__ is tuple:
                completed = self._complete_list(return_type.of_type, field_details_list, info, path, result)
            else:
                completed = self.complete_list_value(return_type, field_details_list, info, path, result,
                                                     position_context)
        elif isinstance(return_type, GraphQLObjectType):
            completed = self.complete_object_value(return_type, field_details_list, info, path, result,
                                                   position_context)
        elif isinstance(return_type, (GraphQLScalarType, GraphQLEnumType)):
            completed = self.complete_leaf_value(return_type, result)
        else:
            completed = super().complete_value(return_type, field_details_list, info, path, result, position_context)
        if non_null and completed is None:
            raise TypeError(f"Cannot return null for non-nullable field {info.parent_type}.{info.field_name}.")
        return completed

    def _complete_list(self, item_type, field_details_list, info, path, items):
        """graphql-core's complete_iterable_value for a list, with no @stream to look for."""
        is_awaitable = self.is_awaitable
        object_type = item_type.of_type if item_type.__class__ is GraphQLNonNull else item_type
        if not isinstance(object_type, GraphQLObjectType):
            object_type = None
        completed_results: list[Any] = []
        append = completed_results.append
        awaitable_indices: list[int] = []
        iterator = iter(items)
        index = 0
        try:
            for item in iterator:
                item_path = Path(path, index, None)
                if is_awaitable(item):
                    append(self.complete_awaitable_list_item_value(item, item_type, field_details_list, info,
                                                                   item_path, None))
                    awaitable_indices.append(index)
                else:
                    try:
                        if object_type is not None and item is not None and not isinstance(item, Exception):
                            completed = self.complete_object_value(object_type, field_details_list, info, item_path,
                                                                   item, None)
                        else:
                            completed = self.complete_value(item_type, field_details_list, info, item_path, item,
                                                            None)
                        if completed.__class__ not in _PLAIN and is_awaitable(completed):
                            append(self._await_completed(completed, item_type, field_details_list, item_path))
                            awaitable_indices.append(index)
                        else:
                            append(completed)
                    except Exception as raw_error:  # noqa: BLE001 - as graphql-core: the error goes in the answer
                        self.handle_field_error(raw_error, item_type, field_details_list, item_path)
                        append(None)
                index += 1
        except Exception:
            pending = [completed_results[i] for i in awaitable_indices]
            pending.extend(item for item in iterator if is_awaitable(item))
            if pending:
                self.settle_in_background(pending)
            raise
        if not awaitable_indices:
            return completed_results

        async def get_completed_results() -> list[Any]:
            if len(awaitable_indices) == 1:
                i = awaitable_indices[0]
                completed_results[i] = await completed_results[i]
            else:
                awaited = await gather_with_cancel(*(completed_results[i] for i in awaitable_indices))
                for i, value in zip(awaitable_indices, awaited, strict=True):
                    completed_results[i] = value
            return completed_results

        return get_completed_results()

    def complete_object_value(self, return_type, field_details_list, info, path, result, position_context):
        plan = self._plan
        if plan is None:
            return super().complete_object_value(return_type, field_details_list, info, path, result,
                                                 position_context)
        if return_type.is_type_of is not None:
            matches = return_type.is_type_of(result, info)
            if self.is_awaitable(matches):
                return self._complete_object_later(matches, return_type, field_details_list, path, result)
            if not matches:
                raise invalid_return_type_error(return_type, result, field_details_list)
        return self._execute_steps(return_type, result, path, plan.object_steps(self, return_type, field_details_list))

    async def _complete_object_later(self, matches, return_type, field_details_list, path, result):
        if not await self.with_abort_signal(matches):
            raise invalid_return_type_error(return_type, result, field_details_list)
        completed = self._execute_steps(return_type, result, path,
                                        self._plan.object_steps(self, return_type, field_details_list))
        return await completed if self.is_awaitable(completed) else completed

    # -- awaiting, without the abort signal's extra coroutine when there is no signal -----

    async def complete_awaitable_value(self, return_type, field_details_list, info, path, result, position_context):
        if self.abort_signal is not None:
            return await super().complete_awaitable_value(return_type, field_details_list, info, path, result,
                                                          position_context)
        try:
            completed = self.complete_value(return_type, field_details_list, info, path, await result,
                                            position_context)
            if self.is_awaitable(completed):
                completed = await completed
        except Exception as raw_error:  # noqa: BLE001 - as graphql-core: the error goes in the answer
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            completed = None
        return completed

    async def complete_awaitable_list_item_value(self, item, item_type, field_details_list, info, item_path,
                                                 position_context):
        if self.abort_signal is not None:
            return await super().complete_awaitable_list_item_value(item, item_type, field_details_list, info,
                                                                    item_path, position_context)
        try:
            completed = self.complete_value(item_type, field_details_list, info, item_path, await item,
                                            position_context)
            if self.is_awaitable(completed):
                completed = await completed
        except Exception as raw_error:  # noqa: BLE001 - as graphql-core: the error goes in the answer
            self.handle_field_error(raw_error, item_type, field_details_list, item_path)
            return None
        return completed
