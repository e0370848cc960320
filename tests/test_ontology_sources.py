"""Source manifest and resolution: explicit file → ontology dir → package →
cache → download (file:// and a loopback HTTP server), with checksums."""

from __future__ import annotations

import hashlib
import http.server
import shutil
import sys
import threading
from pathlib import Path

import pytest

from lamin_sa.errors import LaminSAError, ValidationError
from lamin_sa.ontology import sources
from lamin_sa.ontology.load import load_source

DATA = Path(__file__).parent / "data" / "ontology"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def manifest(tmp_path, monkeypatch):
    """A manifest with one CellType source whose file is the OBO fixture."""
    sha = _sha(DATA / "mini.obo")
    path = tmp_path / "sources.yaml"
    path.write_text(
        "schema: 1\nentities:\n  CellType:\n"
        "    - name: tst\n      organism: all\n      version: '2024-01-01'\n"
        "      format: obo\n      files: [tst-2024-01-01.obo]\n"
        f"      sha256: ['{sha}']\n      package: TST-ontology-v2024-01-01.json.zst\n"
        "    - name: tst\n      organism: all\n      version: '2023-01-01'\n"
        "      format: obo\n      files: [tst-2023-01-01.obo]\n"
        f"      sha256: ['{'0' * 64}']\n"
    )
    monkeypatch.setattr(sources, "manifest_path", lambda: path)
    monkeypatch.delenv(sources.ENV_DIR, raising=False)
    monkeypatch.delenv(sources.ENV_MIRROR, raising=False)
    return sha


def test_shipped_manifest_is_complete():
    specs = sources.manifest()
    entities = {s.entity for s in specs}
    assert {
        "CellType",
        "Tissue",
        "Disease",
        "Phenotype",
        "ExperimentalFactor",
        "DevelopmentalStage",
        "Ethnicity",
        "Pathway",
        "CellLine",
        "Organism",
        "Gene",
        "Protein",
    } <= entities
    for s in specs:
        assert len(s.files) == len(s.sha256) >= 1, s
        assert all(len(h) == 64 for h in s.sha256)
    default = sources.find_specs("CellType")[0]
    assert (default.name, default.version, default.format) == (
        "cl",
        "2026-03-26",
        "cxg-json",
    )
    hp = sources.find_specs("Phenotype", organism="human")[0]
    assert hp.name == "hp"
    assert sources.find_specs("Phenotype")[0].name == "pato"
    assert sources.find_specs("Gene", organism="mouse")[0].files == (
        "genes-mouse-gencode-vM37.csv.gz",
    )


def test_explicit_file_wins(manifest, tmp_path, monkeypatch):
    other = tmp_path / "dir"
    other.mkdir()
    monkeypatch.setenv(sources.ENV_DIR, str(other))
    found = sources.resolve("CellType", file=DATA / "mini.obo")
    assert found.origin == "file"
    assert found.paths == (DATA / "mini.obo",)
    assert found.checksum == manifest
    assert (found.name, found.version) == ("tst", "2024-01-01")
    with pytest.raises(ValidationError, match="no such ontology file"):
        sources.resolve("CellType", file=tmp_path / "missing.obo")


def test_ontology_dir_then_cache_then_download(manifest, tmp_path, monkeypatch):
    # nothing anywhere: a clear error naming the variable
    with pytest.raises(LaminSAError, match=sources.ENV_DIR):
        sources.resolve("CellType")
    folder = tmp_path / "onto"
    folder.mkdir()
    shutil.copy(DATA / "mini.obo", folder / "tst-2024-01-01.obo")
    monkeypatch.setenv(sources.ENV_DIR, str(folder))
    found = sources.resolve("CellType")
    assert found.origin == "dir"
    assert found.checksum == manifest
    table, _ = load_source("CellType")
    assert len(table.terms) == 0  # CL: prefix filter; TST terms are not CL terms
    # the cache: a file put there by an earlier download
    monkeypatch.delenv(sources.ENV_DIR)
    cached = sources.raw_cache_dir() / "tst-2024-01-01.obo"
    cached.parent.mkdir(parents=True)
    shutil.copy(DATA / "mini.obo", cached)
    assert sources.resolve("CellType").origin == "cache"
    # a corrupt cached file is not used
    cached.write_text("corrupt")
    with pytest.raises(LaminSAError, match="not available offline"):
        sources.resolve("CellType")


