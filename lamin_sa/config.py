"""Configuration at the bottom of lamin-sa: folders, settings files and switches.

Files live under ``$LAMIN_SA_HOME`` (default: the platform's user config dir):
``user.json``, ``current.json`` (the auto-connect instance) and
``instances/<name>.json``. Every file is written through :func:`atomic_write`, so a
crash or a concurrent writer never leaves half a file.

Database credentials are never written: URLs are stored without their password (in
the user-info part and in query parameters such as ``password`` or
``sslpassword``); the password comes from the URL passed at connect time, the
``LAMIN_SA_DB_PASSWORD`` environment variable or ``~/.pgpass``.

The behaviour switches (``ln.settings.verbosity``, ``cache_dir``, ...) live here in
:data:`switches` so that every layer can read them; ``lamin_sa.settings`` is the
public facade over them.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import re
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

#: LaminDB's levels between the standard ones: ``logger.log(SUCCESS, ...)``
#: marks a completed step (✅), ``logger.log(HINT, ...)`` a suggestion (💡),
#: shown only from ``verbosity="hint"`` on.
SUCCESS = 25
HINT = 15
VERBOSITY_LEVELS = {
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "success": SUCCESS,
    "info": logging.INFO,
    "hint": HINT,
    "debug": logging.DEBUG,
}
#: what a script or notebook shows by default (as LaminDB's introduction)
DEFAULT_VERBOSITY = "info"
HASH_EXISTS_POLICIES = ("warn_return_existing", "error", "warn_create_new")


# ---- folders --------------------------------------------------------------------


def home_dir() -> Path:
    """The folder holding lamin-sa's user settings (``$LAMIN_SA_HOME`` overrides)."""
    env = os.environ.get("LAMIN_SA_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("lamin-sa"))


#: a file (no dot: glob("*.*") finds cached objects only) marking a cache folder
#: lamin-sa made; ``cache clear`` checks it
CACHE_MARKER = "LAMIN_SA_CACHE"


def default_cache_dir() -> Path:
    """The cache folder.

    ``$LAMIN_SA_CACHE_DIR`` if set; else ``$LAMIN_SA_HOME/cache`` when
    ``$LAMIN_SA_HOME`` is set (one folder holds all of a setup's state); else
    the platform's user cache dir.

    Example:
        >>> default_cache_dir().name  # doctest: +SKIP
        'cache'
    """
    env = os.environ.get("LAMIN_SA_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    if os.environ.get("LAMIN_SA_HOME"):
        return home_dir() / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir("lamin-sa"))


def is_own_cache(path: Path) -> bool:
    """True if lamin-sa made this cache folder (its marker file is there).

    Example:
        >>> is_own_cache(switches.cache_dir)  # doctest: +SKIP
        True
    """
    if (path / CACHE_MARKER).is_file():
        return True
    import platformdirs

    # folders named for lamin-sa are its own, also from before the marker
    named = {Path(platformdirs.user_cache_dir("lamin-sa")), home_dir() / "cache"}
    return path.resolve() in {p.resolve() for p in named}


# ---- atomic files ---------------------------------------------------------------


def temp_name(path: Path) -> Path:
    """A hidden sibling of ``path`` unique to this process and call."""
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` all at once: readers see the old or the new file.

    The bytes go to a unique temporary sibling first (concurrent writers never
    share one), then ``os.replace`` moves it over ``path``.

    Example:
        >>> atomic_write(home_dir() / "note.txt", "hello")  # doctest: +SKIP
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    try:
        if isinstance(data, str):
            tmp.write_text(data)
        else:
            tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``, or None if the file does not exist."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write a JSON object atomically (see :func:`atomic_write`)."""
    atomic_write(path, json.dumps(data, indent=2))


# ---- credentials ----------------------------------------------------------------

_SECRET_PARAM = re.compile(r"pass(word|wd)?$|pwd$|secret|token", re.IGNORECASE)
_USERINFO_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^:/@\s]*):[^@\s]*@")


def _is_secret_param(name: str) -> bool:
    return bool(_SECRET_PARAM.search(name))


def strip_credentials(url: str) -> str:
    """Return ``url`` without any password: safe to store, show and log.

    Removes the password of the user-info part (``user:pw@host``) and query
    parameters carrying secrets (``password``, ``sslpassword``, ``*token*``, ...).

    Example:
        >>> strip_credentials("postgresql://me:pw@db/lab?sslpassword=x&sslmode=require")
        'postgresql://me@db/lab?sslmode=require'
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return redact(url)
    base, has_query, query = rest.partition("?")
    netloc, slash, path = base.partition("/")
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        netloc = f"{userinfo.split(':', 1)[0]}@{host}"
    if has_query:
        kept = [p for p in query.split("&") if not _is_secret_param(p.split("=")[0])]
        query = "&".join(kept)
    out = f"{scheme}://{netloc}{slash}{path}"
    return f"{out}?{query}" if query else out


def with_password(url: str) -> str:
    """``url`` with the password of ``LAMIN_SA_DB_PASSWORD`` if it has none.

    Passwords are never stored; they come with the URL given at connect time or
    from the environment (or PostgreSQL's own ``.pgpass``).
    """
    password = os.environ.get("LAMIN_SA_DB_PASSWORD")
    if not password or url.startswith("sqlite"):
        return url
    from sqlalchemy.engine import make_url

    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    parsed = make_url(url)
    if parsed.password or "password" in parsed.query:
        return url
    return parsed.set(password=password).render_as_string(hide_password=False)


def is_db_url(target: str) -> bool:
    """Whether ``target`` is a database URL (not a storage location)."""
    return "://" in target and not target.startswith(("s3://", "file://", "gs://"))


def redact(text: str) -> str:
    """Mask passwords of URLs inside free text (log lines, error messages)."""
    text = _USERINFO_PASSWORD.sub(lambda m: f"{m['scheme']}:***@", text)
    return re.sub(
        r"(?P<key>[?&;\s](?:ssl)?pass(?:word|wd)?|[?&;\s]pwd)=[^&\s'\"]*",
        lambda m: f"{m['key']}=***",
        text,
        flags=re.IGNORECASE,
    )


def slugify(name: str) -> str:
    """Lower-case an instance name and replace characters that are not allowed."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-")
    if not slug:
        raise ValueError(f"Cannot derive an instance name from {name!r}: pass name=.")
    return slug


# ---- settings files -------------------------------------------------------------


@dataclass
class UserSettings:
    """The local user identity (``lamin-sa login HANDLE``)."""

    handle: str
    # derived from the handle where the user is registered (None: not logged in)
    uid: str | None = None
    name: str | None = None

    @staticmethod
    def load() -> UserSettings:
        """The logged-in user, or the OS user name when nobody logged in."""
        data = read_json(home_dir() / "user.json")
        if data:
            return UserSettings(**data)
        return UserSettings(handle=_os_user())

    def store(self) -> None:
        write_json(home_dir() / "user.json", asdict(self))


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

    def __post_init__(self) -> None:
        # an object that never holds a password cannot leak one
        self.db = strip_credentials(self.db)

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
        data = read_json(cls.path_for(name))
        return None if data is None else cls(**data)

    @classmethod
    def all(cls) -> list[InstanceSettings]:
        folder = home_dir() / "instances"
        if not folder.exists():
            return []
        out = []
        for p in sorted(folder.glob("*.json")):
            data = read_json(p)
            if data:
                out.append(cls(**data))
        return out

    def store(self) -> None:
        data = asdict(self)
        data["db"] = strip_credentials(self.db)
        write_json(self.path_for(self.name), data)

    def forget(self) -> None:
        self.path_for(self.name).unlink(missing_ok=True)

    def __repr__(self) -> str:
        return (
            f"Instance(name={self.name!r}, uid={self.uid!r}, "
            f"db={strip_credentials(self.db)!r}, storage={self.storage_root!r}, "
            f"modules={self.modules!r})"
        )


def current_instance_name() -> str | None:
    """The instance to auto-connect to, if any."""
    data = read_json(home_dir() / "current.json")
    return None if not data else data.get("instance")


def set_current_instance(name: str | None) -> None:
    """Remember (or forget, with None) the instance to auto-connect to."""
    path = home_dir() / "current.json"
    if name is None:
        path.unlink(missing_ok=True)
    else:
        write_json(path, {"instance": name})


# ---- switches -------------------------------------------------------------------


@dataclass
class TransformSettings:
    """``ln.settings.transform``: pin the uid of the tracked script or notebook.

    Optional: ``ln.track()`` identifies scripts and notebooks by key and source
    hash. Setting both pins the transform uid to
    ``stem_uid + hash_to_uid(version, 4)`` (LaminDB's convention).
    """

    stem_uid: str | None = None
    version: str | None = None


class Switches:
    """Behaviour switches of the process, shown and set through ``ln.settings``.

    Example:
        >>> from lamin_sa.config import switches
        >>> switches.track_run_inputs
        True
    """

    def __init__(self) -> None:
        self._verbosity = DEFAULT_VERBOSITY
        self._cache_dir: Path | None = None
        self.track_run_inputs: bool = True
        self.transform = TransformSettings()
        self.silence_file_run_transform_warning: bool = False
        self.upon_create_search_names: bool = True
        self.artifact_use_virtual_keys: bool = True
        self.upon_file_create_skip_size_hash: bool = False
        self._upon_hash_exists = "warn_return_existing"

    @property
    def cache_dir(self) -> Path:
        """Local cache for remote objects (``$LAMIN_SA_CACHE_DIR`` overrides)."""
        path = self._cache_dir or default_cache_dir()
        marker = path / CACHE_MARKER
        if not marker.exists() and (not path.exists() or not any(path.iterdir())):
            # a folder lamin-sa creates (or finds empty) is lamin-sa's own
            path.mkdir(parents=True, exist_ok=True)
            marker.write_text("lamin-sa cache: `lamin-sa cache clear` empties it\n")
        path.mkdir(parents=True, exist_ok=True)
        return path

    @cache_dir.setter
    def cache_dir(self, value: str | Path) -> None:
        self._cache_dir = Path(value).expanduser().resolve()

    @property
    def verbosity(self) -> str:
        """One of error, warning, success, info (default), hint, debug.

        Each level shows itself and the ones before it: ``"success"`` shows
        errors, warnings and ✅ steps; ``"info"`` adds 💡 messages such as
        ``saved: Transform(...)``; ``"hint"`` adds suggestions; ``"debug"``
        everything.
        """
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
        # only lamin-sa's own logger; the level is set when the user asks for one
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


switches = Switches()


# ---- logging for interactive use ------------------------------------------------


class _Formatter(logging.Formatter):
    """One short line per message, marked by level as LaminDB does."""

    MARKS = {
        logging.DEBUG: "🐛",
        HINT: "💡",
        logging.INFO: "💡",
        SUCCESS: "✅",
        logging.WARNING: "❗",
    }

    def format(self, record: logging.LogRecord) -> str:
        mark = self.MARKS.get(record.levelno, "❌")
        return f"{mark} {record.getMessage()}"


class InteractiveHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Prints lamin-sa's messages to stderr while the process configured no logging.

    As soon as the root logger has a handler (a host application or
    ``logging.basicConfig``), this handler stays silent and the records reach the
    host's handlers through normal propagation, printed once.
    """

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(_Formatter())

    @property  # type: ignore[override]
    def stream(self) -> Any:
        import sys

        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass  # always the current sys.stderr (pytest and the CLI swap it)

    def emit(self, record: logging.LogRecord) -> None:
        if logging.getLogger().handlers:
            return
        super().emit(record)


def install_log_handler() -> None:
    """Give the ``lamin_sa`` logger its interactive handler (once).

    In a process without logging configuration (a script, a notebook, the CLI)
    lamin-sa's own logger also gets the default verbosity, so that the seed's
    messages show; a host that configured logging first keeps its levels.
    """
    logging.addLevelName(SUCCESS, "SUCCESS")
    logging.addLevelName(HINT, "HINT")
    log = logging.getLogger("lamin_sa")
    if not any(isinstance(h, InteractiveHandler) for h in log.handlers):
        if not logging.getLogger().handlers and log.level == logging.NOTSET:
            log.setLevel(VERBOSITY_LEVELS[DEFAULT_VERBOSITY])
        log.addHandler(InteractiveHandler())


# lamin-sa's own logger prints for interactive use until the host configures logging
install_log_handler()
