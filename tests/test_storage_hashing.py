from __future__ import annotations

import base64
import hashlib
import io
import os
import threading
from pathlib import Path

import pytest

from lamin_sa.errors import StorageError
from lamin_sa.storage.hashing import (
    FIRST_LAST_SIZE,
    StreamHasher,
    hash_dir,
    hash_file,
    hash_from_etag,
    hash_from_hashes,
    hash_remote_dir,
    hash_set,
)

MiB = 1024 * 1024


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def reference_hash(data: bytes) -> tuple[str, str]:
    """Independent, in-memory statement of the LaminDB file hash."""
    if len(data) <= FIRST_LAST_SIZE:
        return _b64(hashlib.md5(data).digest()), "md5"
    first = hashlib.sha1(data[:FIRST_LAST_SIZE]).digest()
    last = hashlib.sha1(data[-FIRST_LAST_SIZE:]).digest()
    return _b64(hashlib.sha1(first + last).digest())[:22], "sha1-fl"


def stream_hash(data: bytes, chunk: int) -> tuple[str, str]:
    hasher = StreamHasher()
    view = memoryview(data)
    for start in range(0, len(data), chunk):
        hasher.update(bytes(view[start : start + chunk]))
    assert hasher.size == len(data)
    return hasher.result()


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    data = os.urandom(60 * MiB)
    path = tmp_path_factory.mktemp("big") / "big.bin"
    path.write_bytes(data)
    return path, data


def test_file_vector(tmp_path: Path) -> None:
    path = tmp_path / "zero.txt"
    path.write_bytes(b"0")
    assert hash_file(path) == ("z80ghJXVZe9m59_5-Ydk2g", "md5")
    assert hash_file(str(path)) == ("z80ghJXVZe9m59_5-Ydk2g", "md5")
    with open(path, "rb") as f:
        assert hash_file(f) == ("z80ghJXVZe9m59_5-Ydk2g", "md5")
    assert stream_hash(b"0", 1) == ("z80ghJXVZe9m59_5-Ydk2g", "md5")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert hash_file(path) == reference_hash(b"") == StreamHasher().result()


def test_small_file_stream_equals_file(tmp_path: Path) -> None:
    data = os.urandom(3 * MiB + 17)
    path = tmp_path / "small.bin"
    path.write_bytes(data)
    expected = reference_hash(data)
    assert expected[1] == "md5"
    assert hash_file(path) == expected
    assert stream_hash(data, 1 * MiB) == expected
    assert stream_hash(data, 8 * MiB) == expected


def test_large_file_stream_equals_file(big_file: tuple[Path, bytes]) -> None:
    path, data = big_file
    expected = reference_hash(data)
    assert expected[1] == "sha1-fl"
    assert len(expected[0]) == 22
    assert hash_file(path) == expected
    with open(path, "rb") as f:
        assert hash_file(f) == expected
    # chunk sizes that do and do not divide 50 MiB
    assert stream_hash(data, 8 * MiB) == expected
    assert stream_hash(data, 3 * MiB + 7) == expected
    assert stream_hash(data, 60 * MiB) == expected


def test_non_seekable_stream(big_file: tuple[Path, bytes]) -> None:
    path, data = big_file
    read_fd, write_fd = os.pipe()

    def feed() -> None:
        with open(write_fd, "wb") as w:
            w.write(data)

    writer = threading.Thread(target=feed)
    writer.start()
    with open(read_fd, "rb") as r:
        assert not r.seekable()
        assert hash_file(r) == hash_file(path)
    writer.join()


