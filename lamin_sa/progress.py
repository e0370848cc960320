"""Progress bars for long work.

Large copies, uploads and downloads, big folders, the silent finishing steps of
uploads, bulk saves and ontology imports. Bars go to stderr through tqdm, only
for work above a size, file or record count, and not when
``ln.settings.verbosity`` is ``"error"``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

ProgressCallback = Callable[[int, "int | None"], None]

MIN_BYTES = 64 * 2**20
MIN_FILES = 500
#: records saved at once, or ontology terms imported
MIN_ITEMS = 5000


def _threshold(unit: str) -> int:
    return {"B": MIN_BYTES, "file": MIN_FILES}.get(unit, MIN_ITEMS)


def _enabled() -> bool:
    # lamin_sa.progress inherits the level ln.settings.verbosity sets on lamin_sa
    return logging.getLogger(__name__).isEnabledFor(logging.WARNING)


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
        unit: ``"B"`` for bytes (scaled to KB/MB/GB), ``"file"`` (from
            :data:`MIN_FILES` on), else an item name (from :data:`MIN_ITEMS`).

    Example:
        >>> update = progress_bar(10_000, "saving", unit="record")
        >>> update(10_000)  # doctest: +SKIP
    """
    if total is None or total < _threshold(unit) or not _enabled():
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


def folder_progress(
    n_files: int, n_bytes: int, desc: str
) -> Callable[[int, int], None] | None:
    """A ``progress(files_done, bytes_done)`` callback for work on a folder.

    Many files are counted by file (5,000 small files are slow, whatever their
    size); a few large ones by bytes; a small folder gets no bar (None).

    Example:
        >>> update = folder_progress(5000, 2**20, "uploading images/")
        >>> update(5000, 2**20)  # doctest: +SKIP
    """
    by_files = progress_bar(n_files, desc, unit="file")
    if by_files is not None:
        return lambda files, _bytes: by_files(files)
    by_bytes = progress_bar(n_bytes, desc)
    if by_bytes is not None:
        return lambda _files, nbytes: by_bytes(nbytes)
    return None


class Steps:
    """A bar over the named steps of one long operation (``advance()`` each).

    The current step shows in the description, so a step that reports nothing
    itself (an S3 server-side copy, completing a multipart upload, linking
    parents) is still visibly under way.
    """

    def __init__(self, desc: str, names: list[str]) -> None:
        self.desc, self.names, self.i = desc, names, 0
        self.bar: Any = _tqdm_class()(
            total=len(names),
            desc=self._label(),
            unit="step",
            leave=False,
            mininterval=0,  # a few updates, each worth showing
            bar_format="{desc} [{n_fmt}/{total_fmt} steps, {elapsed}]",
        )

    def _label(self) -> str:
        return f"{self.desc}: {self.names[min(self.i, len(self.names) - 1)]}"

    def advance(self) -> None:
        """Mark the current step done and show the next one."""
        self.i += 1
        self.bar.set_description_str(self._label(), refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.update(len(self.names) - self.bar.n)
        self.bar.close()


class _NoSteps:
    def advance(self) -> None:
        pass


@contextlib.contextmanager
def steps(
    desc: str, names: list[str], *, work: int | None, unit: str = "B"
) -> Iterator[Steps | _NoSteps]:
    """Show the steps of an operation with ``work`` bytes/files/items, if large.

    Args:
        desc: What is being done, e.g. ``"finishing upload of data.h5ad"``.
        names: The steps in order; call ``advance()`` after each.
        work: Its size, compared with the threshold of ``unit``; None for an
            operation known to be long whose size is not known yet.
        unit: ``"B"``, ``"file"``, or an item name (records, terms).

    Example:
        >>> with steps("importing cl", ["terms", "parent links"], work=9000,
        ...            unit="term") as bar:
        ...     bar.advance()  # doctest: +SKIP
    """
    if (work is not None and work < _threshold(unit)) or not _enabled():
        yield _NoSteps()
        return
    bar = Steps(desc, names)
    try:
        yield bar
    finally:
        bar.close()
