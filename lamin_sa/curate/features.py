"""Feature dtypes and feature sets (reference §1, Feature and FeatureSet).

``Feature.dtype`` is one of ``number int float bool str cat`` or
``cat[Registry1|Registry2]`` (registry names as ``Record.registry_name()``, e.g.
``cat[ULabel|bionty.CellType]``).

A FeatureSet is identified by the set-hash of its members' uids. Constructing a
FeatureSet whose hash is stored gives the stored record: ``FeatureSet.__new__``
(:func:`new_feature_set`) looks the hash up and returns the stored record, which
``__init__`` then leaves untouched. ``save()`` resolves once more inside its write
transaction (another process may have stored the same set in the meantime), then
stores the member links.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from lamin_sa.errors import ValidationError
from lamin_sa.models.construct import planned_instance, take_plan
from lamin_sa.models.registry import registries, registry_by_name

if TYPE_CHECKING:
    import pandas as pd

    from lamin_sa.query.queryset import QuerySet

logger = logging.getLogger(__name__)

SIMPLE_DTYPES = ("number", "int", "float", "bool", "str", "cat")
_CAT = re.compile(r"^cat\[(.*)\]$")
_REGISTRY_NAME = re.compile(r"^(?:([a-z_][a-z0-9_]*)\.)?([A-Z][A-Za-z0-9_]*)$")
_MEMBERS = "_lamin_members"
_REL = "_lamin_members_key"


# ---- dtype -----------------------------------------------------------------------


def _dtype_error(dtype: Any) -> ValueError:
    return ValueError(
        f"dtype must be one of {', '.join(repr(d) for d in SIMPLE_DTYPES)}, "
        f"'cat[Registry]' or 'cat[Registry1|Registry2]' (e.g. "
        f"'cat[ULabel|bionty.CellType]'), a Python type (int, float, bool, str) or "
        f"a list of registries; got {dtype!r}."
    )


def _check_registry_name(name: str, dtype: Any) -> None:
    from lamin_sa.modules import registered_modules

    match = _REGISTRY_NAME.match(name)
    if match is None:
        raise _dtype_error(dtype)
    if name in registries():
        return
    module = match.group(1)
    if module is None or module not in registered_modules():
        raise _dtype_error(dtype)


def normalize_dtype(dtype: Any) -> str:
    """The dtype string for a str, a Python type or a list of registries.

    Raises:
        ValueError: anything else, naming the allowed values.
    """
    from lamin_sa.models.record import Record

    if isinstance(dtype, type) and issubclass(dtype, Record):
        dtype = [dtype]
    if isinstance(dtype, list | tuple):
        if not dtype or not all(
            isinstance(d, type) and issubclass(d, Record) for d in dtype
        ):
            raise _dtype_error(dtype)
        return f"cat[{'|'.join(d.registry_name() for d in dtype)}]"
    if isinstance(dtype, type):
        if dtype is bool:
            return "bool"
        if dtype is int:
            return "int"
        if dtype is float:
            return "float"
        if dtype is str or dtype is object:
            return "cat"
        raise _dtype_error(dtype)
    if not isinstance(dtype, str):
        raise _dtype_error(dtype)
    if dtype in SIMPLE_DTYPES:
        return dtype
    match = _CAT.match(dtype)
    if match is None:
        raise _dtype_error(dtype)
    names = match.group(1).split("|")
    for name in names:
        _check_registry_name(name, dtype)
    return dtype


def init_feature(
    record: Any, args: tuple[Any, ...], kwargs: dict[str, Any], base_init: Any
) -> None:
    """``Feature.__init__``: keyword arguments only, ``dtype`` required and checked."""
    if args:
        raise ValueError(
            "Feature: please provide keyword arguments, not plain arguments "
            f"(got {len(args)} positional)."
        )
    if kwargs.get("dtype") is None:
        raise ValueError(
            "Please pass dtype: one of "
            f"{', '.join(SIMPLE_DTYPES)} or 'cat[Registry1|Registry2]'."
        )
    kwargs["dtype"] = normalize_dtype(kwargs["dtype"])
    base_init(**kwargs)


def infer_dtype(series: pd.Series) -> str:
    """The feature dtype of a DataFrame column (reference ``Feature.from_df``).

    Categorical → ``cat``; strings with repeated values → ``cat``; otherwise the
    numpy dtype name with digits stripped (``int64`` → ``int``), ``object`` and
    strings → ``cat``, other kinds (datetimes, ...) → ``str``.
    """
    import pandas as pd

    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "cat"
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_string_dtype(dtype) or dtype.kind == "O":
        return "cat"
    name = re.sub(r"\d+$", "", dtype.name.lower())
    if name in ("int", "uint"):
        return "int"
    if name == "float":
        return "float"
    return "str"


def features_from_df(model: type, df: pd.DataFrame, field: Any = None) -> list[Any]:
    """One Feature per column: stored ones reused by name, new ones unsaved.

    One query for the stored features, whatever the number of columns.
    """
    from lamin_sa.curate.validate import (
        as_queryset,
        dialect_name,
        field_name,
    )
    from lamin_sa.db.sql import in_values

    name = field_name(model, field)
    columns = [str(c) for c in df.columns]
    qs = as_queryset(model)
    col = qs.info.table_columns[name]
    stmt = (
        qs.select().where(in_values(col, columns, dialect_name())).order_by(qs.info.pk)
    )
    stored: dict[str, Any] = {}
    for feature in qs.fetch(stmt):
        stored.setdefault(getattr(feature, name), feature)
    out = []
    for column, key in zip(columns, df.columns, strict=True):
        if column in stored:
            out.append(stored[column])
        else:
            out.append(model(**{name: column, "dtype": infer_dtype(df[key])}))
    return out


# ---- FeatureSet ------------------------------------------------------------------


def _link(member_cls: type) -> tuple[Any, Any, Any]:
    """``(link table, featureset column, member column)`` of a member registry.

    Raises:
        ValueError: the registry has no ``feature_sets`` many-to-many.
    """
    from sqlalchemy import inspect as sa_inspect

    rel = sa_inspect(member_cls).relationships.get("feature_sets")
    table = None if rel is None else rel.secondary
    if table is None:
        raise ValueError(
            f"Can't create feature sets from {member_cls.__name__}: it has no "
            "feature_sets many-to-many."
        )
    fs_col = member_col = None
    member_table = member_cls.__table__  # type: ignore[attr-defined]
    for column in table.columns:
        for fk in column.foreign_keys:
            if fk.column.table.name == "core_featureset":
                fs_col = column
            elif fk.column.table is member_table:
                member_col = column
    if fs_col is None or member_col is None:
        raise ValueError(f"Can't find the feature set link of {member_cls.__name__}.")
    return table, fs_col, member_col


def _check_members(features: Any) -> tuple[list[Any], type]:
    from lamin_sa.models.record import Record

    if isinstance(features, Record):
        features = [features]
    members = list(features)
    if not members:
        raise ValueError("Pass at least one feature to create a feature set.")
    if not all(isinstance(m, Record) for m in members):
        raise TypeError("feature_set can only contain records of a registry.")
    classes = {type(m) for m in members}
    if len(classes) > 1:
        raise TypeError("feature_set can only contain a single type")
    if not all(m.is_saved and m.id is not None for m in members):
        raise ValueError("Can only construct feature sets from validated features")
    member_cls = classes.pop()
    _link(member_cls)
    members = list({m.id: m for m in members}.values())
    return members, member_cls


def feature_set_hash(members: list[Any]) -> str:
    """The set-hash of the members' uids (ids for registries without uid)."""
    from lamin_sa.storage.hashing import hash_set

    return hash_set(str(getattr(m, "uid", None) or m.id) for m in members)