def test_download_from_file_url_mirror(manifest, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    shutil.copy(DATA / "mini.obo", mirror / "tst-2024-01-01.obo")
    monkeypatch.setenv(sources.ENV_MIRROR, mirror.as_uri())
    assert sources.availability(sources.find_specs("CellType")[0]) == "download"
    found = sources.resolve("CellType")
    assert found.origin == "download"
    assert found.paths[0] == sources.raw_cache_dir() / "tst-2024-01-01.obo"
    assert found.paths[0].read_bytes() == (DATA / "mini.obo").read_bytes()
    # the next resolution reads the cache
    assert sources.resolve("CellType").origin == "cache"
    # a release whose bytes do not match the manifest's checksum is refused
    shutil.copy(DATA / "mini.obo", mirror / "tst-2023-01-01.obo")
    with pytest.raises(LaminSAError, match="sha256"):
        sources.resolve("CellType", version="2023-01-01")
    assert not list(sources.raw_cache_dir().glob("tst-2023-01-01*"))


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


def test_download_over_loopback_http(manifest, tmp_path, monkeypatch):
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(DATA / "mini.obo", served / "tst-2024-01-01.obo")

    def handler(*args, **kwargs):
        return _Quiet(*args, directory=str(served), **kwargs)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        monkeypatch.setenv(sources.ENV_MIRROR, f"http://127.0.0.1:{port}/")
        found = sources.resolve("CellType")
        assert found.origin == "download"
        assert found.checksum == manifest
        # an explicit URL is downloaded as well (no checksum known)
        url = f"http://127.0.0.1:{port}/tst-2024-01-01.obo"
        explicit = sources.resolve("CellType", file=url)
        assert explicit.origin == "file"
        assert explicit.paths[0].read_bytes() == (DATA / "mini.obo").read_bytes()
        with pytest.raises(LaminSAError, match="downloading"):
            sources.download(f"http://127.0.0.1:{port}/missing.obo", tmp_path / "x.obo")
    finally:
        server.shutdown()
        server.server_close()


def test_package_releases(manifest, tmp_path, monkeypatch):
    zstandard = pytest.importorskip("zstandard")
    pkg = tmp_path / "site" / "cellxgene_ontology_guide"
    (pkg / "data").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    data = zstandard.ZstdCompressor().compress((DATA / "mini.cxg.json").read_bytes())
    (pkg / "data" / "TST-ontology-v2024-01-01.json.zst").write_bytes(data)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    sys.modules.pop("cellxgene_ontology_guide", None)
    found = sources.resolve("CellType")
    assert found.origin == "package"
    assert found.format == "cxg-json"
    from lamin_sa.ontology.parsers import parse_file

    table = parse_file(list(found.paths), "CellType", format=found.format)
    assert table.meta["format"] == "cxg-json"


def test_parsed_table_cache(manifest, tmp_path, monkeypatch):
    from lamin_sa.ontology import cache

    folder = tmp_path / "onto"
    folder.mkdir()
    shutil.copy(DATA / "mini.obo", folder / "tst-2024-01-01.obo")
    monkeypatch.setenv(sources.ENV_DIR, str(folder))
    first, found = load_source("CellType", file=folder / "tst-2024-01-01.obo")
    files = sorted(p.name for p in cache.parsed_cache_dir().iterdir())
    assert len(files) == 3 and all(found.checksum[:16] in f for f in files)
    # the cached copy is what the next call returns (same frame, lists intact)
    second, _ = load_source("CellType", file=folder / "tst-2024-01-01.obo")
    assert second.terms.equals(first.terms) or second.terms.to_dict() == (
        first.terms.to_dict()
    )
    assert [str(i) for i in second.issues] == [str(i) for i in first.issues]
    # another file content → another key, never the stale entry
    changed = folder / "tst-2024-01-01.obo"
    changed.write_text(changed.read_text() + "\n[Term]\nid: CL:9\nname: new\n")
    third, _ = load_source("CellType", file=changed)
    assert third.terms.name.tolist() == ["new"]
    assert cache.clear_cache() == 6
