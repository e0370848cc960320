"""``ln.track()`` and ``ln.finish()``: record which code ran and what it used.

How a script or notebook becomes a :class:`~lamin_sa.models.core.Transform`
(no uid pasting needed):

- **key**: the file's path relative to its git repository root (``git
  rev-parse --show-toplevel`` run in the file's folder), else the file name.
- **source hash**: a script's file hash (:func:`lamin_sa.storage.hashing.hash_file`);
  for a notebook the hash of its cells' types and sources only, so that
  executing it (new outputs, execution counts) does not change it.
- The hash is stored in ``Transform.reference`` with
  ``reference_type="source_hash"`` (no schema change). A transform whose source
  code was saved as an artifact also matches by that artifact's hash (scripts:
  the saved file is the script itself).
- Same key and hash → the same transform. Same key, another hash → a new version
  of the family: same 12-character stem, next integer version, uid suffix
  derived from the version (``hash_to_uid(version, 4)``), ``is_latest`` moved.
- ``ln.settings.transform.stem_uid`` / ``.version`` (as in LaminDB) still pin
  the uid: ``stem_uid + hash_to_uid(version, 4)``.

A run is created per call (notebooks re-use the latest run of the same user
unless ``new_run=True``), its params are stored as Param/ParamValue, and the
active database context gets the run so new records are attributed to it.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, insert, or_, select, text, update
from sqlalchemy.orm import aliased

from lamin_sa.db import session as dbs
from lamin_sa.db.base import utcnow
from lamin_sa.db.uid import BASE62, base62, hash_to_uid
from lamin_sa.errors import TrackNotCalled, TransformNotFound

if TYPE_CHECKING:
    from lamin_sa.models.core import Artifact, Run, Transform

logger = logging.getLogger(__name__)

#: environment variable naming the notebook file (headless runs, tests).
NOTEBOOK_PATH_ENV = "LAMIN_SA_NOTEBOOK_PATH"
SOURCE_HASH = "source_hash"
_PACKAGE_DIR = Path(__file__).resolve().parent.parent


# ---- the run context ------------------------------------------------------------


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
    """The transform and run set by ``ln.track()`` (None before, or elsewhere)."""

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


# ---- identifying the calling file ----------------------------------------------


def _ipython_kernel() -> Any | None:
    """The IPython shell if this process is a Jupyter kernel, else None."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    try:
        shell = ipython.get_ipython()
    except Exception:  # pragma: no cover - broken IPython installs
        return None
    if shell is None or type(shell).__name__ not in ("ZMQInteractiveShell", "Shell"):
        return None
    return shell


def _notebook_path(shell: Any) -> Path:
    candidates = [
        shell.user_ns.get("__vsc_ipynb_file__"),
        os.environ.get(NOTEBOOK_PATH_ENV),
        os.environ.get("JPY_SESSION_NAME"),
    ]
    for candidate in candidates:
        if not candidate:
            continue
        path = Path(str(candidate)).expanduser()
        if path.suffix == ".ipynb" and path.exists():
            return path.resolve()
    raise TransformNotFound(
        "Cannot find this notebook's file: pass it as ln.track(path='x.ipynb') "
        f"(or set the {NOTEBOOK_PATH_ENV} environment variable)."
    )


