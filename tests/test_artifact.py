"""Artifacts: constructors, keys, dedup, atomic saves, access, versions, trash.

Every test that touches storage runs on a local root and on S3 (moto), on SQLite
and (with LAMIN_SA_TEST_PG_URL) PostgreSQL, through the ``inst`` fixture.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest

import lamin_sa as ln
from lamin_sa.errors import (
    IntegrityError,
    InvalidKeyError,
    RecordExistsError,
    SaveError,
    StorageError,
    ValidationError,
)
from lamin_sa.settings import settings
from tests import test_artifact_fixtures as fx
from tests.s3_server import s3_bucket, s3_server  # noqa: F401
from tests.test_artifact_fixtures import Inst

inst = fx.inst
inst_local = fx.inst_local


def _df(n: int = 3, offset: int = 0) -> pd.DataFrame:
    return pd.DataFrame({"a": range(offset, offset + n), "b": ["x"] * n})


def _file(tmp: Path, name: str, text: str) -> Path:
    p = tmp / "src" / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


# ------------------------------------------------------------------ constructors


def test_from_df_save_load_and_virtual_key(inst: Inst) -> None:
    df = _df()
    a = ln.Artifact.from_df(df, description="my df", key="tables/df.parquet")
    assert a.accessor == "DataFrame" and a.suffix == ".parquet"
    assert a.key_is_virtual and a.id is None
    assert inst.objects() == []  # constructors never write to storage
    before = a.path  # in-memory data is written to the cache dir on demand
    assert before.suffix == ".parquet" and before.is_relative_to(settings.cache_dir)
    pd.testing.assert_frame_equal(pd.read_parquet(before), df)
    a.save()
    assert not before.exists()  # removed (local) or moved into the cache mirror
    assert inst.objects() == [f".lamindb/{a.uid}.parquet"]
    assert not inst.exists("tables/df.parquet")  # the key is metadata only
    pd.testing.assert_frame_equal(a.load(), df)
    again = ln.Artifact.get(a.uid)
    pd.testing.assert_frame_equal(again.load(), df)
    assert str(again.path).endswith(f".lamindb/{a.uid}.parquet")
    assert len(a.uid) == 20 and a.hash_type == "md5" and a.size > 0


def test_hash_dedup_returns_stored_record(inst: Inst) -> None:
    a = ln.Artifact.from_df(_df(), description="one").save()
    b = ln.Artifact.from_df(_df(), description="two")
    assert b is a  # the stored record itself
    assert b.description == "two"
    b.save()
    assert ln.Artifact.filter(visibility=None).count() == 1
    assert ln.Artifact.get(a.uid).description == "two"


def test_hash_dedup_policies(inst: Inst) -> None:
    src = _file(inst.tmp, "a.txt", "hello")
    a = ln.Artifact(src, description="a").save()
    settings.upon_artifact_create_if_hash_exists = "error"
    with pytest.raises(RecordExistsError, match=a.uid):
        ln.Artifact(src, description="a")
    with pytest.raises(FileExistsError):
        ln.Artifact(src, description="a")
    settings.upon_artifact_create_if_hash_exists = "warn_create_new"
    b = ln.Artifact(src, description="b").save()
    assert b.uid != a.uid and b.hash == a.hash
    settings.upon_artifact_create_if_hash_exists = "warn_return_existing"
    a.delete()
    b.delete()
    with pytest.raises(RecordExistsError, match="trash.*restore"):
        ln.Artifact(src, description="c")


def test_file_key_real_and_virtual(inst: Inst) -> None:
    src = _file(inst.tmp, "x.csv", "a,b\n1,2\n")
    a = ln.Artifact(src, key="data/x.csv").save()
    assert a.key == "data/x.csv" and a.key_is_virtual
    assert inst.objects() == [f".lamindb/{a.uid}.csv"]
    settings.artifact_use_virtual_keys = False
    src2 = _file(inst.tmp, "y.csv", "a,b\n3,4\n")
    b = ln.Artifact(src2, key="data/y.csv").save()
    assert not b.key_is_virtual and inst.exists("data/y.csv")
    assert b.load()["b"].tolist() == [4]


@pytest.mark.parametrize(
    "key", ["../x.csv", "/abs/x.csv", "a/../../x.csv", ".lamindb/x.csv", ""]
)
def test_bad_keys_refused(inst_local: Inst, key: str) -> None:
    src = _file(inst_local.tmp, "x.csv", "a\n1\n")
    with pytest.raises(InvalidKeyError):
        ln.Artifact(src, key=key)


def test_key_suffix_must_match(inst_local: Inst) -> None:
    with pytest.raises(InvalidKeyError, match="should be '.parquet'"):
        ln.Artifact.from_df(_df(), key="x.def")


def test_constructor_errors(inst_local: Inst) -> None:
    src = _file(inst_local.tmp, "x.txt", "x")
    with pytest.raises(ValueError, match="Pass one of key, run or description"):
        ln.Artifact(src)
    with pytest.raises(StorageError, match="does not exist"):
        ln.Artifact(inst_local.tmp / "missing.txt", description="m")
    empty = inst_local.tmp / "empty"
    empty.mkdir()
    with pytest.raises(StorageError, match="no files"):
        ln.Artifact(empty, description="e")
    with pytest.raises(TypeError, match="data has to be"):
        ln.Artifact(object(), description="o")
    with pytest.raises(ValueError, match="Only one non-keyword arg"):
        ln.Artifact(src, src, description="x")
    with pytest.raises(ValueError, match="Only data, key"):
        ln.Artifact(src, description="x", colour="red")
    with pytest.raises(ValueError, match="must be `None` or `str`"):
        ln.Artifact(src, description="x", version=1)
    with pytest.raises(TypeError, match="from_df"):
        ln.Artifact.from_df([1, 2], description="x")
    with pytest.raises(ValueError, match="does not look like AnnData"):
        ln.Artifact.from_anndata(src, description="x")
    assert list(inst_local.tmp.joinpath("root").glob(".lamindb/*.txt")) == []


def test_path_inside_registered_storage_not_copied(inst: Inst) -> None:
    def put(key: str, text: str) -> Path | str:
        path = inst.root.join(key)
        if inst.kind == "local":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text)
            return Path(path)
        inst.root.fs.pipe(path, text.encode())
        return path

    inside = put("raw/r.txt", "raw data")
    a = ln.Artifact(inside, description="raw").save()
    assert a.key == "raw/r.txt" and not a.key_is_virtual
    assert str(a.path) == str(inside) and inst.objects() == []
    assert a.storage.root == inst.root.root
    assert ln.Artifact.get(a.uid).load() == "raw data"
    other = put("raw/s.txt", "other")
    with pytest.raises(InvalidKeyError, match="already in registered storage"):
        ln.Artifact(other, key="elsewhere/s.txt")
    a.delete(permanent=True)  # a real key in managed storage: data kept
    assert inst.exists("raw/r.txt")


def test_path_in_unregistered_bucket(
    inst: Inst,
    s3_server: str,  # noqa: F811
) -> None:
    import s3fs

    fs = s3fs.S3FileSystem(endpoint_url=s3_server, skip_instance_cache=True)
    bucket = "lamin-sa-foreign-" + inst.tmp.name[-8:].lower().replace("_", "-")
    fs.mkdir(bucket)
    fs.pipe(f"{bucket}/folder/data.csv", b"a,b\n1,2\n")
    a = ln.Artifact(f"s3://{bucket}/folder/data.csv", description="foreign")
    assert a.storage.root == f"s3://{bucket}" and a.storage.instance_uid is None
    assert a.key == "folder/data.csv" and not a.key_is_virtual
    a.save()
    assert inst.objects() == []
    assert a.load()["b"].tolist() == [2]
    assert a.hash == ln.Artifact(a.cache(), description="same").hash
    a.delete(permanent=True)
    assert fs.exists(f"{bucket}/folder/data.csv")  # not managed: data kept


def test_from_dir(inst_local: Inst) -> None:
    folder = inst_local.tmp / "dir"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.txt").write_text("b")
    (folder / "sub" / "dup.txt").write_text("a")
    arts = ln.Artifact.from_dir(folder)
    assert sorted(a.key for a in arts) == ["dir/a.txt", "dir/sub/b.txt"]
    from lamin_sa.artifact import save_artifacts

    save_artifacts(arts)
    again = ln.Artifact.from_dir(folder)
    assert {a.uid for a in again} == {a.uid for a in arts}


# ------------------------------------------------------------------ atomic saves


def test_save_many_and_failure_during_upload(inst: Inst, monkeypatch) -> None:
    from lamin_sa.artifact import save_artifacts, store

    arts = [ln.Artifact.from_df(_df(offset=i), description=f"d{i}") for i in range(4)]
    real, calls = store._stage_one, []

    def flaky(target):
        calls.append(target)
        if len(calls) == 3:
            raise OSError("network down")
        return real(target)

    monkeypatch.setattr(store, "_stage_one", flaky)
    with pytest.raises(SaveError, match="nothing was saved"):
        save_artifacts(arts)
    assert ln.Artifact.filter(visibility=None).count() == 0
    assert [k for k in inst.objects() if not k.startswith(".lamindb/_tmp")] == []
    assert inst.objects() == []
    monkeypatch.setattr(store, "_stage_one", real)
    save_artifacts(arts)
    assert ln.Artifact.filter().count() == 4
    assert len(inst.objects()) == 4
    assert [a.load()["a"].iloc[0] for a in arts] == [0, 1, 2, 3]


def test_failure_during_db_commit(inst: Inst, monkeypatch) -> None:
    from lamin_sa.artifact import store

    a = ln.Artifact(_file(inst.tmp, "f.txt", "payload"), description="f")
    real = store._write_rows

    def broken(session, artifacts):
        real(session, artifacts)  # the INSERT happened, the commit must not
        raise RuntimeError("database went away")

    monkeypatch.setattr(store, "_write_rows", broken)
    with pytest.raises(SaveError, match="nothing was saved"):
        a.save()
    assert ln.Artifact.filter(visibility=None).count() == 0
    assert inst.objects() == []
    monkeypatch.setattr(store, "_write_rows", real)
    a.save()
    assert ln.Artifact.get(a.uid).load() == "payload"
    assert inst.objects() == [f".lamindb/{a.uid}.txt"]


def test_bulk_failure_during_db_commit(inst: Inst, monkeypatch) -> None:
    from lamin_sa.artifact import save_artifacts, store

    arts = [ln.Artifact.from_df(_df(offset=i), description=f"b{i}") for i in range(25)]
    real = store._write_rows

    def broken(session, artifacts):
        real(session, artifacts)  # bulk INSERT done, then the commit fails
        raise RuntimeError("database went away")

    monkeypatch.setattr(store, "_write_rows", broken)
    with pytest.raises(SaveError, match="nothing was saved"):
        save_artifacts(arts)
    assert ln.Artifact.filter(visibility=None).count() == 0
    assert inst.objects() == []
    assert all(a.id is None and a.uid and a.hash for a in arts)
    monkeypatch.setattr(store, "_write_rows", real)
    save_artifacts(arts)
    assert ln.Artifact.filter().count() == 25 and len(inst.objects()) == 25
    assert ln.Artifact.get(arts[7].uid).load()["a"].iloc[0] == 7


def test_replace_failure_keeps_old_data(inst: Inst, monkeypatch) -> None:
    from lamin_sa.artifact import store

    a = ln.Artifact(_file(inst.tmp, "k.txt", "keep me"), description="k").save()
    old_hash = a.hash
    a.replace(_file(inst.tmp, "k2.txt", "new data"))

    def broken(staged):
        raise OSError("copy failed")

    monkeypatch.setattr(store, "_commit_one", broken)
    with pytest.raises(SaveError, match="Moving objects into place failed"):
        a.save()
    assert a.hash == old_hash  # the stored fields are back
    stored = inst.root.fs.cat_file(inst.root.join(f".lamindb/{a.uid}.txt"))
    assert stored == b"keep me" and inst.objects() == [f".lamindb/{a.uid}.txt"]
    monkeypatch.undo()
    a.save()  # the pending replacement is kept, so a retry works
    assert a.hash != old_hash
    assert inst.root.fs.cat_file(inst.root.join(f".lamindb/{a.uid}.txt")) == (
        b"new data"
    )


def test_failure_moving_into_place(inst: Inst, monkeypatch) -> None:
    from lamin_sa.artifact import save_artifacts, store

    arts = [
        ln.Artifact(_file(inst.tmp, f"{i}.txt", f"n{i}"), description=f"n{i}")
        for i in range(3)
    ]
    real = store._commit_one
    n = []

    def flaky(staged):
        n.append(staged)
        if len(n) == 2:
            raise OSError("copy failed")
        real(staged)

    monkeypatch.setattr(store, "_commit_one", flaky)
    with pytest.raises(SaveError, match=rf"{arts[1].uid}.*Stored: .*{arts[0].uid}"):
        save_artifacts(arts)
    assert set(ln.Artifact.filter().list("uid")) == {arts[0].uid, arts[2].uid}
    assert inst.objects() == sorted(f".lamindb/{a.uid}.txt" for a in (arts[0], arts[2]))
    monkeypatch.setattr(store, "_commit_one", real)
    arts[1].save()
    assert arts[1].load() == "n1"


# ------------------------------------------------------------------ access


def _anndata():
    import anndata as ad
    import numpy as np

    return ad.AnnData(
        X=np.arange(12, dtype="float32").reshape(4, 3),
        obs=pd.DataFrame({"c": list("abab")}, index=[f"o{i}" for i in range(4)]),
        var=pd.DataFrame(index=["g1", "g2", "g3"]),
    )


def test_load_per_format(inst: Inst) -> None:
    import yaml

    cases = {
        "t.csv": ("a,b\n1,2\n", lambda x: x["b"].tolist() == [2]),
        "t.tsv": ("a\tb\n1\t2\n", lambda x: x["b"].tolist() == [2]),
        "t.json": (json.dumps({"k": [1]}), lambda x: x == {"k": [1]}),
        "t.yaml": (yaml.safe_dump({"k": 1}), lambda x: x == {"k": 1}),
        "t.txt": ("plain", lambda x: x == "plain"),
        "t.bin": ("raw", lambda x: isinstance(x, Path) and x.read_text() == "raw"),
    }
    for name, (text, check) in cases.items():
        a = ln.Artifact(_file(inst.tmp, name, text), description=name).save()
        assert check(ln.Artifact.get(a.uid).load()), name
    df = _df()
    a = ln.Artifact.from_df(df, description="pq").save()
    pd.testing.assert_frame_equal(ln.Artifact.get(a.uid).load(), df)
    adata = _anndata()
    h = ln.Artifact.from_anndata(adata, description="h5ad").save()
    assert h.suffix == ".h5ad" and h.accessor == "AnnData"
    assert ln.Artifact.get(h.uid).load().X.sum() == adata.X.sum()
    z = ln.Artifact.from_anndata(adata, key="my.anndata.zarr").save()
    assert z.suffix == ".anndata.zarr" and z.n_objects and z.n_objects > 1
    assert ln.Artifact.get(z.uid).load().obs["c"].tolist() == list("abab")
    z2 = ln.Artifact.from_anndata(adata[:2].copy(), description="z", format="zarr")
    assert z2.suffix == ".zarr"
    assert ln.Artifact.from_anndata(adata, description="same") is h  # same hash


def test_frames_of_one_shape_are_stored_as_pandas_writes_them(inst: Inst) -> None:
    # the second and later frames of a shape reuse its Arrow schema: their bytes,
    # hence hashes and dedup, are those of DataFrame.to_parquet
    import io

    from lamin_sa.storage import hash_file

    for i in range(3):
        df = pd.DataFrame({"n": [i, i + 1], "s": ["x", None], "f": [0.5, None]})
        a = ln.Artifact.from_df(df, description=f"shape {i}").save()
        sink = io.BytesIO()
        df.to_parquet(sink, engine="pyarrow")
        assert (a.hash, a.size) == (
            hash_file(io.BytesIO(sink.getvalue()))[0],
            sink.tell(),
        )
        pd.testing.assert_frame_equal(ln.Artifact.get(a.uid).load(), df)
        assert ln.Artifact.from_df(df.copy(), description="again") is a


def test_a_new_hash_is_looked_up_without_a_transaction(inst: Inst) -> None:
    from sqlalchemy import event

    from lamin_sa.db import session as dbs
    from tests.test_validate import QueryCounter

    stored = ln.Artifact.from_df(_df(), description="stored").save()
    engine = dbs.current().engine
    seen: list[tuple[str, object]] = []

    def on(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        seen.append((statement, conn.get_execution_options().get("isolation_level")))

    event.listen(engine, "before_cursor_execute", on)
    try:
        new = ln.Artifact.from_df(_df(4), description="new")
    finally:
        event.remove(engine, "before_cursor_execute", on)
    assert new.id is None and new.hash != stored.hash
    # the idle kept connection answers the miss itself (on PostgreSQL in
    # autocommit mode): no statement through the engine, not even a BEGIN
    assert seen == []
    with QueryCounter(engine) as counter:
        assert ln.Artifact.from_df(_df(), description="same") is stored
    assert any("hash" in s for s in counter.statements)  # a hit loads the record
    with dbs.write_transaction():  # inside a transaction the session reads
        with QueryCounter(engine) as counter:
            assert ln.Artifact.from_df(_df(5), description="in txn").id is None
    assert any("hash" in s for s in counter.statements)


def test_content_saved_after_construction_is_adopted_on_save(
    inst: Inst, caplog
) -> None:
    # both constructed before either is stored: the second save finds the first
    # row under the writer lock and becomes it, storing no second object
    first = ln.Artifact.from_df(_df(7), description="first")
    second = ln.Artifact.from_df(_df(7), description="second")
    assert second is not first and second.id is None
    first.save()
    caplog.clear()
    second.save()
    assert "saved by another process meanwhile" in caplog.text
    assert (second.id, second.uid) == (first.id, first.uid)
    assert ln.Artifact.filter(hash=first.hash).count() == 1
    assert inst.objects() == [f".lamindb/{first.uid}.parquet"]


def test_open(inst: Inst) -> None:
    adata = _anndata()
    h = ln.Artifact.from_anndata(adata, description="h").save()
    backed = ln.Artifact.get(h.uid).open()
    assert backed.isbacked and backed.shape == (4, 3)
    backed.file.close()
    p = ln.Artifact.from_df(_df(5), description="p").save()
    assert ln.Artifact.get(p.uid).open().to_table().num_rows == 5
    c = ln.Artifact(_file(inst.tmp, "c.csv", "a,b\n1,2\n3,4\n"), description="c")
    c.save()
    assert ln.Artifact.get(c.uid).open().to_table().column("b").to_pylist() == [2, 4]
    z = ln.Artifact.from_anndata(adata, key="z.zarr").save()
    lazy = ln.Artifact.get(z.uid).open()
    if hasattr(lazy, "shape"):  # lazy AnnData (xarray installed)
        assert lazy.shape == (4, 3)
    else:  # the read-only zarr group
        assert lazy["X"].shape == (4, 3)
    t = ln.Artifact(_file(inst.tmp, "t.txt", "x"), description="t").save()
    with pytest.raises(ValidationError, match="lazily"):
        t.open()


def test_cache_refresh_on_remote_change(inst: Inst) -> None:
    a = ln.Artifact(_file(inst.tmp, "v.txt", "one"), description="v").save()
    fresh = ln.Artifact.get(a.uid)
    assert fresh.cache().read_text() == "one"
    if inst.kind == "local":
        assert fresh.cache() == fresh.path
        return
    first = fresh.cache()
    assert str(first).startswith(str(settings.cache_dir))
    inst.root.fs.pipe(str(fresh.path), b"two!")
    assert fresh.cache().read_text() == "two!"


def test_cloud_save_from_memory_fills_cache(inst: Inst) -> None:
    a = ln.Artifact.from_df(_df(), description="c").save()
    assert not (settings.cache_dir / f"{a.uid}.parquet").exists()  # temp file gone
    cached = ln.Artifact.get(a.uid).cache()
    assert cached.exists()
    # cloud: the serialized file was moved into the cache mirror (no download)
    assert cached.is_relative_to(settings.cache_dir) == (inst.kind == "s3")


def test_replace(inst: Inst) -> None:
    a = ln.Artifact(_file(inst.tmp, "r.txt", "old"), description="r").save()
    a.replace(_file(inst.tmp, "r2.txt", "new content"))
    a.save()
    assert ln.Artifact.get(a.uid).load() == "new content"
    assert inst.objects() == [f".lamindb/{a.uid}.txt"]
    a.replace(_file(inst.tmp, "r.csv", "a\n1\n"))
    a.save()
    assert a.suffix == ".csv" and inst.objects() == [f".lamindb/{a.uid}.csv"]
    assert ln.Artifact.get(a.uid).load()["a"].tolist() == [1]
    inside = inst.root.join("r.txt")
    if inst.kind == "local":
        Path(inside).write_text("inside")
        with pytest.raises(ValidationError, match="inside a registered storage"):
            a.replace(inside)


# ------------------------------------------------------------------ versions


def test_versions(inst: Inst) -> None:
    v1 = ln.Artifact(_file(inst.tmp, "v.txt", "1"), key="v.txt").save()
    with pytest.raises(ValueError, match="Please increment the previous version: '1'"):
        ln.Artifact(_file(inst.tmp, "v.txt", "2"), revises=v1, version="1")
    with pytest.raises(TypeError, match="has to be of type ln.Artifact"):
        ln.Artifact(_file(inst.tmp, "v.txt", "2"), is_new_version_of="x", key="v")
    v2 = ln.Artifact(_file(inst.tmp, "v.txt", "2"), is_new_version_of=v1).save()
    assert (v1.version, v2.version) == ("1", "2")
    assert v2.uid[:16] == v1.uid[:16] and v2.key == "v.txt"
    v3 = ln.Artifact(_file(inst.tmp, "v.txt", "3"), revises=v2).save()
    assert v3.version == "3"
    assert ln.Artifact.get(key="v.txt").uid == v3.uid
    latest = ln.Artifact.filter(key="v.txt", is_latest=True).list("uid")
    assert latest == [v3.uid]
    assert sorted(v3.versions.list("version")) == ["1", "2", "3"]
    assert ln.Artifact.get(v1.uid).load() == "1"
    with pytest.raises(ValueError, match="auto-increment"):
        w = ln.Artifact(_file(inst.tmp, "w.txt", "w"), key="w", version="a").save()
        ln.Artifact(_file(inst.tmp, "w.txt", "w2"), revises=w)


def test_folder_artifact_new_version_keeps_old(inst: Inst) -> None:
    folder = inst.tmp / "folder.d"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    (folder / "b.txt").write_text("b")
    v1 = ln.Artifact(folder, key="my-folder").save()
    assert v1.n_objects == 2 and v1.hash_type == "md5-d"
    (folder / "b.txt").write_text("B!")
    (folder / "c.txt").write_text("c")
    v2 = ln.Artifact(folder, revises=v1).save()
    assert v2.n_objects == 3
    old = Path(ln.Artifact.get(v1.uid).cache())
    new = Path(ln.Artifact.get(v2.uid).cache())
    assert sorted(p.name for p in old.iterdir()) == ["a.txt", "b.txt"]
    assert (old / "b.txt").read_text() == "b"
    assert (new / "b.txt").read_text() == "B!"


# ------------------------------------------------------------------ trash


def test_trash_restore_permanent(inst: Inst) -> None:
    a = ln.Artifact(_file(inst.tmp, "d.txt", "d"), description="d").save()
    a.delete()
    assert a.visibility == -1 and ln.Artifact.filter().count() == 0
    assert inst.objects() == [f".lamindb/{a.uid}.txt"]  # data kept
    a.restore()
    assert ln.Artifact.filter().count() == 1
    a.delete(permanent=True)
    assert ln.Artifact.filter(visibility=None).count() == 0
    assert inst.objects() == []
    settings.artifact_use_virtual_keys = False
    b = ln.Artifact(_file(inst.tmp, "e.txt", "e"), key="keep/e.txt").save()
    b.delete(permanent=True)
    assert inst.exists("keep/e.txt")  # a real key is kept unless storage=True
    c = ln.Artifact(_file(inst.tmp, "g.txt", "g"), key="drop/g.txt").save()
    c.delete(permanent=True, storage=True)
    assert not inst.exists("drop/g.txt")
    with pytest.raises(ValueError, match="not saved"):
        ln.Artifact(_file(inst.tmp, "h.txt", "h"), description="h").delete()


def test_queryset_delete_trashes(inst_local: Inst) -> None:
    for i in range(3):
        ln.Artifact(_file(inst_local.tmp, f"q{i}.txt", f"q{i}"), description="q").save()
    ln.Artifact.filter(description="q").delete()
    assert ln.Artifact.filter(description="q").count() == 0
    assert ln.Artifact.filter(description="q", visibility=-1).count() == 3
    assert len(inst_local.objects()) == 3


def test_permanent_delete_of_latest_promotes_previous(inst_local: Inst) -> None:
    v1 = ln.Artifact(_file(inst_local.tmp, "p.txt", "1"), key="p.txt").save()
    v2 = ln.Artifact(_file(inst_local.tmp, "p.txt", "2"), revises=v1).save()
    v2.delete(permanent=True)
    assert ln.Artifact.get(key="p.txt").uid == v1.uid
    assert ln.Artifact.get(v1.uid).is_latest


def test_delete_artifact_in_collection_refused(inst_local: Inst) -> None:
    a = ln.Artifact(_file(inst_local.tmp, "m.txt", "m"), description="m").save()
    ln.Collection([a], name="c").save()
    with pytest.raises(IntegrityError, match="still referenced"):
        a.delete(permanent=True)


# ------------------------------------------------------------------ describe


def test_describe(inst_local: Inst) -> None:
    a = ln.Artifact.from_df(_df(), description="my RNA-seq", version="1")
    text = a.describe(return_str=True)
    assert text.startswith("Artifact(version='1', uid=")
    assert "📎 storage: uid=" in text and "created_at" not in text.splitlines()[0]
    a.save()
    text = a.describe(return_str=True)
    lines = text.splitlines()
    assert lines[1:3] == ["", "Provenance:"]
    assert lines[3].startswith("  📎 created_by: User(uid=")
    assert lines[4].startswith("  📎 storage: uid=") and "root=" in lines[4]
    assert "storage_id" not in lines[0] and "updated_at" not in lines[0]
    a.ulabels.add(ln.ULabel(name="DMSO").save(), ln.ULabel(name="IFNG").save())
    text = ln.Artifact.get(a.uid).describe(return_str=True)
    assert text.splitlines()[-2:] == [
        "Labels:",
        "  📎 ulabels (2, ULabel): 'DMSO', 'IFNG'",
    ]


def test_run_provenance_and_previous_runs(inst_local: Inst) -> None:
    from lamin_sa.db import session as dbs

    t = ln.Transform(name="script", type="script").save()
    r1, r2 = ln.Run(t).save(), ln.Run(t).save()
    ctx = dbs.current()
    ctx.run, ctx.run_id = r1, r1.id
    try:
        src = _file(inst_local.tmp, "run.txt", "made by a run")
        a = ln.Artifact(src).save()  # the run is enough provenance
        assert a.run_id == r1.id and a.transform_id == t.id
        ctx.run, ctx.run_id = r2, r2.id
        b = ln.Artifact(src)
        assert b is a
        b.save()
        fresh = ln.Artifact.get(a.uid)
        assert fresh.run_id == r2.id
        assert [r.id for r in fresh.previous_runs] == [r1.id]
        text = fresh.describe(return_str=True)
        assert "  📎 transform: Transform(" in text and "  📎 run: Run(uid=" in text
    finally:
        ctx.run, ctx.run_id = None, None


def test_ln_save_routes_artifacts_through_storage(inst, tmp_path):
    import pandas as pd

    import lamin_sa as ln

    label = ln.ULabel(name="routed")
    arts = [
        ln.Artifact.from_df(pd.DataFrame({"a": [i]}), description=f"df {i}")
        for i in range(3)
    ]
    ln.save([label, *arts])
    assert label.id is not None
    for a in arts:
        assert a.id is not None
        assert inst.exists(f".lamindb/{a.uid}.parquet")
        assert a.load()["a"].tolist() == [int(a.description.split()[-1])]


def test_large_file_is_copied_while_the_constructor_hashes(inst, tmp_path, monkeypatch):
    import gc

    from lamin_sa.artifact import prepare as create

    monkeypatch.setattr(create, "PRESTAGE_MIN_BYTES", 1)
    src = _file(inst.tmp, "big.bin", "x" * 5000)
    a = ln.Artifact(src, description="big")
    if inst.kind == "local":
        # the copy runs in the temporary area while nothing is saved yet
        private = a.__dict__["_lamin_prestaged"].result()
        assert private.tmp_key.startswith(".lamindb/_tmp/")
    a.save()
    assert inst.objects() == [f".lamindb/{a.uid}.bin"]
    assert a.cache().read_text() == "x" * 5000
    # a duplicate is detected from the hash; its copy is removed again
    same = ln.Artifact(_file(inst.tmp, "big2.bin", "x" * 5000), description="big")
    assert same is a
    # an artifact dropped without save() leaves no temporary copy
    ln.Artifact(_file(inst.tmp, "big3.bin", "y" * 5000), description="dropped")
    gc.collect()
    deadline = time.monotonic() + 10
    while inst.objects() != [f".lamindb/{a.uid}.bin"] and time.monotonic() < deadline:
        time.sleep(0.02)  # the copy finishes in its thread, then is removed
    assert inst.objects() == [f".lamindb/{a.uid}.bin"]
