"""``ln.track()`` and ``ln.finish()``: record which code ran and what it used.

How a script or notebook becomes a :class:`~lamin_sa.models.core.Transform`
(no uid pasting needed) is described in :mod:`lamin_sa.lineage.source` (key,
hash, name) and :mod:`lamin_sa.lineage.transforms` (versions, pinned uids,
runs); :mod:`lamin_sa.lineage.notebook` finds the running notebook, also in
headless runs (nbconvert, papermill, nbclient). Params are stored by
:mod:`lamin_sa.lineage.params`, the environment by
:mod:`lamin_sa.lineage.environment`.

The active database context gets the run so that new records are attributed
to it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from lamin_sa.db import session as dbs
from lamin_sa.db.base import utcnow
from lamin_sa.errors import TrackNotCalled, TransformNotFound
from lamin_sa.lineage.environment import (
    env_file,
    save_environment,
    snapshot_environment,
)
from lamin_sa.lineage.notebook import (
    NOTEBOOK_PATH_ENV,
    find_notebook,
    ipython_kernel,
    notebook_name_hint,
)
from lamin_sa.lineage.params import set_params
from lamin_sa.lineage.source import (
    caller_path,
    describe_source,
    save_report,
    save_source_code,
    source_hash,
    transform_key,
)
from lamin_sa.lineage.transforms import (
    SOURCE_HASH,
    find_transform,
    get_run,
    pipeline_transform,
    transform_for_pinned_uid,
    transform_for_pinned_uid_without_file,
    transform_for_source,
)

if TYPE_CHECKING:
    from lamin_sa.models.core import Run, Transform

__all__ = [
    "NOTEBOOK_PATH_ENV",
    "SOURCE_HASH",
    "RunContext",
    "TrackNotCalled",
    "TransformNotFound",
    "find_transform",
    "finish",
    "run_context",
    "save_source",
    "set_params",
    "source_hash",
    "track",
    "transform_key",
]

logger = logging.getLogger(__name__)


@dataclass
class _Tracked:
    ctx: dbs.DBContext
    transform: Transform
    run: Run
    path: Path | None
    is_notebook: bool


_tracked: _Tracked | None = None


def _active() -> _Tracked | None:
    """The tracked run if it belongs to the active database context."""
    if _tracked is None or dbs.current_or_none() is not _tracked.ctx:
        return None
    return _tracked


class RunContext:
    """The transform and run set by ``ln.track()`` (None before, or elsewhere).

    Example:
        >>> from lamin_sa.lineage.track import run_context
        >>> run_context.run is None  # before ln.track()
        True
    """

    @property
    def transform(self) -> Transform | None:
        """The tracked transform."""
        state = _active()
        return None if state is None else state.transform

    @property
    def run(self) -> Run | None:
        """The tracked run."""
        state = _active()
        return None if state is None else state.run

    @property
    def path(self) -> Path | None:
        """The tracked script or notebook file."""
        state = _active()
        return None if state is None else state.path

    def __repr__(self) -> str:
        return f"RunContext(transform={self.transform!r}, run={self.run!r})"


run_context = RunContext()


# ---- track ----------------------------------------------------------------------


def track(
    params: dict[str, Any] | None = None,
    transform: Transform | None = None,
    new_run: bool | None = None,
    path: str | os.PathLike[str] | None = None,
) -> None:
    """Track the calling script or notebook (or a pipeline) as a run.

    Identifies the transform by key and source hash (see the module doc),
    creates a run, stores ``params`` and makes the run the active one: records
    created afterwards get ``run`` (and artifacts the run's transform), and data
    that is loaded is linked as the run's input.

    Args:
        params: Run parameters, stored as ``run.param_values``.
        transform: A pipeline transform (unsaved ones are saved); omit in
            scripts and notebooks.
        new_run: Create a new run. Default: True, except for notebooks, which
            re-use their latest run by the same user.
        path: The script or notebook file (default: the calling file; in
            Jupyter the running notebook, found as described in
            :mod:`lamin_sa.lineage.notebook`, also in headless runs).

    Example:
        >>> import lamin_sa as ln
        >>> ln.settings.transform.stem_uid = "FPnfDtJz8qbE"  # optional, pasted
        >>> ln.settings.transform.version = "1"
        >>> ln.track(params={"learning_rate": 0.01})  # doctest: +SKIP

    With a pasted ``stem_uid``/``version``, a notebook whose file cannot be
    found is still tracked (under that uid, named from what is known, with a
    warning); without them, :class:`TransformNotFound` says how to fix it.

    Raises:
        TransformNotFound: the calling file cannot be identified.
        ValueError: a script/notebook transform passed as ``transform``, or
            an invalid ``ln.settings.transform``.
    """
    global _tracked
    from lamin_sa.config import switches as settings

    ctx = dbs.current()
    file: Path | None = None
    pinned = settings.transform
    if transform is not None:
        transform, created = pipeline_transform(ctx, transform)
        is_notebook = False
    else:
        shell = ipython_kernel() if path is None else None
        if path is not None:
            file = Path(path)
        elif shell is not None:
            file = find_notebook(shell)
            if file is None and pinned.stem_uid is None:
                raise TransformNotFound(
                    "Cannot find this notebook's file (looked at VS Code's path, "
                    f"${NOTEBOOK_PATH_ENV}, $JPY_SESSION_NAME, the runner's command "
                    f"line and the .ipynb files in {Path.cwd()}): pass "
                    "ln.track(path='x.ipynb'), or paste the notebook's "
                    "ln.settings.transform.stem_uid and .version before ln.track()."
                )
        else:
            file = caller_path()
        if file is None:
            transform = _unfound_notebook_transform(
                ctx, pinned.stem_uid, pinned.version
            )
            created: bool | None = None  # the warning said what happened
            is_notebook = True
        else:
            src = describe_source(file)
            file = src.path
            is_notebook = src.type == "notebook"
            if pinned.stem_uid is not None:
                transform, created = transform_for_pinned_uid(
                    ctx, src, pinned.stem_uid, pinned.version
                )
            else:
                transform, created = transform_for_source(ctx, src)
    if new_run is None:
        new_run = not is_notebook
    run, run_created = get_run(ctx, transform, new_run, is_notebook)
    ctx.run, ctx.run_id = run, run.id
    _tracked = _Tracked(ctx, transform, run, file, is_notebook)
    if params:
        set_params(run, params)
    if transform.type in ("notebook", "script"):
        snapshot_environment(run)
    # as LaminDB says it: saved/loaded with the records' reprs
    if created is not None:
        logger.info("%s: %r", "saved" if created else "loaded", transform)
    logger.info("%s: %r", "saved" if run_created else "loaded", run)


def _unfound_notebook_transform(
    ctx: dbs.DBContext, stem_uid: str, version: str
) -> Transform:
    """The pinned transform of a notebook whose file was not found, logged."""
    hint = notebook_name_hint()
    name = hint or f"notebook in {Path.cwd().name or Path.cwd()}"
    transform, created = transform_for_pinned_uid_without_file(
        ctx, stem_uid, version, name, "notebook"
    )
    what = "created" if created else "loaded"
    logger.warning(
        "cannot find this notebook's file (headless run?): %s transform %s %r "
        "from ln.settings.transform.stem_uid and .version; ln.finish() cannot "
        "save its source or report (pass ln.track(path='x.ipynb') for those)",
        what,
        transform.uid,
        transform.name,
    )
    return transform


@contextmanager
def _without_run(ctx: dbs.DBContext) -> Iterator[None]:
    """Records made inside the block are not outputs of the tracked run."""
    saved = ctx.run, ctx.run_id
    ctx.run, ctx.run_id = None, None
    try:
        yield
    finally:
        ctx.run, ctx.run_id = saved


def _finish_run(
    ctx: dbs.DBContext,
    transform: Transform,
    run: Run,
    path: Path | None,
    *,
    environment: bool,
) -> None:
    with _without_run(ctx):
        source = report = env = None
        if path is not None:
            if not path.exists():
                raise TransformNotFound(f"{path} no longer exists: cannot save it.")
            source = save_source_code(transform, path)
            if path.suffix == ".ipynb":
                report = save_report(run, path)
        if environment:
            env = save_environment(run)
    with dbs.write_transaction(ctx) as session:
        session.add(run)
        session.add(transform)
        if source is not None:
            transform.source_code_id = source.id
        if report is not None:
            run.report_id = report.id
            transform.latest_report_id = report.id
        if env is not None:
            run.environment_id = env.id
        if run.finished_at is None or environment:
            run.finished_at = utcnow()
        session.flush()
        session.expire(transform, ["source_code", "latest_report"])
        session.expire(run, ["report", "environment"])


def finish() -> None:
    """Finish the tracked run: save source code, environment and report.

    The script's or notebook's source becomes a hidden artifact
    (``transform.source_code``; notebooks without outputs), the installed
    distributions a hidden ``requirements.txt`` artifact (``run.environment``,
    shared by runs with the same environment), a notebook's HTML rendering
    (when nbconvert is installed) ``run.report`` and
    ``transform.latest_report``; ``finished_at`` is set. These artifacts are
    not outputs of the run.

    Example:
        >>> ln.finish()  # doctest: +SKIP

    Raises:
        TrackNotCalled: ``ln.track()`` was not called in this process (for the
            connected instance).
    """
    state = _active()
    if state is None:
        raise TrackNotCalled(
            "Call ln.track() before ln.finish(): there is no tracked run."
        )
    if state.is_notebook:
        logger.info(
            "ln.finish() saves the notebook file as it is on disk: save it first"
        )
    _finish_run(state.ctx, state.transform, state.run, state.path, environment=True)
    logger.info(
        "finished Run('%s') of Transform('%s')", state.run.uid, state.transform.uid
    )


def save_source(path: str | os.PathLike[str]) -> Transform:
    """Finish after the fact: save a tracked script's or notebook's source.

    Finds the transform by the file's key and source hash and its latest run,
    then does what :func:`finish` does (the environment only if this process
    snapshotted it for that run), e.g. after saving an executed notebook:
    ``lamin-sa save analysis.ipynb``.

    Args:
        path: The script or notebook file.

    Returns:
        The transform.

    Example:
        >>> save_source("analysis.ipynb")  # doctest: +SKIP
        Transform(uid='FPnfDtJz8qbE5zKv', name='Introduction', ...)

    Raises:
        TransformNotFound: no tracked transform has this key and source.
    """
    from lamin_sa.models.core import Run

    ctx = dbs.current()
    src = describe_source(Path(path))
    try:
        transform = find_transform(ctx.session, src.key, src.hash)
        run = None
        if transform is not None:
            query = select(Run).where(Run.transform_id == transform.id)
            if ctx.user_id is not None:
                mine = query.where(Run.created_by_id == ctx.user_id)
                run = ctx.session.scalars(
                    mine.order_by(Run.started_at.desc(), Run.id.desc()).limit(1)
                ).first()
            if run is None:
                run = ctx.session.scalars(
                    query.order_by(Run.started_at.desc(), Run.id.desc()).limit(1)
                ).first()
    finally:
        dbs.end_read(ctx)
    if transform is None or run is None:
        raise TransformNotFound(
            f"No tracked run of {src.key} with this source: run it with ln.track() "
            "first (or the file changed since it ran)."
        )
    has_env = env_file(run).exists()
    _finish_run(ctx, transform, run, src.path, environment=has_env)
    logger.info("saved source of transform %s (%s)", transform.uid, src.key)
    return transform
