"""Storage roots, keys and filesystems (through fsspec).

A storage root is a local folder (``/abs/dir``) or a URL prefix (``s3://bucket/p``).
Objects live at ``<root>/<key>``; keys are relative posix paths that may not escape
the root. Credentials are never stored on a root: S3 uses the standard AWS
configuration (environment variables, profiles, ``AWS_ENDPOINT_URL``) plus the
optional in-memory ``storage_options``.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from lamin_sa.errors import InvalidKeyError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = [
    "INTERNAL_PREFIX",
    "TMP_PREFIX",
    "StorageRoot",
    "as_root",
    "bucket_root",
    "get_fs",
    "is_inside",
    "join",
    "parse_root",
    "protocol_of",
    "relative_key",
    "split_url",
    "validate_key",
]

INTERNAL_PREFIX = ".lamindb/"
TMP_PREFIX = ".lamindb/_tmp/"

_AWS_ENV = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
)
_FS_CACHE: dict[tuple[Any, ...], AbstractFileSystem] = {}
_FS_LOCK = threading.Lock()


def protocol_of(path: str | os.PathLike[str]) -> str:
    """Return the fsspec protocol of a path: ``"file"`` for local paths."""
    text = os.fspath(path)
    if "://" not in text:
        return "file"
    return text.split("://", 1)[0].lower()


def split_url(url: str) -> tuple[str, str, str]:
    """Split ``proto://bucket/key/path`` into ``(proto, bucket, key/path)``."""
    protocol, _, rest = url.partition("://")
    bucket, _, key = rest.partition("/")
    return protocol.lower(), bucket, key.strip("/")


def _normalize(path: str | os.PathLike[str]) -> tuple[str, str]:
    """Return ``(protocol, normalized path)`` for a local path or URL."""
    text = os.fspath(path)
    protocol = protocol_of(text)
    if protocol == "file":
        if text.lower().startswith("file://"):
            rest = text[len("file://") :]
            if rest.startswith("localhost/"):
                rest = rest[len("localhost") :]
            if not rest.startswith("/"):
                raise ValueError(f"{text!r} is not an absolute file:// URL.")
            text = unquote(rest)
        return "file", Path(text).expanduser().resolve().as_posix()
    bucket, _, key = text.split("://", 1)[1].partition("/")
    key = key.rstrip("/")
    if not bucket:
        raise ValueError(f"{text!r} has no bucket; use {protocol}://bucket[/prefix].")
    segments = key.split("/") if key else []
    if any(s in ("", ".", "..") for s in segments):
        raise ValueError(f"{text!r} contains empty, '.' or '..' path segments.")
    return protocol, f"{protocol}://{bucket}" + (f"/{key}" if key else "")


