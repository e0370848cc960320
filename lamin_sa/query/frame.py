"""DataFrames from raw result columns, typed by the columns' SQL types.

``QuerySet.df()`` reads its rows as plain DBAPI tuples (no ORM objects, no
``Row`` objects) and hands them here column by column. A column whose SQL type
fixes its dtype (integers, booleans, floats without NULLs; text; UTC timestamps)
becomes a numpy array directly, skipping pandas' per-value type inference;
integer columns with NULLs become pandas' nullable ``Int64``; anything else
(NULLs in a float or boolean column, JSON, annotations) keeps pandas' inference.
"""

from __future__ import annotations

import contextlib
import gc
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, Float, Integer, String

if TYPE_CHECKING:
    import pandas as pd


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a frame's rows are read and built.

    Reading 1,000 rows makes thousands of tuples and lists, all freed by
    reference counting once the frame is built. Collections in between scan
    them, and promote the survivors into the oldest generation, whose growth
    then triggers full collections of every object of the process (pandas and
    SQLAlchemy hold over 100,000): about a sixth of ``df(include=...)``. If
    another thread disabled collection meanwhile, it is enabled again here.

    Example:
        >>> with gc_paused():
        ...     rows = cursor.fetchall()
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def typed_column(values: list[Any], sql_type: Any) -> Any:
    """``values`` as a numpy array when ``sql_type`` determines the dtype, else as is.

    Example:
        >>> typed_column([1, 2], Integer()).dtype
        dtype('int64')
    """
    import numpy as np

    if isinstance(sql_type, String):  # Text is a String too
        # fromiter stores the objects as they are (np.array first looks into
        # each one: 5x slower for a column of NULLs)
        return np.fromiter(values, dtype=object, count=len(values))
    if isinstance(sql_type, Integer):
        if values and values[0] is None:  # a column mostly unfilled, likely
            return nullable_ints(values)
        try:
            # numpy refuses None itself: no scan for NULLs first
            return np.array(values, dtype=np.int64)
        except TypeError:
            # nullable integers (n_observations, run_id): 3 and <NA>, never 3.0/NaN
            return nullable_ints(values)
    if None in values:
        return values  # pandas turns NULL numbers into NaN, as from_records does
    if isinstance(sql_type, Boolean):
        return np.array(values, dtype=bool)
    if isinstance(sql_type, Float):
        return np.array(values, dtype=np.float64)
    return values


def nullable_ints(values: list[Any]) -> Any:
    """Integers with NULLs as pandas' ``Int64`` array, built from a mask.

    Three times faster than ``pd.array(values, dtype="Int64")``, which infers
    the type of each value first.

    Example:
        >>> nullable_ints([1, None]).tolist()
        [1, <NA>]
    """
    import numpy as np
    import pandas as pd

    n = len(values)
    if values.count(None) == n:  # a column nobody filled: no array of objects
        return pd.arrays.IntegerArray(
            np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)
        )
    objects = np.fromiter(values, dtype=object, count=n)
    mask = objects == None  # noqa: E711 - elementwise, not an identity test
    objects[mask] = 0
    return pd.arrays.IntegerArray(objects.astype(np.int64), mask)


def utc_datetimes(values: list[Any]) -> pd.DatetimeIndex:
    """Raw timestamps as UTC datetimes: ISO text on SQLite, datetimes elsewhere.

    Example:
        >>> utc_datetimes(["2024-01-02 03:04:05.000006"])[0].isoformat()
        '2024-01-02T03:04:05.000006+00:00'
    """
    import numpy as np
    import pandas as pd

    if values and type(values[0]) is str:
        try:
            with warnings.catch_warnings():
                # numpy only warns on a UTC offset; pandas handles those below
                warnings.simplefilter("error")
                # numpy parses naive ISO 8601 text in C, ~100x faster than pandas
                parsed = np.array(values, dtype="datetime64[us]")
            return pd.DatetimeIndex(parsed.astype("datetime64[ns]")).tz_localize("UTC")
        except (ValueError, TypeError, Warning):
            pass
    series = pd.Series(values, dtype=object)
    try:
        return pd.DatetimeIndex(pd.to_datetime(series, utc=True, format="ISO8601"))
    except (ValueError, TypeError):  # a server printing dates in another style
        return pd.DatetimeIndex(pd.to_datetime(series, utc=True, format="mixed"))


def frame(
    columns: dict[str, list[Any]],
    sql_types: dict[str, Any],
    utc_keys: tuple[str, ...],
    index: str,
) -> pd.DataFrame:
    """A DataFrame indexed by column ``index`` from raw columns in select order.

    Args:
        columns: Column name to its values, in the order of the frame.
        sql_types: SQL types of the table's own columns (others are inferred).
        utc_keys: Columns holding UTC timestamps.
        index: The column that becomes the index.
    """
    import pandas as pd

    data: dict[str, Any] = {}
    for name, values in columns.items():
        if name in utc_keys:
            data[name] = utc_datetimes(values)
        elif name in sql_types:
            data[name] = typed_column(values, sql_types[name])
        else:
            data[name] = values
    idx = pd.Index(data.pop(index), name=index)
    return pd.DataFrame(data, index=idx, copy=False)
