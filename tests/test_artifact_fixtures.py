"""Instance fixtures for the artifact and collection tests (no tests here).

``inst`` is a fresh instance on every database backend (SQLite, and PostgreSQL
when ``LAMIN_SA_TEST_PG_URL`` is set) and on every storage kind: a local root
and an S3 bucket (moto server) that becomes the default storage.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lamin_sa.storage import StorageRoot, parse_root


@dataclass
class Inst:
    kind: str  # "local" | "s3"
    root: StorageRoot
    tmp: Path

    def objects(self) -> list[str]:
        """Keys of all objects below ``.lamindb/`` except lamin-sa's marker."""
        fs = self.root.fs
        base = self.root.join(".lamindb")
        try:
            found = fs.find(base)
        except FileNotFoundError:
            return []
        prefix = fs._strip_protocol(self.root.root).rstrip("/") + "/"
        keys = [fs._strip_protocol(p)[len(prefix) :] for p in found]
        return sorted(
            k
            for k in keys
            if not k.endswith("_is_initialized")
            and not k.endswith("lamin.db")
            and "lamin.db-" not in k
            and "lamin.db.lamin-migrate" not in k
        )

    def exists(self, key: str) -> bool:
        return bool(self.root.fs.exists(self.root.join(key)))


def make_instance(
    request: pytest.FixtureRequest, db_url: str, tmp_path: Path, kind: str
) -> Iterator[Inst]:
    import lamin_sa as ln
    from lamin_sa.instance import current_instance
    from lamin_sa.settings import settings

    db = None if db_url.startswith("sqlite") else db_url
    ln.init(storage=tmp_path / "root", db=db)
    root = current_instance().storage_root
    if kind == "s3":
        bucket = request.getfixturevalue("s3_bucket")
        ln.settings.storage = f"{bucket}/root"
        root = current_instance().storage_root
        assert ln.Storage.get(root=root).instance_uid == current_instance().uid
    try:
        yield Inst(kind, parse_root(root), tmp_path)
    finally:
        settings.upon_artifact_create_if_hash_exists = "warn_return_existing"
        settings.artifact_use_virtual_keys = True
        ln.close()


@pytest.fixture(params=["local", "s3"])
def inst(request: pytest.FixtureRequest, db_url: str, tmp_path: Path) -> Iterator[Inst]:
    """A fresh instance per backend with a local, then an S3, default storage."""
    yield from make_instance(request, db_url, tmp_path, request.param)


@pytest.fixture
def inst_local(
    request: pytest.FixtureRequest, db_url: str, tmp_path: Path
) -> Iterator[Inst]:
    """A fresh instance per backend with a local default storage."""
    yield from make_instance(request, db_url, tmp_path, "local")