@dataclass(frozen=True)
class StorageRoot:
    """A storage location: a local folder or a cloud prefix.

    Build one with :func:`parse_root`. ``storage_options`` (fsspec keyword
    arguments, e.g. ``{"profile": "x"}`` or ``{"anon": True}``) live only in
    memory; they are excluded from ``repr`` and comparisons.
    """

    root: str
    protocol: str
    storage_options: Mapping[str, Any] = field(
        default_factory=dict, repr=False, compare=False, hash=False
    )

    @property
    def type(self) -> str:
        """``"local"``, ``"s3"``, or another fsspec protocol name."""
        return "local" if self.protocol == "file" else self.protocol

    @property
    def is_local(self) -> bool:
        return self.protocol == "file"

    @property
    def is_cloud(self) -> bool:
        return not self.is_local

    @cached_property
    def fs(self) -> AbstractFileSystem:
        """The fsspec filesystem for this root."""
        return get_fs(self.protocol, self.storage_options)

    @property
    def bucket_root(self) -> str:
        """``proto://bucket`` for cloud roots, the root itself for local ones."""
        return self.root if self.is_local else bucket_root(self.root)

    def join(self, key: str, *, allow_internal: bool = True) -> str:
        """Return the full path of ``key`` under this root (key validated)."""
        key = validate_key(key, allow_internal=allow_internal)
        if self.protocol == "s3" and "?versionid=" in key.lower():
            # s3fs cuts the path there and would write to another object
            raise InvalidKeyError(
                f"Key {key!r} contains '?versionId=', which S3 paths reserve for "
                "object versions; choose a key without it."
            )
        return f"{self.root.rstrip('/')}/{key}"

    def local_target(self, key: str) -> Path:
        """The local path of ``key`` after resolving symlinks in its folders.

        A key through a symlink must still end inside the root, and a key outside
        ``.lamindb/`` must not end inside it (the instance's own files).

        Raises:
            InvalidKeyError: The resolved path leaves the root, enters
                ``.lamindb/`` from a user key, or the key names a symlink.
        """
        key = validate_key(key, allow_internal=True)
        if not _has_symlink(self._resolved, key):
            return Path(self._resolved, key)  # the common case: a few lstat calls
        final = Path(self.root) / key
        parent = Path(os.path.realpath(final.parent))
        try:
            rel = parent.relative_to(self._resolved)
        except ValueError:
            raise InvalidKeyError(
                f"Key {key!r} leads through a symlink to {parent}, outside the "
                f"storage root {self.root}; use a key without symlinked folders."
            ) from None
        internal = key.lower().startswith(INTERNAL_PREFIX)
        first = rel.parts[0].lower() if rel.parts else final.name.lower()
        if not internal and first == INTERNAL_PREFIX.rstrip("/"):
            raise InvalidKeyError(
                f"Key {key!r} leads through a symlink into '.lamindb/', which is "
                "reserved for lamin-sa; choose another key."
            )
        if final.is_symlink():
            raise InvalidKeyError(
                f"Key {key!r} names a symlink ({final} -> {os.readlink(final)}); "
                "saving would replace the link; choose another key."
            )
        return parent / final.name

    @cached_property
    def _resolved(self) -> str:
        # the root itself is the user's choice (a symlinked root is fine); only
        # the folders below it are checked on every key
        return os.path.realpath(self.root)

    def __str__(self) -> str:
        return self.root


def _has_symlink(root: str, key: str) -> bool:
    """Whether a folder or the object of ``key`` below ``root`` is a symlink."""
    path = root
    for part in key.strip("/").split("/"):
        path = f"{path}/{part}"
        try:
            if stat.S_ISLNK(os.lstat(path).st_mode):
                return True
        except (FileNotFoundError, NotADirectoryError):
            return False  # nothing below a missing folder exists yet
    return False


def parse_root(
    root: str | os.PathLike[str] | StorageRoot,
    storage_options: Mapping[str, Any] | None = None,
) -> StorageRoot:
    """Parse a storage root.

    Args:
        root: ``/abs/dir``, ``./rel`` or ``~/dir`` (made absolute, symlinks
            resolved), ``file:///abs/dir``, or ``proto://bucket[/prefix]``.
        storage_options: Optional fsspec options for the filesystem (kept in
            memory only).

    Returns:
        The normalized :class:`StorageRoot` (no trailing slash).

    Raises:
        ValueError: The root is malformed (no bucket, ``..`` segments, ...).
    """
    if isinstance(root, StorageRoot):
        if storage_options is None:
            return root
        root = root.root
    protocol, normalized = _normalize(root)
    return StorageRoot(normalized, protocol, dict(storage_options or {}))


def as_root(root: str | os.PathLike[str] | StorageRoot) -> StorageRoot:
    """Return ``root`` as a :class:`StorageRoot` (parsing strings and paths)."""
    return root if isinstance(root, StorageRoot) else parse_root(root)


def bucket_root(path: str) -> str:
    """Return the bucket root of a cloud path: ``s3://b/x/y`` → ``s3://b``."""
    protocol, bucket, _ = split_url(path)
    if protocol == "file" or not bucket:
        raise ValueError(f"{path!r} is not a cloud URL like s3://bucket/key.")
    return f"{protocol}://{bucket}"


