"""What every parser provides, reading (gzipped) files, and format sniffing."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import ClassVar

from lamin_sa.ontology.entities import EntitySpec
from lamin_sa.ontology.table import OntologyTable

GZIP_MAGIC = b"\x1f\x8b"
#: bytes of decompressed text a parser sees when sniffing.
HEAD_BYTES = 8192


def read_bytes(path: str | Path) -> bytes:
    """The file's bytes, gunzipped when it is gzip-compressed."""
    data = Path(path).read_bytes()
    if data[:2] == GZIP_MAGIC:
        # wbits=47: gzip or zlib header, detected; faster than gzip.decompress
        return zlib.decompress(data, 47)
    return data


def read_text(path: str | Path) -> str:
    """The file as text (UTF-8, undecodable bytes replaced)."""
    return read_bytes(path).decode("utf-8", errors="replace")


def read_head(path: str | Path, size: int = HEAD_BYTES) -> bytes:
    """The first ``size`` decompressed bytes of the file."""
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == GZIP_MAGIC:
        with gzip.open(path, "rb") as fh:
            return fh.read(size)
    with open(path, "rb") as fh:
        return fh.read(size)


def plain_name(path: str | Path) -> str:
    """The file name, lower-cased, without a ``.gz`` suffix."""
    name = Path(path).name.lower()
    return name[:-3] if name.endswith(".gz") else name


class Parser:
    """One file format → :class:`~lamin_sa.ontology.table.OntologyTable`.

    Subclasses set ``format`` and implement :meth:`can_parse` (sniffing the head
    of the file) and :meth:`parse`.
    """

    format: ClassVar[str] = ""
    #: the extras a parser needs that are not core dependencies.
    requires: ClassVar[tuple[str, ...]] = ()

    def can_parse(self, head: bytes, name: str) -> bool:
        """Whether a file with this decompressed head and plain name is readable."""
        raise NotImplementedError

    def parse(
        self,
        paths: list[Path],
        spec: EntitySpec,
        *,
        source: str | None = None,
        organism: str | None = None,
    ) -> OntologyTable:
        """Parse the file(s) of one source into the entity's canonical table."""
        raise NotImplementedError
