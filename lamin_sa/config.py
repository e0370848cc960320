"""Where lamin-sa keeps files on this machine (no settings objects, no I/O)."""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """The cache folder: ``$LAMIN_SA_CACHE_DIR`` or the platform's user cache dir."""
    env = os.environ.get("LAMIN_SA_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("lamin-sa"))