def validate_key(key: str, *, allow_internal: bool = False) -> str:
    """Check that a storage key stays inside its root and return it.

    Args:
        key: A relative posix path such as ``"project/data.parquet"``.
        allow_internal: Accept keys under ``.lamindb/`` (lamin-sa's own area).

    Returns:
        The key (unchanged; a single trailing ``/`` of folder keys is dropped).

    Raises:
        InvalidKeyError: The key is empty, absolute, a URL, contains ``..``/``.``
            or empty segments, backslashes or control characters, or is reserved.
    """
    if not isinstance(key, str):
        raise InvalidKeyError(f"A key must be a string, got {type(key).__name__}.")
    stripped = key[:-1] if key.endswith("/") and len(key) > 1 else key
    if not stripped.strip():
        raise InvalidKeyError("The key is empty; pass a relative path like 'a/b.csv'.")
    if "://" in stripped:
        raise InvalidKeyError(
            f"Key {key!r} looks like a URL; pass a path relative to the storage root."
        )
    # "C:" or "C:/x" is a Windows drive; "a:b.txt" is a valid relative name
    is_drive = (
        len(stripped) > 1
        and stripped[1] == ":"
        and stripped[0].isalpha()
        and (len(stripped) == 2 or stripped[2] == "/")
    )
    if stripped.startswith("/") or is_drive:
        raise InvalidKeyError(
            f"Key {key!r} is absolute; pass a path relative to the storage root."
        )
    if "\\" in stripped or any(ord(c) < 32 or ord(c) == 127 for c in stripped):
        raise InvalidKeyError(
            f"Key {key!r} contains a backslash or control character; use '/' as "
            "separator and printable characters only."
        )
    for segment in stripped.split("/"):
        if unquote(segment) in ("", ".", ".."):
            raise InvalidKeyError(
                f"Key {key!r} has an empty, '.' or '..' segment; keys may not "
                "escape the storage root — pass a normalized relative path."
            )
    lowered = stripped.lower()
    if not allow_internal and (
        lowered == INTERNAL_PREFIX.rstrip("/") or lowered.startswith(INTERNAL_PREFIX)
    ):
        raise InvalidKeyError(
            f"Key {key!r} starts with '.lamindb/', which is reserved for lamin-sa; "
            "choose another key."
        )
    return stripped


def join(root: str | os.PathLike[str] | StorageRoot, key: str) -> str:
    """Return ``<root>/<key>`` after validating the key (internal keys allowed)."""
    return as_root(root).join(key)


def relative_key(
    path: str | os.PathLike[str], root: str | os.PathLike[str] | StorageRoot
) -> str | None:
    """Return the key of ``path`` inside ``root``, or None if it is not inside.

    Local paths are compared after resolving symlinks; a path equal to the root
    is not inside it (it has no key).
    """
    root = as_root(root)
    try:
        protocol, normalized = _normalize(path)
    except ValueError:
        return None
    if protocol != root.protocol:
        return None
    prefix = root.root.rstrip("/") + "/"
    if not normalized.startswith(prefix) or normalized == prefix:
        return None
    return normalized[len(prefix) :]


def is_inside(
    path: str | os.PathLike[str], root: str | os.PathLike[str] | StorageRoot
) -> bool:
    """Whether ``path`` lies strictly inside the storage ``root``."""
    return relative_key(path, root) is not None


def _env_token() -> str:
    """Fingerprint of the AWS environment, so changed credentials get a new fs."""
    values = "\0".join(os.environ.get(k, "") for k in _AWS_ENV)
    return hashlib.sha256(values.encode()).hexdigest()


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple | set):
        return tuple(_freeze(v) for v in value)
    return value


def get_fs(
    protocol: str, storage_options: Mapping[str, Any] | None = None
) -> AbstractFileSystem:
    """Return an fsspec filesystem for ``protocol``.

    For ``s3`` the standard AWS configuration applies (environment credentials,
    ``AWS_PROFILE``, ``AWS_ENDPOINT_URL``/``AWS_ENDPOINT_URL_S3``); listings are
    not cached (other processes write to shared buckets). Instances are reused per
    process, options and AWS environment; fsspec's own instance cache is skipped.

    Args:
        protocol: ``"file"``, ``"s3"``, or any fsspec protocol.
        storage_options: fsspec keyword arguments (kept in memory only).
    """
    import fsspec

    options = dict(storage_options or {})
    if protocol in ("file", "local"):
        return fsspec.filesystem("file")
    if protocol in ("s3", "s3a"):
        protocol = "s3"
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get(
            "AWS_ENDPOINT_URL"
        )
        client_kwargs = options.get("client_kwargs") or {}
        if endpoint and "endpoint_url" not in options | client_kwargs:
            options["endpoint_url"] = endpoint
        options.setdefault("use_listings_cache", False)
    cache_key = (protocol, _freeze(options), _env_token(), os.getpid())
    with _FS_LOCK:
        fs = _FS_CACHE.get(cache_key)
        if fs is None:
            fs = fsspec.filesystem(protocol, skip_instance_cache=True, **options)
            _FS_CACHE[cache_key] = fs
    return fs
