"""Registries by name, and the modules mounted on the active instance.

A module's models may be imported in a process whose instance does not mount the
module (bionty installed, an instance without it): label managers, ``describe()``
and queries only use the registries of mounted modules, and using an unmounted
registry raises :class:`~lamin_sa.errors.ModuleNotMounted` naming the command that
mounts it.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import text

from lamin_sa.db.base import Base
from lamin_sa.errors import ModuleNotMounted, ValidationError
from lamin_sa.models.record import Record

logger = logging.getLogger(__name__)

_MOUNTED_KEY = "lamin_mounted_modules"


def registries() -> dict[str, type]:
    """Loaded registries by ``registry_name()`` (``ULabel``, ``bionty.Gene``, ...).

    Example:
        >>> registries()["ULabel"]
        <class 'lamin_sa.models.ulabel.ULabel'>
    """
    out: dict[str, type] = {}
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        if issubclass(cls, Record) and hasattr(cls, "__table__"):
            out[cls.registry_name()] = cls
    return out


def registry_by_name(name: str) -> type:
    """The registry class named ``name`` (``"Feature"``, ``"bionty.CellType"``).

    The models of a registered module are imported on first use.

    Raises:
        ValidationError: no such registry is known.
    """
    found = registries().get(name)
    if found is None and "." in name:
        from lamin_sa.modules import load_models, registered_modules

        module = name.split(".", 1)[0]
        if module in registered_modules():
            load_models([module], skip_missing=True)
            found = registries().get(name)
    if found is None:
        raise ValidationError(
            f"Unknown registry {name!r}; is its module mounted and installed?"
        )
    return found


def _read_mounted(ctx: Any) -> frozenset[str]:
    from lamin_sa.db.session import read

    def fetch(session: Any) -> frozenset[str]:
        rows = session.execute(text("SELECT name FROM core_module")).scalars()
        return frozenset(["core", *rows])

    try:
        names = read(fetch, ctx)
    except Exception:  # a host database without lamin-sa's module table
        logger.debug("no core_module table; assuming core only", exc_info=True)
        names = frozenset(["core"])
    ctx.extra[_MOUNTED_KEY] = names
    return names


def mounted_modules(refresh: bool = False) -> frozenset[str]:
    """Names of the modules mounted on the active context's database.

    Cached per context (``connect()`` makes a new one); pass ``refresh`` to read
    the database again.
    """
    from lamin_sa.db.session import current

    ctx = current()
    cached = None if refresh else ctx.extra.get(_MOUNTED_KEY)
    return cached if cached is not None else _read_mounted(ctx)


def is_mounted(module: str) -> bool:
    """Whether ``module`` is mounted on the active context's database."""
    return module == "core" or module in mounted_modules()


def require_mounted(model: type) -> None:
    """Raise unless the module of ``model`` is mounted on the active instance.

    Raises:
        ModuleNotMounted: names ``lamin-sa migrate upgrade --module NAME``.
    """
    module = model.module_name()  # type: ignore[attr-defined]
    if is_mounted(module) or module in mounted_modules(refresh=True):
        return
    raise ModuleNotMounted(
        f"{model.__name__} belongs to module {module!r}, which this instance does "
        f"not mount: run `lamin-sa migrate upgrade --module {module}`."
    )


def mounted_registries(models: list[type]) -> list[type]:
    """The models among ``models`` whose module is mounted (core always is)."""
    names = mounted_modules()
    return [m for m in models if m.module_name() in names]  # type: ignore[attr-defined]


__all__ = [
    "is_mounted",
    "mounted_modules",
    "mounted_registries",
    "registries",
    "registry_by_name",
    "require_mounted",
]
