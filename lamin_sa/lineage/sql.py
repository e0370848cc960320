"""Ancestors and descendants of data as recursive SQL (SQLite and PostgreSQL).

Lineage is plain tables: an artifact or collection points to the run that made
it (``run_id``); ``core_artifact_input`` / ``core_collection_input`` link the
runs that used it. Together they form run → run edges (the producer of an input
→ the run that used it). Upstream of a record are its own run and every run
reachable backwards over those edges; downstream are the runs that used it and
every run reachable forwards. One ``WITH RECURSIVE`` query per direction, at
any depth; ``UNION`` (not ``UNION ALL``) makes cycles terminate.

Results are :class:`~lamin_sa.query.queryset.QuerySet` objects, so they chain
with ``filter()``, ``df()`` and friends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import CTE, Select, select, union_all

if TYPE_CHECKING:
    from lamin_sa.query.queryset import QuerySet


def _edges() -> Any:
    """Run → run edges: (producer, consumer) over artifact and collection inputs."""
    from lamin_sa.models.core import (
        Artifact,
        Collection,
        artifact_input,
        collection_input,
    )

    via_artifacts = (
        select(
            Artifact.run_id.label("producer"),
            artifact_input.c.run_id.label("consumer"),
        )
        .join(Artifact, Artifact.id == artifact_input.c.artifact_id)
        .where(Artifact.run_id.is_not(None))
    )
    via_collections = (
        select(
            Collection.run_id.label("producer"),
            collection_input.c.run_id.label("consumer"),
        )
        .join(Collection, Collection.id == collection_input.c.collection_id)
        .where(Collection.run_id.is_not(None))
    )
    return union_all(via_artifacts, via_collections).subquery("lineage_edges")


def _seed(record: Any, upstream: bool) -> Select[Any]:
    """The runs a walk starts from: the record's own run, or the runs using it."""
    from lamin_sa.models.core import (
        Artifact,
        Collection,
        Run,
        artifact_input,
        collection_input,
    )

    if record.id is None:
        raise ValueError("Save the record first: unsaved data has no lineage.")
    if isinstance(record, Run):
        return select(Run.id.label("run_id")).where(Run.id == record.id)
    if isinstance(record, Artifact):
        table, column = artifact_input, artifact_input.c.artifact_id
    elif isinstance(record, Collection):
        table, column = collection_input, collection_input.c.collection_id
    else:
        raise TypeError(
            "Lineage is defined for artifacts, collections and runs, got "
            f"{type(record).__name__}."
        )
    if upstream:
        model = type(record)
        return select(model.run_id.label("run_id")).where(
            model.id == record.id, model.run_id.is_not(None)
        )
    return select(table.c.run_id.label("run_id")).where(column == record.id)


def run_closure(record: Any, upstream: bool) -> CTE:
    """A recursive CTE (one column ``run_id``) of the runs up- or downstream."""
    edges = _edges()
    walk = _seed(record, upstream).cte(
        "lineage_up" if upstream else "lineage_down", recursive=True
    )
    if upstream:
        step = select(edges.c.producer).join(walk, edges.c.consumer == walk.c.run_id)
    else:
        step = select(edges.c.consumer).join(walk, edges.c.producer == walk.c.run_id)
    return walk.union(step)


class Lineage:
    """The data, runs and transforms up- or downstream of a record.

    Upstream: the record's own run and the runs before it, the data those runs
    used (``artifacts()``/``collections()``) and their transforms. Downstream:
    the runs that used the record and the runs after them, the data those runs
    made, and their transforms. The record itself is never included.

    Example:
        >>> up = artifact.lineage.ancestors()  # doctest: +SKIP
        >>> up.runs().count(), up.transforms().list("key")  # doctest: +SKIP
        (2, ['script_a.py', 'script_b.py'])
    """

    def __init__(self, record: Any, upstream: bool) -> None:
        _seed(record, upstream)  # checks the record's type and that it is saved
        self.record = record
        self.upstream = upstream

    def _run_ids(self) -> Select[Any]:
        walk = run_closure(self.record, self.upstream)
        return select(walk.c.run_id)

    def _data(self, model: type, input_table: Any, column: str) -> QuerySet:
        from lamin_sa.query.queryset import QuerySet

        runs = self._run_ids()
        if self.upstream:
            ids = select(input_table.c[column]).where(input_table.c.run_id.in_(runs))
            clause = model.id.in_(ids)  # type: ignore[attr-defined]
        else:
            clause = model.run_id.in_(runs)  # type: ignore[attr-defined]
        qs = QuerySet(model).where(clause)
        if isinstance(self.record, model):
            qs = qs.where(model.id != self.record.id)  # type: ignore[attr-defined]
        return qs

    def artifacts(self) -> QuerySet:
        """Artifacts up- or downstream (visible ones, as ``Artifact.filter``)."""
        from lamin_sa.models.core import Artifact, artifact_input

        return self._data(Artifact, artifact_input, "artifact_id")

    def collections(self) -> QuerySet:
        """Collections up- or downstream (visible ones)."""
        from lamin_sa.models.core import Collection, collection_input

        return self._data(Collection, collection_input, "collection_id")

    def runs(self) -> QuerySet:
        """Runs up- or downstream."""
        from lamin_sa.models.core import Run
        from lamin_sa.query.queryset import QuerySet

        qs = QuerySet(Run).where(Run.id.in_(self._run_ids()))
        if isinstance(self.record, Run):
            qs = qs.where(Run.id != self.record.id)
        return qs

    def transforms(self) -> QuerySet:
        """Transforms of the runs up- or downstream."""
        from lamin_sa.models.core import Run, Transform
        from lamin_sa.query.queryset import QuerySet

        ids = select(Run.transform_id).where(Run.id.in_(self._run_ids()))
        return QuerySet(Transform).where(Transform.id.in_(ids))

    def __repr__(self) -> str:
        direction = "ancestors" if self.upstream else "descendants"
        return f"Lineage({direction} of {self.record!r})"


def ancestors(record: Any) -> Lineage:
    """What ``record`` (an artifact, collection or run) derives from.

    Example:
        >>> up = ancestors(artifact)  # doctest: +SKIP
        >>> up.artifacts().df()  # doctest: +SKIP
    """
    return Lineage(record, upstream=True)


def descendants(record: Any) -> Lineage:
    """What was derived from ``record`` (an artifact, collection or run).

    Example:
        >>> descendants(artifact).artifacts().list("description")  # doctest: +SKIP
        ['B output', 'C output']
    """
    return Lineage(record, upstream=False)


class LineageAccessor:
    """``record.lineage``: ``.ancestors()`` and ``.descendants()`` of a record.

    Example:
        >>> artifact.lineage.descendants().runs().df()  # doctest: +SKIP
    """

    def __init__(self, record: Any) -> None:
        self.record = record

    def ancestors(self) -> Lineage:
        """What the record derives from (see :func:`ancestors`)."""
        return ancestors(self.record)

    def descendants(self) -> Lineage:
        """What was derived from the record (see :func:`descendants`)."""
        return descendants(self.record)

    def __repr__(self) -> str:
        return f"LineageAccessor({self.record!r})"