@pytest.mark.parametrize("size", [FIRST_LAST_SIZE, FIRST_LAST_SIZE + 1])
def test_threshold(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    path = tmp_path / "edge.bin"
    path.write_bytes(data)
    expected = reference_hash(data)
    assert expected[1] == ("md5" if size == FIRST_LAST_SIZE else "sha1-fl")
    assert hash_file(path) == expected
    assert stream_hash(data, 8 * MiB) == expected
    assert hash_file(io.BytesIO(data)) == expected


@pytest.mark.parametrize("threaded", [False, True])
def test_stream_hasher_known_size(big_file: tuple[Path, bytes], threaded: bool) -> None:
    _, data = big_file
    hasher = StreamHasher(len(data), threaded=threaded)
    for start in range(0, len(data), 7 * MiB):
        hasher.update(data[start : start + 7 * MiB])
    assert hasher.result() == reference_hash(data)
    small = StreamHasher(1, threaded=threaded)
    small.update(b"0")
    assert small.result() == ("z80ghJXVZe9m59_5-Ydk2g", "md5")


def test_stream_hasher_skip_and_size_check() -> None:
    size = 2 * FIRST_LAST_SIZE + 10
    data = os.urandom(size)
    hasher = StreamHasher(size)
    hasher.update(data[:FIRST_LAST_SIZE])
    with pytest.raises(ValueError):
        hasher.skip(11)  # would skip bytes of the last 50 MiB
    hasher.skip(10)
    hasher.update(data[FIRST_LAST_SIZE + 10 :])
    assert hasher.result() == reference_hash(data)
    with pytest.raises(ValueError):
        StreamHasher().skip(1)  # unknown size: everything may be needed
    short = StreamHasher(5)
    short.update(b"abc")
    with pytest.raises(StorageError, match="changed while it was read"):
        short.result()


def test_stream_hasher_accepts_mutable_chunks() -> None:
    buf = bytearray(b"0")
    hasher = StreamHasher()
    hasher.update(buf)
    buf[0] = ord("1")  # mutating after feeding must not change the result
    hasher.update(memoryview(b""))
    assert hasher.result() == ("z80ghJXVZe9m59_5-Ydk2g", "md5")


def test_dir_vector(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a").write_bytes(b"0")
    (folder / "b").write_bytes(b"0")
    (folder / "c").write_bytes(b"1")
    assert hash_dir(folder) == ("iGtHiFEBV3r1_TFovdQCgw", "md5-d", 3, 3)
    assert hash_dir(folder, max_workers=1)[0] == "iGtHiFEBV3r1_TFovdQCgw"


def test_dir_nested_and_order_independent(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    (one / "sub" / "deeper").mkdir(parents=True)
    two.mkdir()
    (one / "x").write_bytes(b"0")
    (one / "sub" / "y").write_bytes(b"0")
    (one / "sub" / "deeper" / "z").write_bytes(b"1")
    for name, content in [("p", b"1"), ("q", b"0"), ("r", b"0")]:
        (two / name).write_bytes(content)
    assert hash_dir(one)[0] == hash_dir(two)[0] == "iGtHiFEBV3r1_TFovdQCgw"


def test_dir_without_files(tmp_path: Path) -> None:
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(StorageError, match="contains no files"):
        hash_dir(tmp_path / "empty")
    with pytest.raises(StorageError):
        hash_dir(tmp_path / "missing")


def test_hash_from_etag() -> None:
    hexdigest = hashlib.md5(b"0").hexdigest()
    assert hash_from_etag(f'"{hexdigest}"') == ("z80ghJXVZe9m59_5-Ydk2g", "md5")
    assert hash_from_etag(hexdigest.upper()) == ("z80ghJXVZe9m59_5-Ydk2g", "md5")
    assert hash_from_etag(f'"{hexdigest}-12"') == (
        "z80ghJXVZe9m59_5-Ydk2g-12",
        "md5-n",
    )
    with pytest.raises(ValueError):
        hash_from_etag('"not-hex"')


def test_hash_remote_dir() -> None:
    etags = ['"aaa"', '"bbb-2"', '"ccc"']
    entries = [{"ETag": e, "size": 10} for e in etags]
    expected = hash_from_hashes(["aaa", "bbb-2", "ccc"])
    assert hash_remote_dir(entries) == (expected, "md5-d", 30, 3)
    assert hash_remote_dir(reversed(etags))[0] == expected
    with pytest.raises(StorageError):
        hash_remote_dir([])


def test_hash_set() -> None:
    strings = ["uid2", "uid1", "uid3"]
    expected = _b64(hashlib.md5(b"uid1:uid2:uid3").digest())[:20]
    assert hash_set(strings) == expected
    assert hash_set(set(strings)) == expected
    assert len(expected) == 20
