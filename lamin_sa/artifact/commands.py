"""What the ``lamin-sa save/get/ls/cache clear`` commands call (one function each)."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


def save_path(
    path: str | os.PathLike[str],
    key: str | None = None,
    description: str | None = None,
) -> Any:
    """Register a file or folder (local or ``s3://``) as an artifact and save it.

    Without ``key`` and ``description`` the file name becomes the description.

    Returns:
        The saved (or already stored) artifact.
    """
    from lamin_sa.models.core import Artifact

    if key is None and description is None:
        description = os.fspath(path).rstrip("/").rsplit("/", 1)[-1]
    return Artifact(path, key=key, description=description).save()


def get_path(uid_or_key: str) -> Path:
    """The local (cached) path of an artifact given its uid, stem uid or key.

    A key or a stem uid (the first 16 characters) gives the latest version of
    its family; a uid prefix works as in ``Artifact.get``.

    Raises:
        NoResultFound: No artifact has that key or uid.
    """
    from lamin_sa.models.core import Artifact

    if Artifact.filter(key=uid_or_key).exists():
        artifact = Artifact.get(key=uid_or_key)
    elif (
        len(uid_or_key) == Artifact._len_stem_uid
        and Artifact.filter(uid__startswith=uid_or_key, is_latest=True).exists()
    ):
        # a stem uid names the family: its latest version
        artifact = Artifact.filter(uid__startswith=uid_or_key, is_latest=True).one()
    else:
        artifact = Artifact.get(uid_or_key)
    return artifact.cache()


def list_artifacts(key_prefix: str | None = None) -> list[dict[str, Any]]:
    """Visible artifacts (latest versions), optionally under a key prefix.

    Returns:
        One dict per artifact: uid, key, description, suffix, size, version.
    """
    from lamin_sa.models.core import Artifact

    qs = Artifact.filter(is_latest=True)
    if key_prefix:
        qs = qs.filter(key__startswith=key_prefix)
    fields = ("uid", "key", "description", "suffix", "size", "version")
    return [{f: getattr(a, f) for f in fields} for a in qs.order_by("id")]


def clear_cache() -> int:
    """Empty ``settings.cache_dir``; return the number of files deleted.

    Only a folder lamin-sa made (marked by :data:`~lamin_sa.config.CACHE_MARKER`)
    is emptied: a cache pointed at a folder with other files is refused.

    Example:
        >>> clear_cache()  # doctest: +SKIP
        12
    """
    from lamin_sa.config import CACHE_MARKER, is_own_cache
    from lamin_sa.config import switches as settings
    from lamin_sa.errors import LaminSAError

    root = settings.cache_dir
    if not is_own_cache(root):
        raise LaminSAError(
            f"{root} is not a folder lamin-sa made (no {CACHE_MARKER} file): not "
            "clearing it; point LAMIN_SA_CACHE_DIR or ln.settings.cache_dir to a "
            "folder of its own."
        )
    n = sum(
        1
        for folder, _, files in os.walk(root)
        for name in files
        if not (Path(folder) == root and name == CACHE_MARKER)
    )
    for child in root.iterdir():
        if child.name == CACHE_MARKER:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
    logger.info("cleared %d files from %s", n, root)
    return n