def _caller_path() -> Path:
    """The file of the first frame outside lamin_sa (the calling script)."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith("<"):
            break
        path = Path(filename).resolve()
        if not path.is_relative_to(_PACKAGE_DIR):
            return path
        frame = frame.f_back  # type: ignore[assignment]
    raise TransformNotFound(
        "Cannot identify the calling script (interactive session?): pass "
        "ln.track(path='script.py'), or ln.track(transform=ln.Transform(name=...)) "
        "for a pipeline."
    )


def transform_key(path: Path) -> str:
    """The path relative to the git repository root, else the file name."""
    path = path.resolve()
    git = shutil.which("git")
    if git is not None:
        try:
            out = subprocess.run(
                [git, "rev-parse", "--show-toplevel"],
                cwd=path.parent,
                capture_output=True,
                text=True,
                timeout=30,
            )
        except (OSError, subprocess.SubprocessError):
            out = None
        if out is not None and out.returncode == 0 and out.stdout.strip():
            root = Path(out.stdout.strip()).resolve()
            if path.is_relative_to(root):
                return path.relative_to(root).as_posix()
    return path.name


def _read_notebook(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    except (OSError, ValueError) as e:
        raise TransformNotFound(f"Cannot read notebook {path}: {e}") from e


def _cell_source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def source_hash(path: Path) -> str:
    """The hash identifying a script's or notebook's source.

    Scripts: the file hash. Notebooks: the hash of the cells' types and sources
    (outputs, execution counts and metadata are ignored).
    """
    from lamin_sa.storage.hashing import hash_file

    if path.suffix == ".ipynb":
        cells = [
            [cell.get("cell_type", ""), _cell_source(cell)]
            for cell in _read_notebook(path).get("cells", [])
        ]
        payload = json.dumps(cells, ensure_ascii=False, separators=(",", ":"))
        return hash_file(io.BytesIO(payload.encode("utf-8")))[0]
    return hash_file(path)[0]


def _notebook_title(path: Path) -> str | None:
    for cell in _read_notebook(path).get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        for line in _cell_source(cell).splitlines():
            match = re.match(r"^#\s+(.+?)\s*$", line)
            if match:
                return match.group(1)[:150]
    return None


@dataclass
class _Source:
    path: Path
    key: str
    name: str
    type: str
    hash: str


def _describe_source(path: Path) -> _Source:
    path = path.expanduser().resolve()
    if not path.is_file():
        raise TransformNotFound(f"{path} is not a file.")
    is_notebook = path.suffix == ".ipynb"
    key = transform_key(path)
    if len(key) > 120:
        key = path.name
    name = (_notebook_title(path) if is_notebook else None) or path.name
    return _Source(
        path=path,
        key=key,
        name=name,
        type="notebook" if is_notebook else "script",
        hash=source_hash(path),
    )


# ---- finding or creating the transform -----------------------------------------


def find_transform(session: Any, key: str, hash_: str) -> Transform | None:
    """The script/notebook transform with this key whose source has this hash."""
    from lamin_sa.models.core import Artifact, Transform

    src = aliased(Artifact)
    stmt = (
        select(Transform)
        .outerjoin(src, Transform.source_code_id == src.id)
        .where(
            Transform.key == key,
            Transform.type.in_(("script", "notebook")),
            or_(
                and_(
                    Transform.reference_type == SOURCE_HASH,
                    Transform.reference == hash_,
                ),
                src.hash == hash_,
            ),
        )
        .order_by(Transform.created_at.desc(), Transform.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()  # type: ignore[no-any-return]


def _next_version(versions: list[str | None]) -> int:
    numbers = [int(v) for v in versions if v is not None and v.isdigit()]
    return (max(numbers) if numbers else len(versions)) + 1


def _insert_transform(session: Any, uid: str, version: str, src: _Source) -> Any:
    from lamin_sa.models.core import Transform

    transform = Transform(
        uid=uid,
        name=src.name,
        key=src.key,
        type=src.type,
        version=version,
        reference=src.hash,
        reference_type=SOURCE_HASH,
        is_latest=True,
    )
    session.add(transform)
    session.flush()
    stem = uid[: Transform._len_stem_uid]
    session.execute(
        update(Transform)
        .where(Transform.uid.startswith(stem, autoescape=True))
        .where(Transform.id != transform.id)
        .values(is_latest=False)
    )
    return transform


def _lock_key(session: Any, key: str) -> None:
    """Serialize transform creation per key across processes.

    SQLite writers hold the database lock from BEGIN already; PostgreSQL takes
    a transaction-scoped advisory lock on the key's hash.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.md5(f"lamin_sa.transform:{key}".encode()).digest()
    number = int.from_bytes(digest[:8], "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:n)"), {"n": number})


def _transform_for_source(ctx: dbs.DBContext, src: _Source) -> Transform:
    from lamin_sa.models.core import Transform

    with dbs.write_transaction(ctx) as session:
        _lock_key(session, src.key)
        found = find_transform(session, src.key, src.hash)
        if found is not None:
            if found.name != src.name:
                found.name = src.name
            logger.info("loaded transform %s (%s)", found.uid, src.key)
            return found
        family = list(
            session.scalars(
                select(Transform)
                .where(Transform.key == src.key, Transform.type == src.type)
                .order_by(Transform.is_latest.desc(), Transform.created_at.desc())
            )
        )
        if family:
            stem = family[0].uid[: Transform._len_stem_uid]
            siblings = list(
                session.scalars(
                    select(Transform.version).where(
                        Transform.uid.startswith(stem, autoescape=True)
                    )
                )
            )
            number = _next_version(siblings)
            taken = set(
                session.scalars(
                    select(Transform.uid).where(
                        Transform.uid.startswith(stem, autoescape=True)
                    )
                )
            )
            while stem + hash_to_uid(str(number), 4) in taken:
                number += 1
            logger.warning(
                "source of %s changed: new version %s of transform family %s",
                src.key,
                number,
                stem,
            )
        else:
            stem, number = base62(Transform._len_stem_uid), 1
        uid = stem + hash_to_uid(str(number), 4)
        transform = _insert_transform(session, uid, str(number), src)
        logger.info("saved transform %s (%s, version %s)", uid, src.key, number)
        return transform  # type: ignore[no-any-return]


