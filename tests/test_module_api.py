"""The module-author API, proven by a small module ``my_lab`` (tests/my_lab).

The module has its own model, a link record to Artifact (with a feature) and an
Alembic branch generated into a temp folder. A module name with ``_`` must work
in ``Feature.dtype``.
"""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

import lamin_sa as ln
from lamin_sa import migrate, modules
from lamin_sa.errors import LaminSAError, ModuleNotMounted
from lamin_sa.modules import Module


@pytest.fixture
def my_lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``my_lab`` registered, its models loaded and its first revision written."""
    registry = modules.registered_modules()
    monkeypatch.setattr(modules, "_registry", registry)
    registry["my_lab"] = Module(
        "my_lab",
        "my_lab_",
        str(tmp_path / "my_lab_versions"),
        load_models=lambda: importlib.import_module("tests.my_lab.models"),
    )
    scratch = tmp_path / "alembic_copy"
    shutil.copytree(
        migrate.alembic_dir(), scratch, ignore=shutil.ignore_patterns("__pycache__")
    )
    monkeypatch.setattr(migrate, "alembic_dir", lambda: scratch)
    models = importlib.import_module("tests.my_lab.models")
    path = migrate.revision("my_lab", "my_lab tables")
    assert path is not None and path.parent == tmp_path / "my_lab_versions"
    source = path.read_text()
    assert "my_lab_thing" in source and "my_lab_artifact_thing" in source
    assert "create_table('core_" not in source
    yield models


def _instance(db_url: str, tmp_path: Path, mods: list[str]) -> None:
    db = None if db_url.startswith("sqlite") else db_url
    ln.init(storage=tmp_path / "root", db=db, modules=mods)


def _artifact(tag: str) -> ln.Artifact:
    df = pd.DataFrame({"x": [1, 2]})
    return ln.Artifact.from_df(df, description=f"artifact {tag}").save()


def test_module_registries_work_like_core_ones(
    my_lab: Any, db_url: str, tmp_path: Path
) -> None:
    Thing = my_lab.Thing
    assert Thing.registry_name() == "my_lab.Thing"
    assert Thing.module_name() == "my_lab"
    _instance(db_url, tmp_path, ["my_lab"])
    try:
        a, b = Thing(name="sample A").save(), Thing(name="sample B").save()
        other = Thing(name="unused").save()
        feature = ln.Feature(name="thing", dtype="cat[my_lab.Thing]").save()
        assert feature.dtype == "cat[my_lab.Thing]"
        artifact = _artifact("1")
        assert list(artifact.things) == []  # loaded now: must not stay stale
        artifact.labels.add([a, b], feature=feature)
        assert sorted(t.name for t in artifact.things) == ["sample A", "sample B"]
        assert [x.uid for x in a.artifacts] == [artifact.uid]
        assert ln.Artifact.filter(things__name="sample A").one().id == artifact.id
        assert not ln.Artifact.filter(things=other).exists()
        assert [t.name for t in artifact.labels.get(feature)] == [
            "sample A",
            "sample B",
        ]
        text = artifact.describe(return_str=True)
        assert "📎 things (2, Thing): 'sample A', 'sample B'" in text
        assert "🔗 thing (1, cat[my_lab.Thing]): 'sample A', 'sample B'" in text
        # the link rows carry the feature
        from lamin_sa.db.session import read

        link = my_lab.ArtifactThing

        feature_ids = read(
            lambda s: set(
                s.scalars(
                    select(link.feature_id).where(link.artifact_id == artifact.id)
                )
            )
        )
        assert feature_ids == {feature.id}
        # validatable and searchable like core registries
        assert list(Thing.validate(["sample A", "nope"], mute=True)) == [True, False]
        assert Thing.filter(name__startswith="sample").count() == 2
        assert Thing.search("sample B").first().name == "sample B"
    finally:
        ln.close()


def test_a_registry_of_an_unmounted_module_says_how_to_mount_it(
    my_lab: Any, db_url: str, tmp_path: Path
) -> None:
    _instance(db_url, tmp_path, [])
    try:
        with pytest.raises(ModuleNotMounted, match="migrate upgrade --module my_lab"):
            my_lab.Thing.filter().count()
        with pytest.raises(ModuleNotMounted, match="my_lab"):
            my_lab.Thing(name="x").save()
        # core keeps working, and labels/describe ignore the unmounted registry
        artifact = _artifact("2")
        label = ln.ULabel(name="core label").save()
        artifact.labels.add(label)
        assert "things" not in artifact.describe(return_str=True)
        # the module can be mounted later on the live instance
        _mount_later()
        artifact = ln.Artifact.get(artifact.uid)
        thing = my_lab.Thing(name="late").save()
        artifact.labels.add(thing)
        assert [t.name for t in artifact.things] == ["late"]
    finally:
        ln.close()


def _mount_later() -> None:
    from lamin_sa.instance import current_instance

    ln.connect(current_instance().name, modules=["my_lab"])


def test_attach_refuses_to_replace_an_accessor(my_lab: Any) -> None:
    from sqlalchemy.orm import relationship

    from lamin_sa.models import links

    with pytest.raises(LaminSAError, match="Artifact.things exists already"):
        links.attach(ln.Artifact, "things", relationship(my_lab.Thing))
