"""Lineage and parent graphs as ``networkx.DiGraph``, rendered with graphviz.

Graphs have one node per record, keyed ``"<kind>:<uid>"`` (kind: artifact,
collection, run, transform, or the lower-cased class name), with the node
attributes ``kind``, ``uid``, ``label`` (what a picture shows) and ``id``.
Lineage edges run data → run (an input) and run → data (an output); parent
edges run parent → child.

Rendering writes SVG, PNG or PDF through graphviz's ``dot`` binary when it is
installed; otherwise it writes the DOT text (``.dot``) and says how to get
pictures. In Jupyter the picture is displayed inline.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import or_, select

from lamin_sa.db import session as dbs
from lamin_sa.display import in_jupyter

if TYPE_CHECKING:
    import networkx as nx

logger = logging.getLogger(__name__)

GRAPHVIZ_HINT = "install graphviz (apt-get install graphviz) for pictures"
FORMATS = ("svg", "png", "pdf", "dot")
_STYLE = {
    "run": {"shape": "box", "fillcolor": "#e4e4e4"},
    "transform": {"shape": "box", "fillcolor": "#e4e4e4"},
    "artifact": {"shape": "box", "fillcolor": "#d9f2d9"},
    "collection": {"shape": "box3d", "fillcolor": "#d9f2d9"},
}
_DEFAULT_STYLE = {"shape": "box", "fillcolor": "#fdf3d0"}


# ---- labels ---------------------------------------------------------------------


def _transform_label(transform: Any, field: str | None = None) -> str:
    title = getattr(transform, field) if field else None
    title = title or transform.key or transform.name or transform.uid
    version = f" v{transform.version}" if transform.version else ""
    return f"{transform.type}: {title}{version}"


def _data_label(record: Any) -> str:
    kind = type(record).__name__
    if kind == "Collection":
        title = record.name or record.uid
    else:
        title = record.description or record.key or f"{record.uid}{record.suffix}"
    version = f" v{record.version}" if record.version else ""
    return f"{title}{version}\n{kind.lower()} {record.uid}"


def _run_label(run: Any, transform: Any) -> str:
    started = run.started_at.strftime("%Y-%m-%d %H:%M:%S") if run.started_at else ""
    head = _transform_label(transform) if transform is not None else "run"
    return f"{head}\nrun {started}"


def _node(kind: str, record: Any) -> str:
    return f"{kind}:{record.uid}"


# ---- lineage of data and runs ----------------------------------------------------


def _lineage_run_ids(session: Any, record: Any) -> set[int]:
    from lamin_sa.lineage.sql import run_closure
    from lamin_sa.models.core import Run

    up = run_closure(record, upstream=True)
    down = run_closure(record, upstream=False)
    query = select(up.c.run_id).union(select(down.c.run_id))
    ids = {i for i in session.scalars(query) if i is not None}
    if isinstance(record, Run):
        ids.add(record.id)
    return ids


def lineage_graph(record: Any) -> nx.DiGraph:
    """The lineage of an artifact, collection or run as a directed graph.

    Contains every run up- and downstream of the record (recursive SQL, any
    depth), the data those runs used and made (visible and hidden, not
    trashed), and the record itself.

    Args:
        record: A saved artifact, collection or run.

    Returns:
        A ``networkx.DiGraph``: data → run for inputs, run → data for outputs.

    Example:
        >>> g = lineage_graph(artifact)  # doctest: +SKIP
        >>> sorted(kind for _, kind in g.nodes(data="kind"))  # doctest: +SKIP
        ['artifact', 'run']
    """
    import networkx as nx

    from lamin_sa.models.core import (
        Artifact,
        Collection,
        Run,
        Transform,
        artifact_input,
        collection_input,
    )

    graph = nx.DiGraph()
    ctx = dbs.current()
    session = ctx.session
    try:
        run_ids = _lineage_run_ids(session, record)
        runs: dict[int, tuple[Any, Any]] = {}
        if run_ids:
            for run, transform in session.execute(
                select(Run, Transform)
                .join(Transform, Transform.id == Run.transform_id)
                .where(Run.id.in_(run_ids))
            ):
                runs[run.id] = (run, transform)
        edges_in: list[tuple[str, int, int]] = []
        for kind, table, column in (
            ("artifact", artifact_input, "artifact_id"),
            ("collection", collection_input, "collection_id"),
        ):
            if run_ids:
                rows = session.execute(
                    select(table.c[column], table.c.run_id).where(
                        table.c.run_id.in_(run_ids)
                    )
                )
                edges_in += [(kind, data_id, run_id) for data_id, run_id in rows]
        data: dict[tuple[str, int], Any] = {}
        for kind, model in (("artifact", Artifact), ("collection", Collection)):
            wanted = {i for k, i, _ in edges_in if k == kind}
            clauses = []
            if wanted:
                clauses.append(model.id.in_(wanted))
            if run_ids:
                clauses.append(model.run_id.in_(run_ids))
            if isinstance(record, model):
                clauses.append(model.id == record.id)
            if not clauses:
                continue
            for row in session.scalars(
                select(model).where(or_(*clauses), model.visibility > -1)
            ):
                data[(kind, row.id)] = row
    finally:
        dbs.end_read(ctx)
    for run, transform in runs.values():
        graph.add_node(
            _node("run", run),
            kind="run",
            uid=run.uid,
            id=run.id,
            label=_run_label(run, transform),
            transform_type=transform.type,
        )
    for (kind, _), row in data.items():
        graph.add_node(
            _node(kind, row), kind=kind, uid=row.uid, id=row.id, label=_data_label(row)
        )
        if row.run_id in runs:
            graph.add_edge(_node("run", runs[row.run_id][0]), _node(kind, row))
    for kind, data_id, run_id in edges_in:
        row = data.get((kind, data_id))
        if row is not None and run_id in runs:
            graph.add_edge(_node(kind, row), _node("run", runs[run_id][0]))
    kind = type(record).__name__.lower()
    if kind in ("artifact", "collection", "run"):
        graph.graph["focus"] = _node(kind, record)
    return graph


# ---- parents of hierarchical records ---------------------------------------------


def parents_graph(
    record: Any,
    field: str | None = None,
    with_children: bool = False,
    distance: int = 5,
) -> nx.DiGraph:
    """Parents (and optionally children) of a record up to ``distance`` steps.

    Works for every registry with ``parents``/``children`` over a self link
    table (Transform, ULabel, ontology registries).

    Args:
        record: A saved record.
        field: The field labelling nodes (default: key/name).
        with_children: Also walk down to children.
        distance: The maximum number of steps in each direction.

    Returns:
        A ``networkx.DiGraph`` with edges parent → child.

    Example:
        >>> parents_graph(ulabel, with_children=True).edges()  # doctest: +SKIP
    """
    import networkx as nx

    cls = type(record)
    prop = sa_inspect(cls).relationships["parents"]
    ((_, child_col),) = prop.synchronize_pairs
    ((_, parent_col),) = prop.secondary_synchronize_pairs
    kind = cls.__name__.lower()
    edges: set[tuple[int, int]] = set()
    ctx = dbs.current()
    session = ctx.session
    try:
        directions = [(child_col, parent_col)]
        if with_children:
            directions.append((parent_col, child_col))
        for near, far in directions:
            frontier, seen = {record.id}, {record.id}
            for _ in range(max(distance, 0)):
                if not frontier:
                    break
                rows = session.execute(
                    select(near, far).where(near.in_(frontier))
                ).all()
                frontier = set()
                for a, b in rows:
                    child, parent = (a, b) if near is child_col else (b, a)
                    edges.add((parent, child))
                    if b not in seen:
                        seen.add(b)
                        frontier.add(b)
        ids = {record.id} | {i for edge in edges for i in edge}
        rows_by_id = {
            r.id: r for r in session.scalars(select(cls).where(cls.id.in_(ids)))
        }
    finally:
        dbs.end_read(ctx)
    graph = nx.DiGraph()
    for row in rows_by_id.values():
        graph.add_node(
            _node(kind, row),
            kind=kind,
            uid=getattr(row, "uid", str(row.id)),
            id=row.id,
            label=_record_label(row, field),
        )
    for parent, child in edges:
        if parent in rows_by_id and child in rows_by_id:
            graph.add_edge(
                _node(kind, rows_by_id[parent]), _node(kind, rows_by_id[child])
            )
    graph.graph["focus"] = _node(kind, record)
    return graph


def _record_label(record: Any, field: str | None) -> str:
    if type(record).__name__ == "Transform":
        return _transform_label(record, field)
    name_field = field or getattr(type(record), "_name_field", None) or "uid"
    value = getattr(record, name_field, None)
    return str(value if value is not None else record.uid)


# ---- DOT and rendering -----------------------------------------------------------


def _quote(text: Any) -> str:
    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n") + '"'


def to_dot(graph: nx.DiGraph, name: str = "lineage") -> str:
    """The graph as graphviz DOT text (the focus node drawn with a bold border)."""
    focus = graph.graph.get("focus")
    lines = [
        f"digraph {_quote(name)} {{",
        "  rankdir=TB;",
        '  node [fontname="Helvetica", fontsize=10, style="rounded,filled"];',
        '  edge [color="#888888", arrowsize=0.7];',
    ]
    for node, attrs in sorted(graph.nodes(data=True)):
        style = _STYLE.get(attrs.get("kind", ""), _DEFAULT_STYLE)
        extra = ', penwidth=2, color="#4a4a4a"' if node == focus else ""
        lines.append(
            f"  {_quote(node)} [label={_quote(attrs.get('label', node))}, "
            f'shape={style["shape"]}, fillcolor="{style["fillcolor"]}"{extra}];'
        )
    for a, b in sorted(graph.edges()):
        lines.append(f"  {_quote(a)} -> {_quote(b)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(graph: nx.DiGraph, filename: str | os.PathLike[str]) -> Path:
    """Write the graph as a picture (by the file's suffix) or as DOT text.

    ``.svg``, ``.png`` and ``.pdf`` need graphviz's ``dot``; without it the
    DOT text is written next to it (``<name>.dot``) with a hint. ``.dot``
    always writes the text.

    Args:
        graph: A graph from :func:`lineage_graph` or :func:`parents_graph`.
        filename: The output file.

    Returns:
        The written file.

    Example:
        >>> render(lineage_graph(artifact), "lineage.png")  # doctest: +SKIP
        PosixPath('lineage.png')
    """
    path = Path(filename).expanduser()
    fmt = path.suffix.lstrip(".").lower() or "svg"
    if fmt not in FORMATS:
        raise ValueError(f"Cannot render .{fmt}: use one of {', '.join(FORMATS)}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    text = to_dot(graph)
    dot = shutil.which("dot")
    if fmt != "dot" and dot is not None:
        try:
            subprocess.run(
                [dot, f"-T{fmt}", "-o", str(path)],
                input=text.encode("utf-8"),
                capture_output=True,
                check=True,
                timeout=120,
            )
            return path
        except (OSError, subprocess.SubprocessError) as e:
            logger.warning("graphviz failed (%s): writing DOT text instead", e)
    path = path.with_suffix(".dot")
    path.write_text(text, encoding="utf-8")
    if fmt != "dot" and dot is None:
        logger.warning(
            "wrote DOT text to %s instead of .%s: %s", path, fmt, GRAPHVIZ_HINT
        )
    return path


_dot_hint_shown = False


def _dot_fallback_hint(path: Path) -> None:
    """Say once per process where the DOT file is and how to get pictures."""
    global _dot_hint_shown
    if _dot_hint_shown:
        return
    _dot_hint_shown = True
    logger.warning(
        "graphviz's dot is not installed: wrote the DOT text to %s; %s "
        "(or paste the text into any graphviz viewer)",
        path,
        GRAPHVIZ_HINT,
    )


def _display(path: Path) -> None:
    """Display the picture inline; DOT text as text (graphviz MIME type too)."""
    from IPython.display import SVG, Image, display

    if path.suffix == ".svg":
        display(SVG(filename=str(path)))
    elif path.suffix == ".png":
        display(Image(filename=str(path)))
    else:
        text = path.read_text(encoding="utf-8")
        display({"text/plain": text, "text/vnd.graphviz": text}, raw=True)


def _output(
    graph: nx.DiGraph,
    record: Any,
    what: str,
    filename: str | os.PathLike[str] | None,
    return_graph: bool,
) -> Any:
    if return_graph:
        return graph
    if filename is not None:
        return render(graph, filename)
    # shown, not returned: inline in Jupyter, a line naming the file elsewhere
    from lamin_sa.config import switches as settings

    uid = getattr(record, "uid", record.id)
    target = settings.cache_dir / f"{what}_{uid}.svg"
    text = to_dot(graph)
    if shutil.which("dot") is None:
        path = target.with_suffix(".dot")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        _dot_fallback_hint(path)
    else:
        path = render(graph, target)
    if in_jupyter():
        _display(path)
    else:
        print(f"{what} of {type(record).__name__} {uid}: {path}")
    return None


def view_lineage(
    record: Any,
    *,
    filename: str | os.PathLike[str] | None = None,
    return_graph: bool = False,
) -> Any:
    """Draw the lineage of an artifact, collection or run.

    Args:
        record: A saved artifact, collection or run.
        filename: Write the picture there (suffix svg/png/pdf/dot) and
            return the path instead of showing it.
        return_graph: Return the ``networkx.DiGraph`` instead of drawing.

    Returns:
        The graph with ``return_graph``, the written file with ``filename``,
        else None: the picture is shown inline in Jupyter (the DOT text
        without graphviz), and elsewhere a line names the file in the cache.

    Example:
        >>> artifact.view_lineage()  # doctest: +SKIP
        lineage of Artifact m45sfXfMutX9IZ2JQoRk: .../lineage_m45s....svg
    """
    return _output(lineage_graph(record), record, "lineage", filename, return_graph)


def view_parents(
    record: Any,
    field: str | None = None,
    with_children: bool = False,
    distance: int = 5,
    *,
    filename: str | os.PathLike[str] | None = None,
    return_graph: bool = False,
) -> Any:
    """Draw the parents (and optionally children) of a record.

    Args:
        record: A saved record of a registry with parents (Transform, ULabel...).
        field: The field labelling nodes.
        with_children: Also draw children.
        distance: Steps to walk in each direction.
        filename: Write the picture there and return the path instead of
            showing it.
        return_graph: Return the ``networkx.DiGraph`` instead of drawing.

    Returns:
        As :func:`view_lineage`: the graph, the written file, or None when
        shown.

    Example:
        >>> new_cell_state.view_parents(distance=2)  # doctest: +SKIP
    """
    graph = parents_graph(record, field, with_children, distance)
    return _output(graph, record, "parents", filename, return_graph)


def find_by_uid(uid: str) -> Any:
    """The artifact, collection, run or transform with this uid (any visibility).

    Example:
        >>> find_by_uid("m45sfXfMutX9IZ2JQoRk")  # doctest: +SKIP
    """
    from lamin_sa.errors import NoResultFound
    from lamin_sa.models.core import Artifact, Collection, Run, Transform

    models: Iterable[type] = (Artifact, Collection, Run, Transform)
    for model in models:
        extra = {"visibility": None} if model in (Artifact, Collection) else {}
        found = model.filter(uid=uid, **extra).one_or_none()  # type: ignore[attr-defined]
        if found is not None:
            return found
    raise NoResultFound(f"No artifact, collection, run or transform has uid {uid!r}.")


def lineage_file(uid: str, filename: str | os.PathLike[str]) -> Path:
    """Write the lineage of the record with ``uid`` to ``filename``.

    Artifacts, collections and runs get their lineage graph; transforms their
    parents and children. Used by ``lamin-sa lineage UID -o lineage.svg``.

    Returns:
        The written file (``.dot`` when graphviz is missing).
    """
    record = find_by_uid(uid)
    if type(record).__name__ == "Transform":
        graph = parents_graph(record, with_children=True)
    else:
        graph = lineage_graph(record)
    return render(graph, filename)
