"""Parsed tables cached as parquet, keyed by entity, source, version and checksum.

Files live in ``<cache dir>/ontologies/parsed/``: ``<key>.terms.parquet``,
``<key>.obsolete.parquet`` and ``<key>.json`` (meta and parse issues). A changed
file has another checksum, hence another key: stale entries are never read.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import asdict
from pathlib import Path

from lamin_sa.ontology.entities import EntitySpec
from lamin_sa.ontology.table import OntologyTable, ParseIssue

logger = logging.getLogger(__name__)

#: bump when the canonical table of any parser changes.
CACHE_FORMAT = 4
_UNSAFE = re.compile(r"[^0-9A-Za-z._-]+")


def parsed_cache_dir() -> Path:
    """Where parsed tables are kept."""
    from lamin_sa.config import default_cache_dir

    return default_cache_dir() / "ontologies" / "parsed"


def cache_key(
    entity: str,
    source: str,
    organism: str,
    version: str,
    checksum: str,
    fmt: str,
    shape: str = "",
) -> str:
    """The file stem of one parsed table (safe characters only).

    ``shape`` describes the entity's filter (prefixes, part_of): tables parsed
    for differently shaped entities never share an entry.
    """
    import hashlib

    digest = hashlib.sha256(shape.encode()).hexdigest()[:8]
    parts = (
        entity,
        source,
        organism,
        version,
        fmt,
        checksum[:16],
        digest,
        f"v{CACHE_FORMAT}",
    )
    return "__".join(_UNSAFE.sub("-", p) for p in parts)


def read_cached(key: str, spec: EntitySpec) -> OntologyTable | None:
    """The cached table under ``key``, or None (absent or unreadable)."""
    root = parsed_cache_dir()
    meta_path = root / f"{key}.json"
    if not meta_path.is_file():
        return None
    try:
        import pyarrow.parquet as pq

        info = json.loads(meta_path.read_text())
        terms_tab = pq.read_table(root / f"{key}.terms.parquet")
        obsolete = pq.read_table(root / f"{key}.obsolete.parquet").to_pandas()
    except (OSError, ValueError) as exc:
        logger.warning("ignoring unreadable cached table %s (%s)", key, exc)
        return None
    if "parents" in terms_tab.column_names:
        parents = terms_tab.column("parents").to_pylist()
        terms = terms_tab.drop_columns(["parents"]).to_pandas()
        terms["parents"] = [p if p is not None else [] for p in parents]
        terms = terms[list(spec.columns)]
    else:
        terms = terms_tab.to_pandas()
    issues = [ParseIssue(**i) for i in info.get("issues", [])]
    return OntologyTable(spec, terms, obsolete, issues, info.get("meta", {}))


def write_cached(key: str, table: OntologyTable) -> None:
    """Store ``table`` under ``key`` (atomically; failures only log)."""
    root = parsed_cache_dir()
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq

        root.mkdir(parents=True, exist_ok=True)
        suffix = f".{os.getpid()}.tmp"
        for part, frame in (("terms", table.terms), ("obsolete", table.obsolete)):
            final = root / f"{key}.{part}.parquet"
            arrow = pa.Table.from_pandas(frame, preserve_index=False)
            pq.write_table(arrow, str(final) + suffix)
            os.replace(str(final) + suffix, final)
        info = {"meta": table.meta, "issues": [asdict(i) for i in table.issues]}
        meta_path = root / f"{key}.json"
        Path(str(meta_path) + suffix).write_text(json.dumps(info, default=str))
        os.replace(str(meta_path) + suffix, meta_path)
    except (OSError, ValueError) as exc:  # a cache must never break parsing
        logger.warning("could not cache the parsed table %s (%s)", key, exc)


def clear_cache() -> int:
    """Delete every cached parsed table; returns how many files were removed."""
    from lamin_sa.ontology.load import _MEMO

    _MEMO.clear()
    root = parsed_cache_dir()
    n = 0
    if root.is_dir():
        for path in root.iterdir():
            path.unlink(missing_ok=True)
            n += 1
    return n
