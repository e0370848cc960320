"""Progress bars for long work (large copies and uploads, big folders).

Bars go to stderr through tqdm, only for work above a size or file count, and not
when ``ln.settings.verbosity`` is ``"error"``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

ProgressCallback = Callable[[int, "int | None"], None]

MIN_BYTES = 64 * 2**20
MIN_FILES = 500


def _tqdm_class() -> type:
    """Tqdm's widget bar in Jupyter when ipywidgets is installed, else text.

    ``tqdm.auto`` in a kernel without ipywidgets warns "IProgress not found"
    and degrades; the plain text bar works everywhere (stderr).
    """
    import importlib.util

    from lamin_sa.display import in_jupyter

    if in_jupyter() and importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.notebook import tqdm as notebook_tqdm

        return notebook_tqdm  # type: ignore[no-any-return]
    from tqdm.std import tqdm as text_tqdm

    return text_tqdm  # type: ignore[no-any-return]


def progress_bar(
    total: int | None, desc: str, *, unit: str = "B"
) -> ProgressCallback | None:
    """A ``progress(done, total)`` callback drawing a bar, or None for small work.

    Args:
        total: Bytes (``unit="B"``) or items to process; None if unknown.
        desc: What is being done, e.g. ``"uploading data.h5ad"``.
        unit: ``"B"`` for bytes (scaled to KB/MB/GB), else an item name.
    """
    threshold = MIN_BYTES if unit == "B" else MIN_FILES
    if total is None or total < threshold:
        return None
    # lamin_sa.progress inherits the level ln.settings.verbosity sets on lamin_sa
    if not logging.getLogger(__name__).isEnabledFor(logging.WARNING):
        return None
    tqdm = _tqdm_class()
    bar = tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=unit == "B",
        unit_divisor=1024 if unit == "B" else 1000,
        leave=False,
    )

    def update(done: int, _total: int | None = None) -> None:
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return update
