"""The registry of schema modules: core, bionty, wetlab and third-party modules.

A module owns the tables whose names start with its ``table_prefix`` and the
migration branch labelled with its ``name``. Built-in modules are registered here;
third-party packages register theirs under the entry-point group
``lamin_sa.modules``, each entry point loading a :class:`Module` from a light
submodule that does not import the models (so that a plugin's tables do not
enter lamin-sa's metadata in every process, only where an instance mounts it)::

    [project.entry-points."lamin_sa.modules"]
    my_lab = "my_lab._module:module"

    # my_lab/_module.py (my_lab/__init__.py must not import the models either)
    from lamin_sa.modules import Module
    module = Module.for_package("my_lab", "my_lab", requires=("bionty",))

A third-party module ships its migration scripts itself (``my_lab/migrations/``
by default) and names their folder by an absolute ``versions_dir``. A plugin
whose entry point fails to load is logged and skipped.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from lamin_sa.errors import LaminSAError, ModuleNotMounted

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "lamin_sa.modules"


def _no_models() -> None:
    """Load nothing (a module without models)."""


@dataclass(frozen=True)
class Module:
    """A schema module: its tables, its migration branch and its models.

    Attributes:
        name: The module's name; also its migration branch label.
        table_prefix: Every table of the module starts with this prefix (the key of
            migration ownership), e.g. ``"bionty_"``.
        versions_dir: The folder of the module's migration scripts: a folder name
            under lamin-sa's ``alembic/versions/``, or an absolute path.
        requires: Modules that must be mounted before this one (core is implied).
        load_models: Imports the module's models so that their tables join
            ``lamin_sa.db.base.metadata``.
        models_head: The migration head the models are known to match (checked
            by the test suite); an empty database whose scripts end there is
            created from the models instead of by running every revision.
            ``None`` always runs the revisions.
    """

    name: str
    table_prefix: str
    versions_dir: str
    requires: tuple[str, ...] = ()
    load_models: Callable[[], None] = field(default=_no_models, compare=False)
    models_head: str | None = None

    @classmethod
    def for_package(
        cls,
        name: str,
        package: str,
        *,
        models: str = "models",
        versions: str = "migrations",
        requires: tuple[str, ...] = (),
        table_prefix: str | None = None,
    ) -> Module:
        """A module whose models and migrations live in an installed package.

        The package is located without being imported.

        Args:
            name: The module name (also its branch label), e.g. ``"my_lab"``.
            package: The import name of the package.
            models: The submodule defining the models, imported on demand.
            versions: The folder of migration scripts inside the package.
            requires: Modules that must be mounted first.
            table_prefix: Default ``"<name>_"``.

        Example:
            >>> module = Module.for_package("my_lab", "my_lab")
        """
        import importlib.util
        from pathlib import Path

        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise LaminSAError(f"Package {package!r} of module {name!r} not found.")
        folder = Path(next(iter(spec.submodule_search_locations))) / versions
        return cls(
            name,
            table_prefix or f"{name}_",
            str(folder),
            tuple(requires),
            ImportModels(f"{package}.{models}"),
        )

    def owns_table(self, table_name: str) -> bool:
        """Whether a table belongs to this module (by its name's prefix)."""
        return table_name.startswith(self.table_prefix)


class ImportModels:
    """``load_models`` that imports the package holding a module's models."""

    def __init__(self, package: str) -> None:
        self.package = package

    def __call__(self) -> None:
        importlib.import_module(self.package)

    def __repr__(self) -> str:
        return f"import {self.package}"


BUILTIN_MODULES: tuple[Module, ...] = (
    # models_head: update with each new revision (tests/test_migrations.py fails
    # until the models and that head agree)
    Module(
        "core",
        "core_",
        "core",
        (),
        ImportModels("lamin_sa.models"),
        models_head="b7d2e4f6a8c1",
    ),
    Module(
        "bionty",
        "bionty_",
        "bionty",
        (),
        ImportModels("lamin_sa.bionty"),
        models_head="acc899610ac3",
    ),
    Module(
        "wetlab",
        "wetlab_",
        "wetlab",
        ("bionty",),
        ImportModels("lamin_sa.wetlab"),
        models_head="0d8b8d41d867",
    ),
)

_BUILTIN_BY_NAME = {m.name: m for m in BUILTIN_MODULES}

_registry: dict[str, Module] | None = None


def _discover() -> dict[str, Module]:
    registry = {m.name: m for m in BUILTIN_MODULES}
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            module = ep.load()
        except Exception:  # a broken plugin must not break lamin-sa
            logger.warning(
                "could not load lamin-sa module %r from %s",
                ep.name,
                ep.value,
                exc_info=True,
            )
            continue
        if not isinstance(module, Module):
            logger.warning(
                "entry point %r (%s) is not a lamin_sa.modules.Module; skipped",
                ep.name,
                ep.value,
            )
            continue
        if module.name in registry or _builtin_owner(module.table_prefix):
            logger.warning(
                "module %r from %s clashes with a registered module (name or "
                "table prefix); skipped",
                module.name,
                ep.value,
            )
            continue
        registry[module.name] = module
    return registry


def registered_modules() -> dict[str, Module]:
    """Return every known module by name: the built-ins, then the entry points.

    Returns:
        A new dict; ``core`` comes first.
    """
    global _registry
    if _registry is None:
        _registry = _discover()
    return dict(_registry)


def register_module(module: Module, *, replace: bool = False) -> None:
    """Register a module programmatically (host apps, tests).

    Args:
        module: The module to add.
        replace: Replace a registered module of the same name instead of failing.

    Raises:
        LaminSAError: A module of that name is registered and ``replace`` is False.
    """
    global _registry
    registry = registered_modules()
    if module.name in registry and not replace:
        raise LaminSAError(f"A module named {module.name!r} is already registered.")
    registry[module.name] = module
    _registry = registry


def get_module(name: str) -> Module:
    """Return the registered module called ``name``.

    Raises:
        ModuleNotMounted: No module of that name is known; the message lists the
            known ones.
    """
    if _registry is None and name in _BUILTIN_BY_NAME:
        # a plugin cannot shadow a built-in module: no need to scan the entry
        # points of every installed package (a noticeable part of connecting)
        return _BUILTIN_BY_NAME[name]
    registry = registered_modules()
    try:
        return registry[name]
    except KeyError:
        raise ModuleNotMounted(
            f"Unknown lamin-sa module {name!r}; known modules: "
            f"{', '.join(registry)}. Third-party modules register under the "
            f"entry-point group {ENTRY_POINT_GROUP!r}."
        ) from None


def is_registered(name: str) -> bool:
    """Whether a module called ``name`` is known (built-in or registered)."""
    try:
        get_module(name)
    except ModuleNotMounted:
        return False
    return True


def resolve(names: Iterable[str]) -> list[Module]:
    """Return the modules to mount for ``names``, in mounting order.

    ``core`` comes first, then every module after the modules it requires.

    Raises:
        ModuleNotMounted: A name (or a requirement) is unknown.
        LaminSAError: Requirements form a cycle.
    """
    ordered: dict[str, Module] = {}
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in ordered:
            return
        if name in visiting:
            raise LaminSAError(f"Module requirements form a cycle at {name!r}.")
        visiting.add(name)
        module = get_module(name)
        for required in ("core", *module.requires):
            if required != name:
                visit(required)
        visiting.discard(name)
        ordered[name] = module

    visit("core")
    for name in names:
        visit(name)
    return list(ordered.values())


def load_models(
    names: Iterable[str] | None = None,
    *,
    skip_missing: bool = False,
) -> list[str]:
    """Import the models of modules so that their tables join the metadata.

    Args:
        names: Module names; ``None`` means every registered module. Core is always
            loaded.
        skip_missing: Skip a built-in module whose model package does not exist
            (yet) instead of raising ``ModuleNotFoundError``.

    Returns:
        The names of the modules whose models were loaded.
    """
    modules = resolve(registered_modules() if names is None else names)
    loaded = []
    for module in modules:
        try:
            module.load_models()
        except ModuleNotFoundError as exc:
            package = getattr(module.load_models, "package", None)
            if not (skip_missing and package is not None and exc.name == package):
                raise
            logger.debug("module %s has no models (%s missing)", module.name, package)
            continue
        loaded.append(module.name)
    return loaded


def load_mounted(names: Iterable[str]) -> list[str]:
    """Import the models of the modules mounted on an instance (``connect()``).

    A module that is not installed, or whose models fail to import, is logged and
    skipped: its registries are then unavailable, everything else works.

    Args:
        names: The mounted modules, as recorded in the instance's database.

    Returns:
        The names of the modules whose models were loaded.

    Example:
        >>> load_mounted(["core", "bionty"])  # doctest: +SKIP
        ['core', 'bionty']
    """
    known = []
    for name in names:
        if is_registered(name):
            known.append(name)
        else:
            logger.warning(
                "module %r is mounted on this instance but not installed; its "
                "registries are unavailable (install the package that provides it)",
                name,
            )
    loaded = []
    for module in resolve(known):
        try:
            module.load_models()
        except Exception:  # a broken plugin must not break connecting
            logger.warning(
                "could not load the models of module %r (%r); skipped",
                module.name,
                module.load_models,
                exc_info=True,
            )
            continue
        loaded.append(module.name)
    return loaded


def _builtin_owner(table_name: str) -> Module | None:
    for module in BUILTIN_MODULES:
        if module.owns_table(table_name):
            return module
    return None


def module_for_table(table_name: str) -> Module | None:
    """Return the registered module that owns a table, by the longest prefix."""
    if _registry is None and (builtin := _builtin_owner(table_name)) is not None:
        # plugins cannot own prefixes inside a built-in's (refused at discovery):
        # no need to scan every installed package's entry points
        return builtin
    owners = [m for m in registered_modules().values() if m.owns_table(table_name)]
    return max(owners, key=lambda m: len(m.table_prefix), default=None)


__all__ = [
    "BUILTIN_MODULES",
    "ENTRY_POINT_GROUP",
    "ImportModels",
    "Module",
    "get_module",
    "is_registered",
    "load_models",
    "load_mounted",
    "module_for_table",
    "register_module",
    "registered_modules",
    "resolve",
]
