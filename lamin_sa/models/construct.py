"""The constructor-plan protocol of registries that may return a stored record.

``Artifact(path)``, ``Collection(artifacts)`` and ``FeatureSet(features)`` find
out in ``__new__`` whether the data is stored already. ``__new__`` returns either
a new, empty instance carrying the prepared fields (the plan ``("new", fields)``)
or the stored record (the plan ``("existing", kwargs)``); ``__init__`` then takes
the plan and applies it. A plain construction by fields (or a database load)
carries no plan. The plan travels in the instance ``__dict__`` under
:data:`INIT_PLAN`, so SQLAlchemy never sees it.

Example:
    >>> def __new__(cls, *args, **kwargs):
    ...     stored = find_stored(kwargs)
    ...     return planned_instance(cls, stored or {"name": kwargs["name"]}, kwargs)
    >>> def __init__(self, *args, **kwargs):
    ...     plan = take_plan(self)
    ...     if plan is None:
    ...         return super().__init__(**kwargs)
    ...     mode, payload = plan
    ...     if mode == "new":
    ...         super().__init__(**payload)
"""

from __future__ import annotations

from typing import Any, Literal

INIT_PLAN = "_lamin_init"

Plan = tuple[Literal["new", "existing"], Any]


def planned_instance(cls: type, prepared: Any, kwargs: dict[str, Any]) -> Any:
    """A new instance carrying ``prepared`` fields (a dict), or the stored record.

    Args:
        cls: The registry class.
        prepared: The fields of a new record (a dict) or the stored record.
        kwargs: The constructor's keyword arguments (kept for a stored record).
    """
    if isinstance(prepared, dict):
        obj: Any = object.__new__(cls)
        obj.__dict__[INIT_PLAN] = ("new", prepared)
        return obj
    prepared.__dict__[INIT_PLAN] = ("existing", kwargs)
    return prepared


def take_plan(record: Any) -> Plan | None:
    """The plan :func:`planned_instance` left on ``record`` (removed from it)."""
    return record.__dict__.pop(INIT_PLAN, None)  # type: ignore[no-any-return]


__all__ = ["INIT_PLAN", "Plan", "planned_instance", "take_plan"]
