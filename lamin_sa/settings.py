"""User-level settings: registered instances, the user, behaviour switches.

Files live under ``$LAMIN_SA_HOME`` (default: the platform's user config dir):
``user.json``, ``current.json`` (the auto-connect instance) and
``instances/<name>.json``. Database passwords are never written: URLs are stored
without them and the password comes from the URL passed at connect time, the
``LAMIN_SA_DB_PASSWORD`` environment variable or ``~/.pgpass``.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import re
import secrets
import sys
import types
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lamin_sa.config import default_cache_dir

logger = logging.getLogger("lamin_sa")

VERBOSITY_LEVELS = {
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "success": logging.INFO,
    "info": logging.INFO,
    "hint": logging.INFO,
    "debug": logging.DEBUG,
}
HASH_EXISTS_POLICIES = ("warn_return_existing", "error", "warn_create_new")


def home_dir() -> Path:
    """The folder holding lamin-sa's user settings."""
    env = os.environ.get("LAMIN_SA_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("lamin-sa"))


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # a temp name per process and call: concurrent writers never share one
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)


def strip_password(url: str) -> str:
    """Return ``url`` without its password (safe to store and to log)."""
    from sqlalchemy.engine import make_url

    if url.startswith("sqlite"):
        return url
    return make_url(url)._replace(password=None).render_as_string(hide_password=False)