def _check_stem_uid(stem_uid: str, version: Any) -> None:
    if len(stem_uid) != 12 or any(c not in BASE62 for c in stem_uid):
        raise ValueError(
            f"ln.settings.transform.stem_uid must be 12 base62 characters, got "
            f"{stem_uid!r}."
        )
    if not isinstance(version, str) or not version:
        raise ValueError(
            "Set ln.settings.transform.version (a string such as '1') together "
            "with ln.settings.transform.stem_uid."
        )


def _transform_for_pinned_uid(
    ctx: dbs.DBContext, src: _Source, stem_uid: str, version: str
) -> Transform:
    """The transform with the uid pinned by ``ln.settings.transform``."""
    from lamin_sa.models.core import Transform

    _check_stem_uid(stem_uid, version)
    uid = stem_uid + hash_to_uid(version, 4)
    with dbs.write_transaction(ctx) as session:
        _lock_key(session, uid)
        found = session.scalars(select(Transform).where(Transform.uid == uid)).first()
        if found is None:
            return _insert_transform(session, uid, version, src)  # type: ignore[no-any-return]
        if (found.key, found.name) != (src.key, src.name):
            logger.info("updating key/name of transform %s to %s", uid, src.key)
            found.key, found.name = src.key, src.name
        if found.reference_type in (None, SOURCE_HASH):
            if found.reference not in (None, src.hash):
                logger.warning(
                    "the source of transform %s changed; consider a new version: "
                    "ln.settings.transform.version = ...",
                    uid,
                )
            found.reference, found.reference_type = src.hash, SOURCE_HASH
        return found  # type: ignore[no-any-return]


def _pipeline_transform(ctx: dbs.DBContext, transform: Transform) -> Transform:
    if transform.type in ("notebook", "script"):
        raise ValueError(
            "Use ln.track() without passing transform in a notebook or script: "
            "the transform is identified from the file."
        )
    if transform.id is None:
        transform.save()
    return transform


# ---- runs and params ------------------------------------------------------------


def _get_run(
    ctx: dbs.DBContext, transform: Transform, new_run: bool, is_notebook: bool
) -> Run:
    from lamin_sa.models.core import Run

    with dbs.write_transaction(ctx) as session:
        run = None
        if not new_run and ctx.user_id is not None:
            run = session.scalars(
                select(Run)
                .where(Run.transform_id == transform.id)
                .where(Run.created_by_id == ctx.user_id)
                .order_by(Run.started_at.desc(), Run.id.desc())
                .limit(1)
            ).first()
        if run is not None:
            run.started_at = utcnow()
            run.finished_at = None
            logger.info("re-using run %s of transform %s", run.uid, transform.uid)
        else:
            run = Run(transform=transform)
            session.add(run)
            logger.info("created run %s of transform %s", run.uid, transform.uid)
        if is_notebook:
            run.is_consecutive = True
        session.flush()
        return run


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def set_params(run: Run, params: dict[str, Any]) -> None:
    """Store ``params`` as Param/ParamValue records linked to ``run``.

    Params are created with ``dtype`` = the Python type name of the value
    (``int``, ``float``, ``str``, ``bool``, ``list``, ``dict``); values are
    get-or-created per (param, value). A run gets one value per param: linking
    a param again replaces the run's previous value.

    Args:
        run: A saved run.
        params: JSON-serializable values by param name.
    """
    from lamin_sa.models.core import Param, ParamValue, run_paramvalue

    if not params:
        return
    for name, value in params.items():
        try:
            json.dumps(value)
        except (TypeError, ValueError) as e:
            raise ValueError(
                f"Param {name!r} must be JSON-serializable, got {type(value).__name__}."
            ) from e
    ctx = dbs.current()
    with dbs.write_transaction(ctx) as session:
        stored = {
            p.name: p
            for p in session.scalars(
                select(Param).where(Param.name.in_(list(params))).order_by(Param.id)
            )
        }
        for name, value in params.items():
            if name not in stored:
                stored[name] = Param(name=name, dtype=type(value).__name__)
                session.add(stored[name])
            elif stored[name].dtype != type(value).__name__:
                logger.warning(
                    "param %r has dtype %s, got a %s value",
                    name,
                    stored[name].dtype,
                    type(value).__name__,
                )
        session.flush()
        param_ids = [stored[n].id for n in params]
        values: dict[tuple[int, str], Any] = {}
        for pv in session.scalars(
            select(ParamValue).where(ParamValue.param_id.in_(param_ids))
        ):
            values.setdefault((pv.param_id, _canonical(pv.value)), pv)
        chosen = []
        for name, value in params.items():
            key = (stored[name].id, _canonical(value))
            if key not in values:
                values[key] = ParamValue(param_id=key[0], value=value)
                session.add(values[key])
            chosen.append(values[key])
        session.flush()
        # one value per param and run: drop the run's old values of these params
        old = select(ParamValue.id).where(ParamValue.param_id.in_(param_ids))
        session.execute(
            delete(run_paramvalue).where(
                run_paramvalue.c.run_id == run.id,
                run_paramvalue.c.paramvalue_id.in_(old),
            )
        )
        session.execute(
            insert(run_paramvalue),
            [
                {"run_id": run.id, "paramvalue_id": pv_id}
                for pv_id in dict.fromkeys(pv.id for pv in chosen)
            ],
        )
        if run in session:
            session.expire(run, ["param_values"])


