"""The compute environment of a run: the installed distributions.

Read with :mod:`importlib.metadata` (no ``pip`` subprocess), so it works in
virtual environments made without pip (``uv venv``, ``python -m venv
--without-pip``) and takes milliseconds. The snapshot is written to the cache
at ``ln.track()`` (so that ``lamin-sa save`` in another process can attach the
environment the run had) and stored by ``ln.finish()`` as a hidden
``requirements.txt`` artifact, shared by runs with the same environment.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from lamin_sa.lineage.source import hidden_artifact

if TYPE_CHECKING:
    from lamin_sa.models.core import Artifact, Run


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_distributions() -> dict[str, str]:
    """Installed distributions of this interpreter: name → version.

    Names as the distributions spell them (``SQLAlchemy``, as ``pip freeze``
    shows them), sorted case-insensitively. The first distribution on
    ``sys.path`` wins when a name is installed twice (what ``import`` sees).

    Example:
        >>> "SQLAlchemy" in installed_distributions()
        True
    """
    found: dict[str, tuple[str, str]] = {}
    for dist in metadata.distributions(path=sys.path):
        name = dist.metadata["Name"] if dist.metadata else None
        if not name:
            continue
        found.setdefault(_normalized(name), (name, dist.version))
    return dict(found[key] for key in sorted(found))


def requirements_text() -> str:
    """The environment as ``requirements.txt`` lines (``name==version``).

    Example:
        >>> requirements_text().splitlines()[0]  # doctest: +SKIP
        'alembic==1.18.5'
    """
    return "".join(f"{n}=={v}\n" for n, v in installed_distributions().items())


def env_file(run: Run) -> Path:
    """Where the environment snapshot of ``run`` waits for ``ln.finish()``."""
    from lamin_sa.config import switches as settings

    return settings.cache_dir / f"run_env_{run.uid}.txt"


def write_env_file(path: Path) -> None:
    """Write the snapshot once, atomically (concurrent writers are fine)."""
    if path.exists():
        return
    from lamin_sa.config import atomic_write

    atomic_write(path, requirements_text())


def snapshot_environment(run: Run) -> None:
    """Snapshot the environment of ``run`` (called by ``ln.track()``)."""
    write_env_file(env_file(run))


def save_environment(run: Run) -> Artifact | None:
    """Store the environment of ``run`` as a hidden ``requirements.txt``."""
    file = env_file(run)
    write_env_file(file)
    try:
        return hidden_artifact(file, "requirements.txt")
    finally:
        file.unlink(missing_ok=True)
