from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lamin_sa.errors import InvalidKeyError, StorageError
from lamin_sa.storage import (
    TMP_PREFIX,
    StorageRoot,
    add_to_cache,
    bucket_root,
    cache,
    delete,
    exists,
    get_fs,
    hash_dir,
    hash_file,
    hash_remote_dir,
    info,
    is_inside,
    join,
    parse_root,
    purge_tmp,
    put_file,
    relative_key,
    size,
    stage,
    stage_dir,
    stat_remote_hash,
    validate_key,
)
from tests.s3_server import s3_bucket, s3_server  # noqa: F401

MiB = 1024 * 1024


# --------------------------------------------------------------------------- helpers


class FailingReader(io.RawIOBase):
    """A real byte stream that breaks after ``fail_after`` bytes."""

    def __init__(self, data: bytes, fail_after: int) -> None:
        self._data, self._pos, self._fail_after = data, 0, fail_after

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        if self._pos >= self._fail_after:
            raise OSError("disk vanished")
        n = min(len(buffer), len(self._data) - self._pos)
        n = min(n, self._fail_after - self._pos) if self._pos < self._fail_after else n
        buffer[:n] = self._data[self._pos : self._pos + n]
        self._pos += n
        return n


def read_bytes(root: StorageRoot, key: str) -> bytes:
    with root.fs.open(root.join(key), "rb") as f:
        return f.read()


def tmp_objects(root: StorageRoot) -> list[str]:
    base = root.join(TMP_PREFIX.rstrip("/"))
    try:
        return sorted(root.fs.find(base))
    except FileNotFoundError:
        return []


def write_remote(root: StorageRoot, key: str, data: bytes) -> None:
    """Write an object behind lamin-sa's back (another client)."""
    if root.is_local:
        Path(root.join(key)).parent.mkdir(parents=True, exist_ok=True)
    root.fs.pipe_file(root.join(key), data)


def pending_uploads(root: StorageRoot) -> list[dict]:
    bucket = root.root.split("://")[1].split("/")[0]
    return root.fs.call_s3("list_multipart_uploads", Bucket=bucket).get("Uploads", [])


@pytest.fixture(params=["local", "s3"])
def root(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StorageRoot]:
    if request.param == "local":
        yield parse_root(tmp_path / "storage")
    else:
        bucket = request.getfixturevalue("s3_bucket")
        yield parse_root(f"{bucket}/prefix")


