"""Run inputs: link loaded artifacts and collections to the current run.

``Artifact.load/cache/open`` and ``Collection.load/cache/mapped`` call
:func:`link_run_inputs`; the links are what ``run.input_artifacts``,
``run.input_collections`` and the lineage queries read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, select

from lamin_sa.db import session as dbs
from lamin_sa.errors import NoRunContext

logger = logging.getLogger(__name__)


def _as_list(records: Any) -> list[Any]:
    if records is None:
        return []
    if isinstance(records, Iterable) and not hasattr(records, "__table__"):
        return list(records)
    return [records]


def link_run_inputs(records: Any, is_run_input: bool | None = None) -> None:
    """Link saved artifacts/collections as inputs of the current run.

    With ``is_run_input=None`` the records are linked if
    ``ln.settings.track_run_inputs`` is True (the default) and a run is tracked
    (``ln.track()``); ``True`` links them whatever the setting says, ``False``
    never links. Unsaved records and records made by the current run are
    skipped; existing links are kept. The transforms that made the inputs
    become parents of the current run's transform. One transaction.

    Args:
        records: An artifact or collection, or an iterable of them.
        is_run_input: Force (True) or prevent (False) linking.

    Example:
        >>> ln.track()  # doctest: +SKIP
        >>> link_run_inputs(ln.Artifact.get(key="raw.csv"))  # doctest: +SKIP

    Raises:
        NoRunContext: ``is_run_input=True`` and no run is tracked.
        TypeError: a record that is neither an artifact nor a collection.
    """
    from lamin_sa.config import switches as settings
    from lamin_sa.models.core import (
        Artifact,
        Collection,
        Run,
        artifact_input,
        collection_input,
        transform_parent,
    )

    if is_run_input is False:
        return
    if is_run_input is None and not settings.track_run_inputs:
        return
    ctx = dbs.current_or_none()
    run_id = None if ctx is None else ctx.run_id
    if run_id is None:
        if is_run_input:
            raise NoRunContext(
                "No run context set: call ln.track() before marking data as a run "
                "input (is_run_input=True)."
            )
        return
    assert ctx is not None
    items = _as_list(records)
    wrong = [r for r in items if not isinstance(r, Artifact | Collection)]
    if wrong:
        raise TypeError(
            f"Run inputs are artifacts or collections, got {type(wrong[0]).__name__}."
        )
    inputs = [
        r for r in items if getattr(r, "id", None) is not None and r.run_id != run_id
    ]
    if not inputs:
        return
    artifact_ids = list(dict.fromkeys(r.id for r in inputs if isinstance(r, Artifact)))
    collection_ids = list(
        dict.fromkeys(r.id for r in inputs if isinstance(r, Collection))
    )
    with dbs.write_transaction(ctx) as session:
        for table, column, ids in (
            (artifact_input, "artifact_id", artifact_ids),
            (collection_input, "collection_id", collection_ids),
        ):
            if not ids:
                continue
            col = table.c[column]
            linked = set(
                session.scalars(
                    select(col).where(table.c.run_id == run_id, col.in_(ids))
                )
            )
            rows = [{column: i, "run_id": run_id} for i in ids if i not in linked]
            if rows:
                session.execute(insert(table), rows)
        # the transforms that made the inputs become parents of ours
        this_transform = session.scalar(
            select(Run.transform_id).where(Run.id == run_id)
        )
        producer_runs = {r.run_id for r in inputs if r.run_id is not None}
        producers: set[int] = set()
        if producer_runs:
            producers = set(
                session.scalars(
                    select(Run.transform_id).where(Run.id.in_(producer_runs))
                )
            )
        producers |= {
            r.transform_id
            for r in inputs
            if r.run_id is None and r.transform_id is not None
        }
        producers.discard(this_transform)
        if producers and this_transform is not None:
            known = set(
                session.scalars(
                    select(transform_parent.c.to_transform_id).where(
                        transform_parent.c.from_transform_id == this_transform
                    )
                )
            )
            rows = [
                {"from_transform_id": this_transform, "to_transform_id": p}
                for p in sorted(producers - known)
            ]
            if rows:
                session.execute(insert(transform_parent), rows)
        _expire(session, ctx, inputs)
    logger.info(
        "linked %d artifact(s) and %d collection(s) as inputs of run %s",
        len(artifact_ids),
        len(collection_ids),
        getattr(ctx.run, "uid", run_id),
    )


def _expire(session: Any, ctx: dbs.DBContext, inputs: list[Any]) -> None:
    """Loaded relationship collections are stale now; reload them on access."""
    run = ctx.run
    if run is not None and run in session:
        session.expire(run, ["input_artifacts", "input_collections"])
        transform = run.__dict__.get("transform")
        if transform is not None and transform in session:
            session.expire(transform, ["parents"])
    for record in inputs:
        if record in session:
            session.expire(record, ["input_of"])
