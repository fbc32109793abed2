"""Tortoise model instances from raw rows, without tortoise's generic path.

Public reads (service/content.py) run hand-written SQL and turn each row into a
model instance. Tortoise's own `_init_from_db` walks three lists of field
descriptors and converts values field by field; `build_instance` takes a row the
reader has already converted, copies it into the instance's `__dict__` in one
update and sets the four attributes tortoise keeps on every instance it loaded.
Extra columns (a page's `content_version`, a joined parent's `s__` columns) ride
along as plain attributes. Tortoise's public `Model.construct` does the same job
but looks every key up among relation fields and fills defaults: several times
slower on a 40-column page row.

Relies on: a tortoise Model keeping its field values as plain instance
attributes, and its instance state in `_partial`, `_saved_in_db`,
`_custom_generated_pk` and `_await_when_save` (set by `Model._init_from_db` in
tortoise 1.1); `Model._meta.fields_db_projection` (field name -> column) for
`column_names`; `Model._init_from_db(**row)` for `load_row`. If tortoise adds
instance state, instances built here lack it: reading them may still work while
saving, refreshing or comparing them fails or misbehaves.
tests/test_runtime_assumptions.py compares an instance built here with one
tortoise loads, attribute by attribute, and names the assumption that broke.
"""

from __future__ import annotations

from typing import Any, TypeVar

from tortoise.models import Model

M = TypeVar("M", bound=Model)

# The instance state tortoise's _init_from_db sets on a model loaded from the database.
LOADED_STATE = {"_partial": False, "_saved_in_db": True, "_custom_generated_pk": False}


def build_instance(model: type[M], values: dict[str, Any]) -> M:
    """A model instance holding `values` (already Python values), marked as loaded from the database."""
    obj = object.__new__(model)
    obj.__dict__.update(values)
    obj.__dict__.update(LOADED_STATE, _await_when_save={})
    return obj


def load_row(model: type[M], row: dict[str, Any]) -> M:
    """A model instance from a row keyed by column, converted by tortoise's own field types."""
    return model._init_from_db(**row)


def column_names(model: type[Model]) -> list[str]:
    """The database columns of a model's fields."""
    return list(model._meta.fields_db_projection.values())
