"""The source manifest (``ontologies/sources.yaml``) and finding a source's files.

Resolution, in order: an explicit file or URL; ``$LAMIN_SA_ONTOLOGY_DIR``; the
releases bundled in the ``cellxgene-ontology-guide`` package when it is
installed; lamin-sa's cache; a download (the entry's ``url``, else
``$LAMIN_SA_ONTOLOGY_MIRROR/<file>``) with a progress bar and a verified sha256.

Example:
    >>> from lamin_sa.ontology.sources import resolve
    >>> found = resolve("CellType")  # doctest: +SKIP
    >>> found.name, found.version, found.origin  # doctest: +SKIP
    ('cl', '2026-03-26', 'dir')
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lamin_sa.errors import LaminSAError, ValidationError
from lamin_sa.ontology.entities import entity_spec

logger = logging.getLogger(__name__)

ENV_DIR = "LAMIN_SA_ONTOLOGY_DIR"
ENV_MIRROR = "LAMIN_SA_ONTOLOGY_MIRROR"
PACKAGE = "cellxgene_ontology_guide"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class SourceSpec:
    """One manifest entry: a versioned release of a source for an entity.

    Attributes:
        entity: ``"CellType"``, ``"Gene"``, ...
        name: The source key (``"cl"``, ``"ensembl"``).
        organism: ``"all"`` or an organism name.
        version: The release.
        format: The parser format (``"obo"``, ``"cxg-json"``, ...).
        files: File names, looked up in the ontology dir and the cache.
        sha256: The sha256 of each file, as shipped.
        package: The same content inside cellxgene-ontology-guide's ``data/``.
        url: Download URLs, one per file (empty: use the mirror).
        description: The source's long name.
        website: Its home page.
    """

    entity: str
    name: str
    organism: str
    version: str
    format: str
    files: tuple[str, ...]
    sha256: tuple[str, ...] = ()
    package: str | None = None
    url: tuple[str, ...] = ()
    description: str = ""
    website: str = ""


@dataclass(frozen=True)
class ResolvedSource:
    """A source whose files are on this machine.

    Attributes:
        spec: The manifest entry (or an ad-hoc one for an explicit file).
        paths: The local files, in the order of ``spec.files``.
        checksum: sha256 of the files (joined with ``+`` if several).
        origin: ``"file"``, ``"dir"``, ``"package"``, ``"cache"`` or
            ``"download"``.
        format: The format to parse with (the package's JSON for ``"package"``).
    """

    spec: SourceSpec
    paths: tuple[Path, ...]
    checksum: str
    origin: str
    format: str = field(default="")

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def organism(self) -> str:
        return self.spec.organism

    @property
    def entity(self) -> str:
        return self.spec.entity


def manifest_path() -> Path:
    """``sources.yaml``: package data in a wheel, ``ontologies/`` in a checkout."""
    from importlib.resources import files

    packaged = files("lamin_sa") / "_ontologies" / "sources.yaml"
    if packaged.is_file():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / "ontologies" / "sources.yaml"
    if checkout.is_file():
        return checkout
    raise LaminSAError("lamin-sa's ontologies/sources.yaml is missing; reinstall.")


@functools.lru_cache(maxsize=4)
def _load_manifest(path: str) -> tuple[SourceSpec, ...]:
    import yaml

    data = yaml.safe_load(Path(path).read_text())
    out: list[SourceSpec] = []
    for entity, entries in (data.get("entities") or {}).items():
        for e in entries:
            out.append(
                SourceSpec(
                    entity=entity,
                    name=str(e["name"]),
                    organism=str(e.get("organism", "all")),
                    version=str(e["version"]),
                    format=str(e["format"]),
                    files=tuple(e.get("files") or ()),
                    sha256=tuple(str(h) for h in e.get("sha256") or ()),
                    package=e.get("package"),
                    url=tuple(e.get("url") or ()),
                    description=str(e.get("description", "")),
                    website=str(e.get("website", "")),
                )
            )
    return tuple(out)


def manifest(path: str | Path | None = None) -> tuple[SourceSpec, ...]:
    """Every entry of the manifest, in file order."""
    return _load_manifest(str(path or manifest_path()))


def find_specs(
    entity: str,
    *,
    source: str | None = None,
    version: str | None = None,
    organism: str | None = None,
    format: str | None = None,
) -> list[SourceSpec]:
    """Manifest entries of ``entity`` matching the filters, default first.

    An ``organism`` matches entries for that organism and, after them, entries
    for ``"all"``.
    """
    name = entity_spec(entity).name
    rows = [s for s in manifest() if s.entity == name]
    if source is not None:
        rows = [s for s in rows if s.name == source.lower()]
    if version is not None:
        rows = [s for s in rows if s.version == str(version)]
    if format is not None:
        rows = [s for s in rows if s.format == format]
    if organism is not None and organism != "all":
        org = organism.lower()
        rows = [s for s in rows if s.organism == org] + [
            s for s in rows if s.organism == "all"
        ]
    return rows


def sha256_of(path: Path) -> str:
    """The sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def raw_cache_dir() -> Path:
    """Where downloaded source files are kept."""
    from lamin_sa.config import default_cache_dir

    return default_cache_dir() / "ontologies" / "raw"


def _checksum(paths: tuple[Path, ...]) -> str:
    return "+".join(sha256_of(p) for p in paths)


def _verified(spec: SourceSpec, paths: tuple[Path, ...], origin: str) -> str:
    """The checksum of ``paths``; warns when it differs from the manifest."""
    sums = [sha256_of(p) for p in paths]
    if spec.sha256 and origin != "package" and tuple(sums) != spec.sha256:
        logger.warning(
            "%s differs from the %s %s release in the manifest (sha256); "
            "recording the file's own checksum",
            ", ".join(p.name for p in paths),
            spec.name,
            spec.version,
        )
    return "+".join(sums)


def _from_dir(spec: SourceSpec) -> tuple[Path, ...] | None:
    root = os.environ.get(ENV_DIR)
    if not root or not spec.files:
        return None
    paths = tuple(Path(root).expanduser() / f for f in spec.files)
    return paths if all(p.is_file() for p in paths) else None


def _from_package(spec: SourceSpec) -> tuple[Path, ...] | None:
    if not spec.package:
        return None
    import importlib.util

    found = importlib.util.find_spec(PACKAGE)
    if found is None or not found.submodule_search_locations:
        return None
    for location in found.submodule_search_locations:
        path = Path(location) / "data" / spec.package
        if path.is_file():
            return (path,)
    return None


def _from_cache(spec: SourceSpec) -> tuple[Path, ...] | None:
    if not spec.files:
        return None
    root = raw_cache_dir()
    paths = tuple(root / f for f in spec.files)
    if not all(p.is_file() for p in paths):
        return None
    if spec.sha256 and tuple(sha256_of(p) for p in paths) != spec.sha256:
        logger.warning("cached %s fails its checksum; downloading again", spec.name)
        return None
    return paths


def download_urls(spec: SourceSpec) -> list[str]:
    """The URL of each file: the manifest's, else ``$LAMIN_SA_ONTOLOGY_MIRROR``."""
    if spec.url:
        return list(spec.url)
    mirror = os.environ.get(ENV_MIRROR)
    if not mirror:
        return []
    base = mirror if mirror.endswith("/") else mirror + "/"
    return [urllib.parse.urljoin(base, urllib.parse.quote(f)) for f in spec.files]


def download(url: str, dest: Path, *, sha256: str | None = None) -> Path:
    """Download ``url`` (http, https or file) to ``dest``, verifying ``sha256``.

    The bytes go to a temporary file beside ``dest`` that replaces it only once
    complete and verified, so an interrupted or corrupt download leaves nothing.
    A progress bar shows for large files.

    Raises:
        LaminSAError: The download failed or its checksum does not match.
    """
    from lamin_sa.progress import progress_bar

    dest.parent.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(
        prefix=dest.name + ".", suffix=".part", dir=dest.parent
    )
    tmp = Path(tmp_name)
    try:
        with (
            os.fdopen(fd, "wb") as out,
            urllib.request.urlopen(url, timeout=60) as resp,
        ):
            length = resp.headers.get("Content-Length") if resp.headers else None
            total = int(length) if length and length.isdigit() else None
            bar = progress_bar(total, f"downloading {dest.name}")
            done = 0
            while chunk := resp.read(_CHUNK):
                out.write(chunk)
                h.update(chunk)
                done += len(chunk)
                if bar is not None:
                    bar(done, total)
        if sha256 and h.hexdigest() != sha256:
            raise LaminSAError(
                f"{url} has sha256 {h.hexdigest()[:12]}…, expected {sha256[:12]}…; "
                "the file changed upstream: pass file= with a copy you trust."
            )
        os.replace(tmp, dest)
    except LaminSAError:
        tmp.unlink(missing_ok=True)
        raise
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise LaminSAError(f"downloading {url} failed ({exc}); check the URL.") from exc
    return dest


def _download(spec: SourceSpec) -> tuple[Path, ...] | None:
    urls = download_urls(spec)
    if not urls:
        return None
    root = raw_cache_dir()
    paths = []
    for i, url in enumerate(urls):
        name = (
            spec.files[i]
            if i < len(spec.files)
            else Path(urllib.parse.urlparse(url).path).name
        )
        sha = spec.sha256[i] if i < len(spec.sha256) else None
        logger.info("downloading %s %s from %s", spec.name, spec.version, url)
        paths.append(download(url, root / name, sha256=sha))
    return tuple(paths)


def _explicit(
    entity: str,
    file: Any,
    spec: SourceSpec | None,
    source: str | None,
    version: str | None,
) -> ResolvedSource:
    files = file if isinstance(file, list | tuple) else [file]
    paths: list[Path] = []
    for f in files:
        text = str(f)
        if "://" in text:
            name = Path(urllib.parse.urlparse(text).path).name or "download"
            paths.append(download(text, raw_cache_dir() / name))
        else:
            path = Path(text).expanduser()
            if not path.is_file():
                raise ValidationError(f"no such ontology file: {path}.")
            paths.append(path)
    if spec is None:
        spec = SourceSpec(
            entity=entity_spec(entity).name,
            name=(source or Path(paths[0]).name.split("-")[0].split(".")[0]).lower(),
            organism="all",
            version=str(version or "unknown"),
            format="",
            files=tuple(p.name for p in paths),
        )
    tup = tuple(paths)
    return ResolvedSource(spec, tup, _checksum(tup), "file", "")


def resolve(
    entity: str,
    *,
    source: str | None = None,
    version: str | None = None,
    organism: str | None = None,
    format: str | None = None,
    file: Any = None,
) -> ResolvedSource:
    """Find the files of an entity's source on this machine (downloading if needed).

    Args:
        entity: ``"CellType"``, ``"Gene"``, ...
        source: The source key (default: the manifest's first for the organism).
        version: The release (default: the first listed).
        organism: For per-organism sources (genes, proteins, stages).
        format: Prefer the release in this format (``"obo"``, ``"cxg-json"``).
        file: A path or URL (or a list) to read instead of the manifest's files.

    Raises:
        ValidationError: No manifest entry matches.
        LaminSAError: The entry's files are nowhere to be found or fetched.
    """
    specs = find_specs(
        entity, source=source, version=version, organism=organism, format=format
    )
    if file is not None:
        return _explicit(entity, file, specs[0] if specs else None, source, version)
    if not specs:
        raise ValidationError(
            f"no {entity} source matches source={source!r}, version={version!r}, "
            f"organism={organism!r}; see `lamin-sa ontology sources`."
        )
    if entity_spec(entity).needs_organism and organism is None:
        specs = [s for s in specs if s.organism != "all"] or specs
    tried: list[str] = []
    # the default release; the same release in another format may stand in
    first = specs[0]
    same = [s for s in specs if (s.name, s.version) == (first.name, first.version)]
    for spec in same:
        for origin, finder in (
            ("dir", _from_dir),
            ("package", _from_package),
            ("cache", _from_cache),
            ("download", _download),
        ):
            paths = finder(spec)
            if paths is not None:
                fmt = "cxg-json" if origin == "package" else spec.format
                return ResolvedSource(
                    spec, paths, _verified(spec, paths, origin), origin, fmt
                )
        tried.append(f"{spec.name} {spec.version}")
    raise LaminSAError(
        f"{entity} source {', '.join(tried)} is not available offline: set "
        f"{ENV_DIR} to a folder holding {', '.join(specs[0].files)}, "
        f"pip install cellxgene-ontology-guide, or pass file=."
    )


def availability(spec: SourceSpec) -> str:
    """Where a source would be read from without downloading (``"-"``: nowhere)."""
    for origin, finder in (
        ("dir", _from_dir),
        ("package", _from_package),
        ("cache", _from_cache),
    ):
        if finder(spec) is not None:
            return origin
    return "download" if download_urls(spec) else "-"


def sources_frame() -> Any:
    """Every manifest entry with where it is available (a DataFrame)."""
    import pandas as pd

    rows = []
    seen: set[tuple[str, str]] = set()
    for spec in manifest():
        key = (spec.entity, spec.organism)
        rows.append(
            {
                "entity": spec.entity,
                "source": spec.name,
                "organism": spec.organism,
                "version": spec.version,
                "format": spec.format,
                "default": key not in seen,
                "available": availability(spec),
            }
        )
        seen.add(key)
    return pd.DataFrame(rows)


__all__ = [
    "ResolvedSource",
    "SourceSpec",
    "availability",
    "download",
    "find_specs",
    "manifest",
    "resolve",
    "sources_frame",
]