def slugify(name: str) -> str:
    """Lower-case an instance name and replace characters that are not allowed."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-")
    if not slug:
        raise ValueError(f"Cannot derive an instance name from {name!r}: pass name=.")
    return slug


@dataclass
class UserSettings:
    """The local user identity (``lamin-sa login HANDLE``)."""

    handle: str
    uid: str
    name: str | None = None

    @staticmethod
    def load() -> UserSettings:
        """The logged-in user, or the OS user name when nobody logged in."""
        data = _read_json(home_dir() / "user.json")
        if data:
            return UserSettings(**data)
        from lamin_sa.db.uid import hash_to_uid

        handle = _os_user()
        return UserSettings(handle=handle, uid=hash_to_uid(f"user:{handle}", 8))

    def store(self) -> None:
        _write_json(home_dir() / "user.json", asdict(self))


def _os_user() -> str:
    try:
        name = getpass.getuser()
    except Exception:  # no passwd entry (containers)
        name = "anonymous"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:30] or "anonymous"


@dataclass
class InstanceSettings:
    """Where an instance lives: its database URL (no password) and storage root."""

    name: str
    uid: str
    db: str
    storage_root: str
    modules: list[str] = field(default_factory=lambda: ["core"])

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return "sqlite" if self.db.startswith("sqlite") else "postgresql"

    @property
    def slug(self) -> str:
        return self.name

    @staticmethod
    def path_for(name: str) -> Path:
        return home_dir() / "instances" / f"{name}.json"

    @classmethod
    def load(cls, name: str) -> InstanceSettings | None:
        data = _read_json(cls.path_for(name))
        return None if data is None else cls(**data)

    @classmethod
    def all(cls) -> list[InstanceSettings]:
        folder = home_dir() / "instances"
        if not folder.exists():
            return []
        out = []
        for p in sorted(folder.glob("*.json")):
            data = _read_json(p)
            if data:
                out.append(cls(**data))
        return out

    def store(self) -> None:
        data = asdict(self)
        data["db"] = strip_password(self.db)
        _write_json(self.path_for(self.name), data)

    def forget(self) -> None:
        self.path_for(self.name).unlink(missing_ok=True)

    def __repr__(self) -> str:
        return (
            f"Instance(name={self.name!r}, uid={self.uid!r}, "
            f"db={strip_password(self.db)!r}, storage={self.storage_root!r}, "
            f"modules={self.modules!r})"
        )


def current_instance_name() -> str | None:
    """The instance to auto-connect to, if any."""
    data = _read_json(home_dir() / "current.json")
    return None if not data else data.get("instance")


def set_current_instance(name: str | None) -> None:
    path = home_dir() / "current.json"
    if name is None:
        path.unlink(missing_ok=True)
    else:
        _write_json(path, {"instance": name})


@dataclass
class TransformSettings:
    """``ln.settings.transform``: pin the uid of the tracked script or notebook.

    Optional: ``ln.track()`` identifies scripts and notebooks by key and source
    hash. Setting both pins the transform uid to
    ``stem_uid + hash_to_uid(version, 4)`` (LaminDB's convention).
    """

    stem_uid: str | None = None
    version: str | None = None


class Settings:
    """``ln.settings``: the connected instance, the user and behaviour switches."""

    def __init__(self) -> None:
        self._verbosity = "warning"
        self._cache_dir: Path | None = None
        self.track_run_inputs: bool = True
        self.transform = TransformSettings()
        self.silence_file_run_transform_warning: bool = False
        self.upon_create_search_names: bool = True
        self.artifact_use_virtual_keys: bool = True
        self.upon_file_create_skip_size_hash: bool = False
        self._upon_hash_exists = "warn_return_existing"
        self.verbosity = "warning"

    @property
    def instance(self) -> InstanceSettings:
        """The connected instance (auto-connects to the last used one)."""
        from lamin_sa.instance import current_instance

        return current_instance()

    @property
    def user(self) -> UserSettings:
        """The current user identity."""
        return UserSettings.load()

    @property
    def storage(self) -> str:
        """The default storage root; set it to switch (``"s3://bucket/prefix"``)."""
        return self.instance.storage_root

    @storage.setter
    def storage(self, root: str | Path) -> None:
        from lamin_sa.instance import set_storage

        set_storage(root)

    @property
    def cache_dir(self) -> Path:
        """Local cache for remote objects (``$LAMIN_SA_CACHE_DIR`` overrides)."""
        path = self._cache_dir or default_cache_dir()
        path.mkdir(parents=True, exist_ok=True)
        return path

    @cache_dir.setter
    def cache_dir(self, value: str | Path) -> None:
        self._cache_dir = Path(value).expanduser().resolve()

    @property
    def verbosity(self) -> str:
        """One of error, warning (default), success, info, hint, debug."""
        return self._verbosity

    @verbosity.setter
    def verbosity(self, value: str | int) -> None:
        if isinstance(value, int):
            names = ["error", "warning", "success", "info", "hint", "debug"]
            value = names[max(0, min(value, len(names) - 1))]
        if value not in VERBOSITY_LEVELS:
            raise ValueError(
                f"verbosity must be one of {list(VERBOSITY_LEVELS)}, got {value!r}"
            )
        self._verbosity = value
        logging.getLogger("lamin_sa").setLevel(VERBOSITY_LEVELS[value])

    @property
    def upon_artifact_create_if_hash_exists(self) -> str:
        """What creating an artifact with a stored hash does."""
        return self._upon_hash_exists

    @upon_artifact_create_if_hash_exists.setter
    def upon_artifact_create_if_hash_exists(self, value: str) -> None:
        if value not in HASH_EXISTS_POLICIES:
            raise ValueError(f"Choose one of {HASH_EXISTS_POLICIES}, got {value!r}")
        self._upon_hash_exists = value

    def __repr__(self) -> str:
        from lamin_sa.instance import connected_instance

        inst = connected_instance()
        return (
            f"Settings(instance={inst.name if inst else None!r}, "
            f"user={self.user.handle!r}, verbosity={self.verbosity!r})"
        )


settings = Settings()


class _SettingsModule(types.ModuleType):
    """Makes this module itself behave as ``ln.settings``.

    Python sets the package attribute ``lamin_sa.settings`` to this module when it
    is first imported, so the module forwards attribute access to the Settings
    object: ``ln.settings.verbosity = "info"`` works however it was reached.
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(settings, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(Settings, name) or name in settings.__dict__:
            setattr(settings, name, value)
        else:
            super().__setattr__(name, value)

    def __repr__(self) -> str:
        return repr(settings)


sys.modules[__name__].__class__ = _SettingsModule


class _Formatter(logging.Formatter):
    """One short line per message, marked by level as LaminDB does."""

    MARKS = {logging.DEBUG: "🐛", logging.INFO: "💡", logging.WARNING: "❗"}

    def format(self, record: logging.LogRecord) -> str:
        mark = self.MARKS.get(record.levelno, "❌")
        return f"{mark} {record.getMessage()}"


def _install_log_handler() -> None:
    log = logging.getLogger("lamin_sa")
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(_Formatter())
        log.addHandler(handler)
        # our handler prints; the root logger does not print it twice
        log.propagate = False


_install_log_handler()
