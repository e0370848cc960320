"""Every public function and method of the API has a docstring with an example."""

from __future__ import annotations

import inspect

import lamin_sa as ln


def _public_api() -> dict[str, object]:
    import lamin_sa.bionty as bt
    import lamin_sa.wetlab as wl
    from lamin_sa.models.record import Record, RelatedRecords
    from lamin_sa.query.queryset import QuerySet

    found: dict[str, object] = {}
    classes: list[type] = [QuerySet, RelatedRecords]
    for prefix, module in (("ln", ln), ("bt", bt), ("wl", wl)):
        for name in getattr(module, "__all__", dir(module)):
            obj = getattr(module, name, None)
            if inspect.isfunction(obj):
                found[f"{prefix}.{name}"] = obj
            elif isinstance(obj, type) and obj.__module__.startswith("lamin_sa"):
                classes.append(obj)
    for cls in classes:
        for klass in cls.__mro__:
            if not klass.__module__.startswith("lamin_sa") or klass is Record.__base__:
                continue
            for name, attr in vars(klass).items():
                if name.startswith("_"):
                    continue
                func = (
                    attr.__func__
                    if isinstance(attr, classmethod | staticmethod)
                    else attr
                )
                if inspect.isfunction(func):
                    found.setdefault(f"{klass.__qualname__}.{name}", func)
    return found


def test_public_functions_and_methods_have_an_example() -> None:
    api = _public_api()
    assert len(api) > 100
    missing = sorted(
        name
        for name, func in api.items()
        if ">>>" not in (inspect.getdoc(func) or "")
        and "Example" not in (inspect.getdoc(func) or "")
    )
    assert not missing, f"{len(missing)} without an example: {missing}"


def test_filter_lists_every_lookup() -> None:
    from lamin_sa.query.lookups import LOOKUPS
    from lamin_sa.query.queryset import QuerySet

    doc = inspect.getdoc(QuerySet.filter) or ""
    assert all(f"``{name}``" in doc for name in LOOKUPS), sorted(LOOKUPS)