@pytest.fixture
def src_file(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "data.csv"
    path.parent.mkdir()
    path.write_bytes(b"a,b\n1,2\n" * 1000)
    return path


@pytest.fixture
def src_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "srcdir" / "dataset.zarr"
    (folder / "sub").mkdir(parents=True)
    (folder / "a").write_bytes(b"0")
    (folder / "b").write_bytes(b"0")
    (folder / "sub" / "c").write_bytes(b"1")
    return folder


# --------------------------------------------------------------------------- paths


def test_parse_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rel = parse_root("./rel/")
    assert rel.root == (tmp_path / "rel").resolve().as_posix()
    assert (rel.protocol, rel.type, rel.is_local) == ("file", "local", True)
    assert parse_root(f"file://{tmp_path}/x").root == (tmp_path / "x").as_posix()
    s3 = parse_root("S3://bucket/prefix/", {"anon": True})
    assert (s3.root, s3.type, s3.bucket_root) == (
        "s3://bucket/prefix",
        "s3",
        "s3://bucket",
    )
    assert "anon" not in repr(s3)  # storage options never shown
    assert parse_root("gs://b").type == "gs"
    for bad in ["s3://", "s3://b/../x", "s3://b//x"]:
        with pytest.raises(ValueError):
            parse_root(bad)
    assert bucket_root("s3://b/x/y") == "s3://b"
    with pytest.raises(ValueError):
        bucket_root("/local/path")


def test_validate_key() -> None:
    assert validate_key("a/b.csv") == "a/b.csv"
    assert validate_key("folder/") == "folder"
    assert validate_key(".lamindb/abc.parquet", allow_internal=True)
    bad = [
        "",
        "  ",
        "../x",
        "a/../../x",
        "a/..",
        "/abs/path",
        "a//b",
        "./a",
        "a\\..\\b",
        "%2e%2e/x",
        "s3://other/key",
        "C:/windows",
        "a\nb",
        ".lamindb/x",
        ".LAMINDB/x",
        ".lamindb",
    ]
    for key in bad:
        with pytest.raises(InvalidKeyError):
            validate_key(key)
    with pytest.raises(InvalidKeyError, match="reserved"):
        validate_key(".lamindb/x")
    with pytest.raises(InvalidKeyError, match="escape"):
        validate_key("../x", allow_internal=True)
    assert isinstance(InvalidKeyError("x"), ValueError)


def test_join_and_inside(tmp_path: Path) -> None:
    local = parse_root(tmp_path)
    assert join(local, "a/b") == f"{tmp_path.resolve().as_posix()}/a/b"
    assert join("s3://b/p", "k") == "s3://b/p/k"
    with pytest.raises(InvalidKeyError):
        join(local, "../escape")
    assert relative_key(tmp_path / "a" / "b.csv", local) == "a/b.csv"
    assert relative_key(tmp_path, local) is None
    assert relative_key(tmp_path.parent / "other", local) is None
    assert relative_key(f"{tmp_path}-sibling/x", local) is None
    assert relative_key("s3://b/p/x/y.csv", "s3://b/p") == "x/y.csv"
    assert not is_inside("s3://b/px/y", "s3://b/p")
    assert not is_inside("s3://other/p/y", "s3://b/p")
    assert is_inside("s3://b/p/y", "s3://b")


def test_symlinked_path_is_inside(tmp_path: Path) -> None:
    real = tmp_path / "real"
    (real / "d").mkdir(parents=True)
    (tmp_path / "link").symlink_to(real)
    assert relative_key(tmp_path / "link" / "d" / "f", parse_root(real)) == "d/f"


def test_s3_fs_follows_environment(s3_server: str) -> None:  # noqa: F811
    fs = get_fs("s3")
    assert fs is get_fs("s3")
    assert s3_server in str(fs.client_kwargs.get("endpoint_url") or fs.endpoint_url)


# --------------------------------------------------------------------------- put/stage


def test_put_file(root: StorageRoot, src_file: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    hash_, hash_type, n = put_file(
        src_file, root, "data/file.csv", progress=lambda d, t: seen.append((d, t))
    )
    assert (hash_, hash_type) == hash_file(src_file)
    assert n == src_file.stat().st_size
    assert read_bytes(root, "data/file.csv") == src_file.read_bytes()
    assert seen[-1] == (n, n)
    assert tmp_objects(root) == []
    assert exists(root, "data/file.csv") and size(root, "data/file.csv") == n
    meta = info(root, "data/file.csv")
    assert meta["type"] == "file" and meta["size"] == n and meta["mtime"] > 0
    if root.is_cloud:
        assert meta["etag"]
    with pytest.raises(InvalidKeyError):
        put_file(src_file, root, "../outside.csv")


def test_stage_commit(root: StorageRoot, src_file: Path) -> None:
    staged = stage(src_file, root, ".lamindb/UID123.csv")
    assert (staged.hash, staged.hash_type) == hash_file(src_file)
    assert staged.size == src_file.stat().st_size
    assert staged.tmp_key.startswith(TMP_PREFIX) and staged.tmp_key.endswith(".csv")
    assert exists(root, staged.tmp_key)
    assert not exists(root, ".lamindb/UID123.csv")
    assert staged.commit() == root.join(".lamindb/UID123.csv")
    assert read_bytes(root, ".lamindb/UID123.csv") == src_file.read_bytes()
    assert tmp_objects(root) == []
    assert staged.commit() == staged.final_path  # idempotent
    assert staged.abort() is False  # no-op after commit
    assert exists(root, ".lamindb/UID123.csv")


def test_stage_commit_replaces_existing(root: StorageRoot, src_file: Path) -> None:
    write_remote(root, "k.csv", b"old")
    stage(src_file, root, "k.csv").commit()
    assert read_bytes(root, "k.csv") == src_file.read_bytes()


def test_stage_abort(root: StorageRoot, src_file: Path) -> None:
    staged = stage(src_file, root, "final.csv")
    assert tmp_objects(root)
    assert staged.abort() is True
    assert staged.abort() is False  # idempotent
    assert tmp_objects(root) == []
    assert not exists(root, "final.csv")
    with pytest.raises(StorageError, match="aborted"):
        staged.commit()


def test_stage_context_manager_aborts(root: StorageRoot, src_file: Path) -> None:
    with pytest.raises(RuntimeError):
        with stage(src_file, root, "ctx.csv"):
            raise RuntimeError("database insert failed")
    assert tmp_objects(root) == [] and not exists(root, "ctx.csv")
    with stage(src_file, root, "ctx.csv") as staged:
        staged.commit()
    assert exists(root, "ctx.csv")


@pytest.mark.parametrize("fail_after", [0, 100, 20 * MiB])
def test_failure_mid_copy_leaves_nothing(root: StorageRoot, fail_after: int) -> None:
    data = os.urandom(30 * MiB)
    with pytest.raises(StorageError, match="nothing was stored") as excinfo:
        stage(FailingReader(data, fail_after), root, "broken.bin")
    assert isinstance(excinfo.value.__cause__, OSError)
    assert tmp_objects(root) == []
    with pytest.raises(StorageError):
        put_file(FailingReader(data, fail_after), root, "broken.bin", tmp=False)
    assert not exists(root, "broken.bin")
    if root.is_cloud:
        assert pending_uploads(root) == []  # multipart uploads were aborted


def test_failing_progress_callback_cleans_up(root: StorageRoot, src_file: Path) -> None:
    def explode(done: int, total: int | None) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        stage(src_file, root, "x.csv", progress=explode)
    assert tmp_objects(root) == []


def test_large_file_multipart(root: StorageRoot, tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(60 * MiB + 123))
    staged = stage(path, root, "big.bin")
    assert (staged.hash, staged.hash_type) == hash_file(path)
    assert staged.hash_type == "sha1-fl"
    staged.commit()
    assert read_bytes(root, "big.bin") == path.read_bytes()
    assert put_file(path, root, "direct.bin", tmp=False) == (
        staged.hash,
        "sha1-fl",
        staged.size,
    )
    if root.is_cloud:  # uploaded in 8 MiB parts: multipart ETag
        remote = stat_remote_hash(root.join("direct.bin"))
        assert remote.hash_type == "md5-n" and remote.size == staged.size
        assert remote.hash.endswith(f"-{-(-staged.size // (8 * MiB))}")


def test_large_local_file_kernel_copy(tmp_path: Path) -> None:
    # > 2 x 50 MiB: head and tail are hashed, the middle is copied by the kernel
    path = tmp_path / "huge.bin"
    with open(path, "wb") as f:
        for _ in range(14):
            f.write(os.urandom(8 * MiB))
        f.write(b"end")
    seen: list[int] = []
    root = parse_root(tmp_path / "storage")
    result = put_file(path, root, "huge.bin", progress=lambda d, t: seen.append(d))
    assert result == (*hash_file(path), path.stat().st_size)
    assert Path(root.join("huge.bin")).read_bytes() == path.read_bytes()
    assert seen == sorted(seen) and seen[-1] == path.stat().st_size


def test_stage_from_file_object(root: StorageRoot) -> None:
    data = b"xyz" * 10
    staged = stage(io.BytesIO(data), root, "obj.txt")
    assert staged.hash == hash_file(io.BytesIO(data))[0] and staged.size == 30
    staged.commit()
    assert read_bytes(root, "obj.txt") == data


# --------------------------------------------------------------------------- folders


def test_stage_dir_commit(root: StorageRoot, src_dir: Path) -> None:
    progress: list[tuple[int, int | None]] = []
    staged = stage(
        src_dir, root, ".lamindb/UID.zarr", progress=lambda *a: progress.append(a)
    )
    assert staged.is_dir and staged.n_objects == 3 and staged.size == 3
    assert (staged.hash, staged.hash_type) == ("iGtHiFEBV3r1_TFovdQCgw", "md5-d")
    assert progress[-1] == (3, 3)
    staged.commit()
    assert read_bytes(root, ".lamindb/UID.zarr/sub/c") == b"1"
    assert tmp_objects(root) == []
    meta = info(root, ".lamindb/UID.zarr")
    assert (meta["type"], meta["size"], meta["n_objects"]) == ("directory", 3, 3)
    # a new version of the folder replaces the previous content at the key
    (src_dir / "a").unlink()
    (src_dir / "new").write_bytes(b"new")
    staged = stage_dir(src_dir, root, ".lamindb/UID.zarr")
    assert staged.hash == hash_dir(src_dir)[0]
    staged.commit()
    assert not exists(root, ".lamindb/UID.zarr/a")
    assert read_bytes(root, ".lamindb/UID.zarr/new") == b"new"
    assert tmp_objects(root) == []
    assert delete(root, ".lamindb/UID.zarr") is True
    assert not exists(root, ".lamindb/UID.zarr/new")
    assert delete(root, ".lamindb/UID.zarr") is False


def test_stage_dir_abort(root: StorageRoot, src_dir: Path) -> None:
    staged = stage_dir(src_dir, root, "folder")
    assert len(tmp_objects(root)) == 3
    staged.abort()
    assert tmp_objects(root) == [] and not exists(root, "folder")


def test_stage_dir_without_files(root: StorageRoot, tmp_path: Path) -> None:
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(StorageError, match="contains no files"):
        stage(tmp_path / "empty", root, "empty")
    with pytest.raises(StorageError, match="contains no files"):
        stage_dir(tmp_path / "empty", root, "empty")
    assert tmp_objects(root) == []


def make_unreadable(path: Path) -> None:
    """A file whose read fails (EIO via /proc/self/mem when running as root)."""
    if os.geteuid() == 0:
        path.symlink_to("/proc/self/mem")
    else:
        path.write_bytes(b"secret")
        path.chmod(0)


def test_stage_dir_failure_removes_partial(root: StorageRoot, src_dir: Path) -> None:
    make_unreadable(src_dir / "sub" / "unreadable")
    with pytest.raises(StorageError, match="unreadable") as excinfo:
        stage_dir(src_dir, root, "partial")
    assert isinstance(excinfo.value.__cause__ or excinfo.value, OSError)
    assert tmp_objects(root) == []
    assert not exists(root, "partial")


# --------------------------------------------------------------------------- S3 hashes


def test_etag_equals_local_md5(s3_bucket: str, src_file: Path) -> None:  # noqa: F811
    root = parse_root(s3_bucket)
    put_file(src_file, root, "plain.csv")
    remote = stat_remote_hash(f"{s3_bucket}/plain.csv")
    assert (remote.hash, remote.hash_type) == hash_file(src_file)
    assert remote.size == src_file.stat().st_size


def test_remote_dir_hash(s3_bucket: str, src_dir: Path) -> None:  # noqa: F811
    root = parse_root(s3_bucket)
    stage_dir(src_dir, root, "folder").commit()
    remote = stat_remote_hash(f"{s3_bucket}/folder")
    objects = root.fs.find(f"{s3_bucket}/folder", detail=True).values()
    assert remote == hash_remote_dir(objects)
    assert (remote.hash_type, remote.size, remote.n_objects) == ("md5-d", 3, 3)
    with pytest.raises(StorageError):
        stat_remote_hash(f"{s3_bucket}/missing")


def test_stat_hash_local(src_file: Path, src_dir: Path) -> None:
    assert stat_remote_hash(src_file)[:2] == hash_file(src_file)
    assert stat_remote_hash(src_dir).hash == "iGtHiFEBV3r1_TFovdQCgw"


# --------------------------------------------------------------------------- cache


def test_cache_local_returns_real_path(tmp_path: Path, src_file: Path) -> None:
    assert cache(src_file, tmp_path / "cache") == src_file.resolve()
    assert cache(f"file://{src_file}", tmp_path / "cache") == src_file.resolve()
    assert not (tmp_path / "cache").exists()
    with pytest.raises(StorageError):
        cache(tmp_path / "missing", tmp_path / "cache")


def test_cache_refresh(s3_bucket: str, tmp_path: Path) -> None:  # noqa: F811
    root = parse_root(s3_bucket)
    cache_dir = tmp_path / "cache"
    write_remote(root, "dir/obj.txt", b"version-1")
    remote = f"{s3_bucket}/dir/obj.txt"
    local = cache(remote, cache_dir)
    assert local == cache_dir.resolve() / s3_bucket[5:] / "dir" / "obj.txt"
    assert local.read_bytes() == b"version-1"
    before = local.stat()
    again = cache(remote, cache_dir)  # unchanged: no download
    after = again.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    # same size, same second: the ETag still tells the change
    write_remote(root, "dir/obj.txt", b"version-2")
    assert cache(remote, cache_dir).read_bytes() == b"version-2"
    # a locally modified cache copy is refreshed as well
    local.write_bytes(b"tampered!")
    assert cache(remote, cache_dir).read_bytes() == b"version-2"
    with pytest.raises(StorageError):
        cache(f"{s3_bucket}/dir/missing.txt", cache_dir)


def test_cache_without_sidecar_uses_mtime(s3_bucket: str, tmp_path: Path) -> None:  # noqa: F811
    root = parse_root(s3_bucket)
    write_remote(root, "f.txt", b"abc")
    local = cache(f"{s3_bucket}/f.txt", tmp_path)
    for sidecar in (tmp_path / ".lamin_sa").rglob("*.json"):
        sidecar.unlink()
    os.utime(local, (time.time(), time.time() + 60))  # newer than the remote
    inode = local.stat().st_ino
    assert cache(f"{s3_bucket}/f.txt", tmp_path).stat().st_ino == inode
    os.utime(local, (0, 0))  # older than the remote: download again
    assert cache(f"{s3_bucket}/f.txt", tmp_path).stat().st_ino != inode


def test_failed_download_leaves_no_partial_file(
    s3_bucket: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    root = parse_root(s3_bucket)
    write_remote(root, "big.bin", b"old")
    remote = f"{s3_bucket}/big.bin"
    local = cache(remote, tmp_path)
    write_remote(root, "big.bin", os.urandom(3 * MiB))

    def interrupt(done: int, total: int | None) -> None:
        if done > 1 * MiB:
            raise RuntimeError("connection lost")

    with pytest.raises(StorageError, match="cache was left unchanged"):
        cache(remote, tmp_path, progress=interrupt)
    assert local.read_bytes() == b"old"  # previous copy untouched
    assert [p.name for p in local.parent.iterdir()] == ["big.bin"]  # no .part file
    assert len(cache(remote, tmp_path).read_bytes()) == 3 * MiB


def test_cache_folder(s3_bucket: str, tmp_path: Path, src_dir: Path) -> None:  # noqa: F811
    root = parse_root(s3_bucket)
    stage_dir(src_dir, root, "ds.zarr").commit()
    local = cache(f"{s3_bucket}/ds.zarr", tmp_path)
    assert hash_dir(local)[0] == hash_dir(src_dir)[0]
    inode = (local / "a").stat().st_ino
    delete(root, "ds.zarr/b")
    write_remote(root, "ds.zarr/sub/c", b"2")
    local = cache(f"{s3_bucket}/ds.zarr", tmp_path)
    assert sorted(
        p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file()
    ) == [
        "a",
        "sub/c",
    ]
    assert (local / "sub" / "c").read_bytes() == b"2"
    assert (local / "a").stat().st_ino == inode  # unchanged file not downloaded


def test_add_to_cache(s3_bucket: str, tmp_path: Path, src_file: Path) -> None:  # noqa: F811
    remote = f"{s3_bucket}/up/data.csv"
    put_file(src_file, parse_root(s3_bucket), "up/data.csv")
    work = tmp_path / "work.csv"
    work.write_bytes(src_file.read_bytes())
    local = add_to_cache(work, remote, tmp_path / "cache", move=True)
    assert not work.exists() and local.read_bytes() == src_file.read_bytes()
    inode = local.stat().st_ino
    assert cache(remote, tmp_path / "cache").stat().st_ino == inode  # no download


# --------------------------------------------------------------------------- misc


def test_purge_tmp(root: StorageRoot, src_file: Path) -> None:
    stale = stage(src_file, root, "stale.csv")
    assert purge_tmp(root) == 0  # recent: may belong to a save in progress
    assert purge_tmp(root, older_than=-60) == 1
    assert tmp_objects(root) == []
    assert stale.abort() is False  # already gone, no error


def test_delete_missing(root: StorageRoot) -> None:
    assert delete(root, "nothing/here") is False
    assert not exists(root, "nothing/here")
    with pytest.raises(StorageError):
        info(root, "nothing/here")
