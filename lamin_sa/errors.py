"""The one exception hierarchy of lamin-sa.

Every error raised on purpose by lamin-sa derives from :class:`LaminSAError`. Where
Python code conventionally expects a builtin type (``ValueError``, ``TypeError``,
``KeyError``, ``FileExistsError``), the class also derives from it, so both
``except ln.errors.ValidationError`` and ``except ValueError`` work.
"""

from __future__ import annotations


class LaminSAError(Exception):
    """Base class of every lamin-sa error."""


class ValidationError(LaminSAError, ValueError):
    """Values or records did not validate against a registry."""


class FieldError(LaminSAError, AttributeError):
    """A query or constructor named a field the registry does not have."""


class NoResultFound(LaminSAError, LookupError):
    """A query that must return one record returned none."""


class MultipleResultsFound(LaminSAError, LookupError):
    """A query that must return one record returned several."""


class InstanceNotFound(LaminSAError):
    """No instance with that name, storage or database is known or reachable."""


class InstanceNotConnected(LaminSAError):
    """An operation needs a connected instance and there is none."""


class SchemaVersionError(LaminSAError):
    """The database schema is behind or ahead of the installed code."""


class StorageError(LaminSAError, OSError):
    """Reading or writing the storage failed."""


class InvalidKeyError(LaminSAError, ValueError):
    """A storage key is empty, escapes the storage root or is reserved."""


class IntegrityError(LaminSAError):
    """A save would break a constraint (for example a record still referenced)."""


class SaveError(LaminSAError):
    """Saving failed; the message says what was and was not stored."""


class NotSavedError(LaminSAError, ValueError):
    """An operation needs a saved record but got an unsaved one."""


class ModuleNotMounted(LaminSAError):
    """The instance does not mount the module a registry belongs to."""


class RecordExistsError(LaminSAError, FileExistsError):
    """A record with the same identity already exists and policy forbids reuse."""


class TrackNotCalled(LaminSAError):
    """``ln.finish()`` (or another run-bound call) without ``ln.track()`` first."""


class TransformNotFound(LaminSAError):
    """The calling script or notebook cannot be identified."""


class NoRunContext(LaminSAError, ValueError):
    """Data was marked as a run input but no run is tracked."""


class NoDefaultStorage(LaminSAError):
    """An artifact needs a storage location and the active context has none."""


class DatabaseUnreachable(InstanceNotFound):
    """The database server cannot be reached (down, wrong host or port, timeout)."""


class AuthenticationFailed(InstanceNotFound):
    """The database server refused the user name or password."""


class DatabaseCorrupt(InstanceNotFound):
    """The database file is damaged or is not a SQLite database at all."""


class ForeignSchemaError(SchemaVersionError):
    """The database holds tables named like lamin-sa's that lamin-sa did not create."""


class DatabaseWriteError(SaveError):
    """The database refused a write (disk full, read-only file, I/O error)."""


class LaminDBImportError(LaminSAError):
    """A file is not a LaminDB instance lamin-sa can import."""


class RoleError(LaminSAError):
    """A database role cannot be granted or revoked."""


class AccessDenied(LaminSAError, PermissionError):
    """The database refused a write: the user has read-only access."""
