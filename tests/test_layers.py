"""The layer rule: lamin_sa's modules import only downward.

Layers, bottom first::

    errors progress config display -> db modules migrate -> query -> models -> storage
    -> artifact lineage curate ontology data -> bionty wetlab
    -> instance settings api (package root) -> cli

Every import counts: module level, inside functions, under ``TYPE_CHECKING`` and
``importlib.import_module("lamin_sa....")`` with a literal name. A module may import
its own layer and any layer below. The only upward edges allowed in general are
model methods calling a service facade package (``lamin_sa.artifact``,
``lamin_sa.curate``, ``lamin_sa.lineage``, ``lamin_sa.data``) inside a function
body; anything else must be listed in ``ALLOWED`` with the file that imports it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "lamin_sa"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "progress", "config", "display"),
    ("db", "modules", "migrate"),
    ("query",),
    ("models",),
    ("storage",),
    ("artifact", "lineage", "curate", "ontology", "data", "exchange"),
    ("bionty", "wetlab"),
    ("instance", "settings", "api", "roles", ""),  # "" is the package root
    ("cli",),
)
LAYER_OF = {name: i for i, names in enumerate(LAYERS) for name in names}

# Model methods may call these facades inside their bodies (never at module level).
FACADES = {
    "lamin_sa.artifact",
    "lamin_sa.curate",
    "lamin_sa.lineage",
    "lamin_sa.data",
    "lamin_sa.exchange",
}

# Upward edges still to remove: (importing file, imported module). Delete an entry
# when the edge goes; the test fails on stale entries too, so the list stays true.
ALLOWED: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Edge:
    """One import of a lamin_sa module by a lamin_sa file."""

    file: str  # relative to the repository, e.g. lamin_sa/models/core.py
    line: int
    target: str  # dotted module name
    in_function: bool

    def __str__(self) -> str:
        where = "inside a function" if self.in_function else "at module level"
        return f"{self.file}:{self.line}: imports {self.target} ({where})"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _resolve(name: str) -> str:
    """The deepest existing module or package for a dotted name under lamin_sa."""
    parts = name.split(".")
    while len(parts) > 1:
        rel = Path(*parts[1:])
        if (PACKAGE / rel).with_suffix(".py").exists() or (
            PACKAGE / rel / "__init__.py"
        ).exists():
            return ".".join(parts)
        parts.pop()
    return "lamin_sa"


def _targets(node: ast.AST, here: str, is_pkg: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [_resolve(a.name) for a in node.names if a.name.startswith("lamin_sa")]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            anchor = here.split(".")
            drop = node.level - 1 if is_pkg else node.level
            anchor = anchor[: len(anchor) - drop] if drop else anchor
            base = ".".join([*anchor, *([base] if base else [])])
        if not (base == "lamin_sa" or base.startswith("lamin_sa.")):
            return []
        # `from lamin_sa.x import y` imports lamin_sa.x.y when y is a submodule
        return [_resolve(f"{base}.{a.name}") for a in node.names]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute | ast.Name)
        and (getattr(node.func, "attr", None) or getattr(node.func, "id", None))
        == "import_module"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
        and node.args[0].value.startswith("lamin_sa")
    ):
        return [_resolve(node.args[0].value)]
    return []


def _walk(
    node: ast.AST, here: str, is_pkg: bool, rel: str, in_function: bool
) -> list[Edge]:
    edges = [
        Edge(rel, node.lineno, target, in_function)  # type: ignore[attr-defined]
        for target in _targets(node, here, is_pkg)
        if target != here
    ]
    inner = in_function or isinstance(
        node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
    )
    for child in ast.iter_child_nodes(node):
        edges += _walk(child, here, is_pkg, rel, inner)
    return edges


def collect_edges() -> list[Edge]:
    """Every import of a lamin_sa module in lamin_sa's own files."""
    edges: list[Edge] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).as_posix()
        tree = ast.parse(path.read_text(), filename=rel)
        edges += _walk(tree, _module_name(path), _is_package(path), rel, False)
    return edges


def layer(module: str) -> int:
    """The layer index of a lamin_sa module (its first component below lamin_sa)."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else ""
    if top not in LAYER_OF:
        raise AssertionError(
            f"{module} is in no layer: add it to LAYERS in tests/test_layers.py"
        )
    return LAYER_OF[top]


def upward(edges: list[Edge]) -> list[Edge]:
    """The edges that import a higher layer, minus facade calls in model methods."""
    out = []
    for e in edges:
        source = _module_name(PACKAGE.parent / e.file)
        if layer(e.target) <= layer(source):
            continue
        is_model = source == "lamin_sa.models" or source.startswith("lamin_sa.models.")
        if is_model and e.in_function and e.target in FACADES:
            continue
        out.append(e)
    return out


def test_every_module_has_a_layer() -> None:
    for path in PACKAGE.rglob("*.py"):
        layer(_module_name(path))


def test_imports_go_downward_only() -> None:
    bad = [e for e in upward(collect_edges()) if (e.file, e.target) not in ALLOWED]
    layers = " -> ".join(" ".join(n or "<root>" for n in names) for names in LAYERS)
    assert not bad, (
        f"{len(bad)} upward import(s); layers are {layers}.\n"
        "Move the code down, pass the value in, or read it from the connection "
        "context (lamin_sa.db.context):\n" + "\n".join(f"  {e}" for e in bad)
    )


def test_allow_list_has_no_stale_entries() -> None:
    present = {(e.file, e.target) for e in upward(collect_edges())}
    stale = sorted(ALLOWED - present)
    assert not stale, (
        "These allowed upward edges no longer exist; delete them from ALLOWED in "
        "tests/test_layers.py:\n" + "\n".join(f"  {f} -> {t}" for f, t in stale)
    )


def test_core_never_imports_a_plugin() -> None:
    plugins = {"lamin_sa.bionty", "lamin_sa.wetlab"}
    bad = [
        e
        for e in collect_edges()
        if any(e.target == p or e.target.startswith(p + ".") for p in plugins)
        and layer(_module_name(PACKAGE.parent / e.file)) < LAYER_OF["bionty"]
    ]
    assert not bad, "core imports a plugin:\n" + "\n".join(f"  {e}" for e in bad)


def test_the_walk_sees_lazy_and_relative_imports(tmp_path) -> None:
    # the checker itself must see imports inside functions and TYPE_CHECKING blocks
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from lamin_sa.instance import connect\n"
        "def f():\n    import lamin_sa.api\n"
        "    import importlib\n    importlib.import_module('lamin_sa.cli')\n"
    )
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        found += _targets(node, "lamin_sa.models.core", False)
    assert sorted(found) == ["lamin_sa.api", "lamin_sa.cli", "lamin_sa.instance"]
    rel = ast.parse("from ..storage import paths\n").body[0]
    assert _targets(rel, "lamin_sa.artifact.create", False) == [
        "lamin_sa.storage.paths"
    ]
