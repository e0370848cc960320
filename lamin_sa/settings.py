"""``ln.settings``: the connected instance, the user and the behaviour switches.

A facade: the switches live in :data:`lamin_sa.config.switches` (readable from
every layer), the instance and its default storage in the connection context
(:mod:`lamin_sa.db.context`), the user in ``user.json``. Settings files and their
helpers moved to :mod:`lamin_sa.config`; the old names stay importable from here.

Example::

    import lamin_sa as ln

    ln.settings.verbosity = "info"
    ln.settings.storage = "s3://my-bucket/lamin"
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

from lamin_sa.config import (
    HASH_EXISTS_POLICIES,
    VERBOSITY_LEVELS,
    InstanceSettings,
    Switches,
    TransformSettings,
    UserSettings,
    current_instance_name,
    default_cache_dir,
    home_dir,
    read_json,
    set_current_instance,
    slugify,
    strip_credentials,
    switches,
    write_json,
)

# names of earlier releases
strip_password = strip_credentials
_read_json = read_json
_write_json = write_json

# the public properties and attributes of the switches object
_SWITCHES = frozenset(
    name for name in [*vars(Switches), *vars(Switches())] if not name.startswith("_")
)


class Settings:
    """``ln.settings``: the connected instance, the user and behaviour switches.

    Switches (``verbosity``, ``cache_dir``, ``track_run_inputs``,
    ``artifact_use_virtual_keys``, ``upon_create_search_names``,
    ``upon_file_create_skip_size_hash``, ``upon_artifact_create_if_hash_exists``,
    ``silence_file_run_transform_warning``, ``transform``) are read and set here.

    Example:
        >>> import lamin_sa as ln
        >>> ln.settings.track_run_inputs = False
    """

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
        """The default storage root; set it to switch (``"s3://bucket/prefix"``).

        Inside ``ln.use_session(session, storage=...)`` this is the host
        session's storage.
        """
        from lamin_sa.db.context import current

        return current().require_storage()

    @storage.setter
    def storage(self, root: str | Path) -> None:
        from lamin_sa.instance import set_storage

        set_storage(root)

    def __getattr__(self, name: str) -> Any:
        if name in _SWITCHES:
            return getattr(switches, name)
        raise AttributeError(f"ln.settings has no setting {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(getattr(type(self), name, None), property):
            object.__setattr__(self, name, value)
        elif name in _SWITCHES:
            setattr(switches, name, value)
        else:
            raise AttributeError(
                f"ln.settings has no setting {name!r}; the settings are: "
                f"{', '.join(sorted(_SWITCHES | {'storage'}))}"
            )

    def __dir__(self) -> list[str]:
        return sorted({"instance", "user", "storage", *_SWITCHES})

    def _fields(self) -> list[tuple[str, Any]]:
        """What the reprs show: no passwords, no connecting, no folder created."""
        from lamin_sa.db.context import current_or_none

        ctx = current_or_none()
        inst = ctx.instance if ctx is not None else None
        if inst is None:
            last = current_instance_name()
            shown: list[tuple[str, Any]] = [
                ("instance", f"not connected (last used: {last})" if last else None)
            ]
        else:
            shown = [
                ("instance", f"{inst.name} (uid {inst.uid})"),
                ("db", strip_credentials(inst.db)),
                ("storage", getattr(ctx, "storage_root", None) or inst.storage_root),
                ("modules", ", ".join(inst.modules)),
            ]
        transform = switches.transform
        shown += [
            ("user", self.user.handle),
            ("verbosity", switches.verbosity),
            ("cache_dir", str(switches._cache_dir or default_cache_dir())),
            ("home", str(home_dir())),
            (
                "transform",
                f"stem_uid={transform.stem_uid!r}, version={transform.version!r}",
            ),
        ]
        skip = {"verbosity", "cache_dir", "transform"}
        shown += [(k, getattr(switches, k)) for k in sorted(_SWITCHES - skip)]
        return shown

    def __repr__(self) -> str:
        lines = ["ln.settings"]
        lines += [f"  {k}: {v}" for k, v in self._fields() if v is not None]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from lamin_sa.display import fields_html

        rows = {k: v for k, v in self._fields() if v is not None}
        return fields_html("ln.settings", rows)


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
        if name in ("instance", "user", "storage") or name in _SWITCHES:
            setattr(settings, name, value)
        else:
            super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *dir(settings)})

    def __repr__(self) -> str:
        return repr(settings)


sys.modules[__name__].__class__ = _SettingsModule

__all__ = [
    "HASH_EXISTS_POLICIES",
    "VERBOSITY_LEVELS",
    "InstanceSettings",
    "Settings",
    "TransformSettings",
    "UserSettings",
    "current_instance_name",
    "default_cache_dir",
    "home_dir",
    "set_current_instance",
    "settings",
    "slugify",
    "strip_password",
]