# ---- pip freeze -----------------------------------------------------------------

_pip_lock = threading.Lock()
_pip_freeze_text: str | None = None


def pip_freeze() -> str | None:
    """``pip freeze`` of this interpreter, run once per process (None on failure)."""
    global _pip_freeze_text
    with _pip_lock:
        if _pip_freeze_text is None:
            try:
                out = subprocess.run(
                    [sys.executable, "-m", "pip", "freeze"],
                    capture_output=True,
                    text=True,
                    timeout=300,
                    check=True,
                )
                _pip_freeze_text = out.stdout
            except (OSError, subprocess.SubprocessError) as e:
                logger.warning("pip freeze failed (%s): no environment saved", e)
                _pip_freeze_text = ""
    return _pip_freeze_text or None


def _env_file(run: Run) -> Path:
    from lamin_sa.config import switches as settings

    return settings.cache_dir / f"run_env_pip_{run.uid}.txt"


_env_file_lock = threading.Lock()


def _write_env_file(path: Path) -> None:
    text = pip_freeze()
    with _env_file_lock:
        if text is not None and not path.exists():
            from lamin_sa.config import atomic_write

            atomic_write(path, text)


def _start_env_snapshot(run: Run) -> None:
    # pip freeze takes a second or two: do it beside the user's code
    threading.Thread(
        target=_write_env_file, args=(_env_file(run),), daemon=True
    ).start()


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
            Jupyter, VS Code's notebook path or ``$LAMIN_SA_NOTEBOOK_PATH``).

    Raises:
        TransformNotFound: the calling file cannot be identified.
        ValueError: a script/notebook transform passed as ``transform``, or
            an invalid ``ln.settings.transform``.
    """
    global _tracked
    from lamin_sa.config import switches as settings

    ctx = dbs.current()
    file: Path | None = None
    if transform is not None:
        transform = _pipeline_transform(ctx, transform)
        is_notebook = False
    else:
        if path is not None:
            file = Path(path)
        else:
            shell = _ipython_kernel()
            file = _notebook_path(shell) if shell is not None else _caller_path()
        src = _describe_source(file)
        file = src.path
        is_notebook = src.type == "notebook"
        pinned = settings.transform
        if pinned.stem_uid is not None:
            transform = _transform_for_pinned_uid(
                ctx, src, pinned.stem_uid, pinned.version
            )
        else:
            transform = _transform_for_source(ctx, src)
    if new_run is None:
        new_run = not is_notebook
    run = _get_run(ctx, transform, new_run, is_notebook)
    ctx.run, ctx.run_id = run, run.id
    _tracked = _Tracked(ctx, transform, run, file, is_notebook)
    if params:
        set_params(run, params)
    if file is not None:
        _start_env_snapshot(run)
    logger.info(
        "tracking %s %r: transform %s, run %s",
        transform.type,
        transform.key or transform.name,
        transform.uid,
        run.uid,
    )


# ---- finish ---------------------------------------------------------------------


@contextmanager
def _without_run(ctx: dbs.DBContext) -> Iterator[None]:
    """Records made inside the block are not outputs of the tracked run."""
    saved = ctx.run, ctx.run_id
    ctx.run, ctx.run_id = None, None
    try:
        yield
    finally:
        ctx.run, ctx.run_id = saved


def _hidden_artifact(path: Path, description: str) -> Artifact:
    """A hidden artifact of ``path``; a stored one with its hash is re-used."""
    from lamin_sa.models.core import Artifact
    from lamin_sa.storage.hashing import hash_file

    hash_ = hash_file(path)[0]
    existing = Artifact.filter(hash=hash_, visibility__in=[0, 1]).first()
    if existing is not None:
        return existing  # type: ignore[no-any-return]
    artifact = Artifact(
        path, description=description, visibility=0, skip_check_exists=True
    )
    return artifact.save()


def _stripped_notebook(path: Path, target: Path) -> Path:
    """Write the notebook's source to ``target``: no outputs, no run metadata.

    Kept: cells (type, id, source, tags), the kernelspec and nbformat versions,
    so that executing a notebook never changes its stored source.
    """
    notebook = _read_notebook(path)
    cells = []
    for cell in notebook.get("cells", []):
        clean: dict[str, Any] = {"cell_type": cell.get("cell_type", "code")}
        if "id" in cell:
            clean["id"] = cell["id"]
        tags = (cell.get("metadata") or {}).get("tags")
        clean["metadata"] = {"tags": tags} if tags else {}
        clean["source"] = cell.get("source", "")
        if clean["cell_type"] == "code":
            clean["execution_count"] = None
            clean["outputs"] = []
        cells.append(clean)
    metadata = notebook.get("metadata") or {}
    out = {
        "cells": cells,
        "metadata": {k: metadata[k] for k in ("kernelspec",) if k in metadata},
        "nbformat": notebook.get("nbformat", 4),
        "nbformat_minor": notebook.get("nbformat_minor", 5),
    }
    target.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    return target


def _save_source_code(transform: Transform, path: Path) -> Artifact:
    from lamin_sa.config import switches as settings

    description = f"Source of transform {transform.uid}"
    current = transform.source_code
    if path.suffix == ".ipynb":
        folder = settings.cache_dir / f"source_{transform.uid}"
        folder.mkdir(parents=True, exist_ok=True)
        try:
            file = _stripped_notebook(path, folder / path.name)
            artifact = _hidden_artifact(file, description)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    else:
        artifact = _hidden_artifact(path, description)
    if current is not None and current.id != artifact.id:
        logger.warning(
            "source code of transform %s changed since it was saved; stored the "
            "new source as %s",
            transform.uid,
            artifact.uid,
        )
    return artifact


def _save_environment(run: Run) -> Artifact | None:
    file = _env_file(run)
    _write_env_file(file)
    if not file.exists():
        return None
    try:
        return _hidden_artifact(file, "requirements.txt")
    finally:
        file.unlink(missing_ok=True)


def _save_report(run: Run, path: Path) -> Artifact | None:
    """An HTML report of the notebook (needs nbconvert), else None."""
    from lamin_sa.config import switches as settings

    try:
        from nbconvert import HTMLExporter
    except ImportError:
        logger.info("install nbconvert to save an HTML report of the notebook")
        return None
    try:
        html, _ = HTMLExporter().from_filename(str(path))
    except Exception as e:  # a notebook nbconvert cannot render
        logger.warning("could not render %s as HTML: %s", path.name, e)
        return None
    file = settings.cache_dir / f"report_{run.uid}.html"
    file.write_text(html, encoding="utf-8")
    try:
        return _hidden_artifact(file, f"Report of run {run.uid}")
    finally:
        file.unlink(missing_ok=True)


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
            source = _save_source_code(transform, path)
            if path.suffix == ".ipynb":
                report = _save_report(run, path)
        if environment:
            env = _save_environment(run)
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
    (``transform.source_code``; notebooks without outputs), ``pip freeze`` a
    hidden ``requirements.txt`` artifact (``run.environment``, shared by runs
    with the same environment), a notebook's HTML rendering (when nbconvert is
    installed) ``run.report`` and ``transform.latest_report``; ``finished_at``
    is set. These artifacts are not outputs of the run.

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
    logger.info("finished run %s of transform %s", state.run.uid, state.transform.uid)


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

    Raises:
        TransformNotFound: no tracked transform has this key and source.
    """
    from lamin_sa.models.core import Run

    ctx = dbs.current()
    src = _describe_source(Path(path))
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
    has_env = _env_file(run).exists()
    _finish_run(ctx, transform, run, src.path, environment=has_env)
    logger.info("saved source of transform %s (%s)", transform.uid, src.key)
    return transform