def _stored_by_hash(model: type, hash_: str, registry: str) -> Any:
    from lamin_sa.query.queryset import QuerySet

    qs = QuerySet(model)
    cols = qs.info.columns
    return (
        qs.where(cols["hash"] == hash_, cols["registry"] == registry)
        .order_by("id")
        .first()
    )


def new_feature_set(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``FeatureSet.__new__``: the stored set with the same members, or a new one."""
    if not args and "features" not in kwargs:
        return object.__new__(cls)  # plain construction by fields, or a DB load
    if len(args) > 1:
        raise ValueError("FeatureSet takes one positional argument: features")
    extra = set(kwargs) - {"features", "dtype", "name"}
    if extra:
        raise ValueError(
            "FeatureSet(features, dtype=None, name=None) got unexpected "
            f"{sorted(extra)}"
        )
    features = args[0] if args else kwargs["features"]
    members, member_cls = _check_members(features)
    registry = member_cls.registry_name()  # type: ignore[attr-defined]
    hash_ = feature_set_hash(members)
    stored = _stored_by_hash(cls, hash_, registry)
    if stored is not None:
        logger.info("returning existing FeatureSet with same hash: %r", stored)
        return planned_instance(cls, stored, kwargs)
    from lamin_sa.models.core import Feature

    dtype = kwargs.get("dtype")
    if member_cls is Feature:
        dtype = None
    elif dtype is None:
        dtype = "number"
    fields = {
        "n": len(members),
        "registry": registry,
        "dtype": dtype,
        "name": kwargs.get("name"),
        "hash": hash_,
    }
    obj = planned_instance(cls, fields, kwargs)
    obj.__dict__[_MEMBERS] = members
    obj.__dict__[_REL] = _members_key(cls, member_cls)
    return obj


def _members_key(model: type, member_cls: type) -> str | None:
    """The FeatureSet relationship holding members of ``member_cls`` (or None).

    Through it the unit of work stores the member links, so that ``ln.save`` of
    new feature sets stores their members too.
    """
    from sqlalchemy import inspect as sa_inspect

    table = _link(member_cls)[0]
    for rel in sa_inspect(model).relationships:
        if rel.mapper.class_ is member_cls and rel.secondary is table:
            return str(rel.key)
    return None


def init_feature_set(
    record: Any, args: tuple[Any, ...], kwargs: dict[str, Any], base_init: Any
) -> None:
    """``FeatureSet.__init__``: apply what :func:`new_feature_set` prepared."""
    plan = take_plan(record)
    if plan is None:
        base_init(*args, **kwargs)
        return
    mode, fields = plan
    if mode == "existing":  # the stored set: leave it as it is
        return
    base_init(**fields)
    key = record.__dict__.get(_REL)
    if key is not None:
        setattr(record, key, list(record.__dict__[_MEMBERS]))


def save_feature_set(record: Any) -> Any:
    """Store the set (or become the stored set with the same hash) and its links."""
    from sqlalchemy import inspect as sa_inspect
    from sqlalchemy.orm.attributes import set_committed_value

    from lamin_sa.db.session import current, write_transaction
    from lamin_sa.db.sql import advisory_lock
    from lamin_sa.models.save import save_records

    members: list[Any] | None = record.__dict__.get(_MEMBERS)
    if members is None:
        save_records([record])
        return record
    table, fs_col, member_col = _link(type(members[0]))
    key: str | None = record.__dict__.get(_REL)
    ctx = current()
    with write_transaction(ctx) as session:
        state = sa_inspect(record)
        if state.transient and record.hash is not None:
            model_table = type(record).__table__
            # two writers with the same members must end up with one stored set
            advisory_lock(session, (model_table.name, "hash", record.hash))
            row = (
                session.execute(
                    select(model_table)
                    .where(
                        model_table.c.hash == record.hash,
                        model_table.c.registry == record.registry,
                    )
                    .order_by(model_table.c.id)
                    .limit(1)
                )
                .mappings()
                .first()
            )
            if row is not None:
                _become_stored(session, record, row)
                if key is not None:  # its links are stored: no pending change
                    set_committed_value(record, key, members)
        if sa_inspect(record).transient or sa_inspect(record).detached:
            session.add(record)
        session.flush()  # stores the links too when they go through `key`
        if key is None:
            _insert_links(session, record, members, table, fs_col, member_col)
    record.__dict__.pop(_MEMBERS, None)
    return record


def _insert_links(
    session: Any,
    record: Any,
    members: list[Any],
    table: Any,
    fs_col: Any,
    member_col: Any,
) -> None:
    """Insert the missing link rows of a registry without a FeatureSet relation."""
    linked = set(
        session.execute(select(member_col).where(fs_col == record.id)).scalars()
    )
    rows = [
        {fs_col.key: record.id, member_col.key: m.id}
        for m in members
        if m.id not in linked
    ]
    if rows:
        session.execute(insert(table), rows)


def _become_stored(session: Any, record: Any, row: Any) -> None:
    """Turn a new feature set into the stored one with the same hash."""
    from lamin_sa.models.save import adopt_stored

    adopt_stored(session, record, row)
    logger.info("returning existing FeatureSet with same hash %r", record.hash)


def members(record: Any) -> QuerySet | list[Any]:
    """The member records: a QuerySet once saved, the pending list before."""
    from lamin_sa.query.queryset import QuerySet

    pending = record.__dict__.get(_MEMBERS)
    if record.id is None:
        return list(pending or [])
    member_cls = registry_by_name(record.registry)
    table, fs_col, member_col = _link(member_cls)
    pk = QuerySet(member_cls).info.pk
    ids = select(member_col).where(fs_col == record.id).scalar_subquery()
    return QuerySet(member_cls, implicit_visibility=False).where(pk.in_(ids))


def _field_model(field: Any) -> tuple[type, str]:
    from lamin_sa.models.core import Feature

    if field is None:
        return Feature, "name"
    if isinstance(field, str):
        return Feature, field
    owner = getattr(field, "class_", None)
    key = getattr(field, "key", None)
    if owner is None or not isinstance(key, str):
        raise ValidationError(
            f"field must be a registry attribute such as Feature.name, got {field!r}"
        )
    return owner, key


def feature_set_from_values(
    model: type,
    values: Any,
    field: Any = None,
    dtype: str | None = None,
    name: str | None = None,
    *,
    mute: bool = False,
    raise_validation_error: bool = True,
) -> Any:
    """A FeatureSet of the stored records matching ``values`` in ``field``.

    Raises:
        ValidationError: some values are not validated (lists them), unless
            ``raise_validation_error=False`` (then only validated values count and
            None is returned if there are none).
    """
    from lamin_sa.curate.validate import from_values, matching_values, to_list, unique
    from lamin_sa.query.queryset import QuerySet

    registry, key = _field_model(field)
    items, _ = to_list(values)
    distinct_values = unique(items)
    matched = matching_values(QuerySet(registry), key, distinct_values)
    missing = [v for v in distinct_values if v not in matched]
    if missing and raise_validation_error:
        from lamin_sa.curate.validate import quote_list

        raise ValidationError(
            f"These values could not be validated against "
            f"{registry.__name__}.{key}: {quote_list(missing)}"
        )
    validated = [v for v in distinct_values if v in matched]
    if not validated:
        return None
    records = from_values(registry, validated, key, mute=mute)
    return model(records, dtype=dtype, name=name)


def feature_set_from_df(
    model: type,
    df: pd.DataFrame,
    field: Any = None,
    name: str | None = None,
    *,
    mute: bool = False,
) -> Any:
    """A FeatureSet of the validated columns of ``df``; None if none validate."""
    from lamin_sa.curate.validate import matching_values
    from lamin_sa.models.core import Feature
    from lamin_sa.query.queryset import QuerySet

    registry, key = _field_model(field)
    columns = [str(c) for c in df.columns]
    matched = matching_values(QuerySet(registry), key, list(dict.fromkeys(columns)))
    validated = [c for c in columns if c in matched]
    if not validated:
        if not mute:
            logger.warning("no column of the DataFrame validates as %s", registry)
        return None
    dtype = None
    if registry is not Feature:
        by_name = {str(c): c for c in df.columns}
        dtypes = {infer_dtype(df[by_name[c]]) for c in validated}
        if len(dtypes) > 1:
            raise ValueError(
                f"data types are heterogeneous: {sorted(dtypes)}; a feature set "
                f"of {registry.__name__} needs one dtype."
            )
        dtype = dtypes.pop()
    return feature_set_from_values(
        model,
        validated,
        field=getattr(registry, key),
        dtype=dtype,
        name=name,
        mute=mute,
    )
