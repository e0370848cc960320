"""DataFrames to Arrow tables: the reused schema gives from_pandas' very table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lamin_sa.artifact import arrow_table
from lamin_sa.artifact.arrow_table import frame_to_table


def _parquet(table: Any) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def _frames(seed: int) -> dict[str, pd.DataFrame]:
    """Frames of many shapes; the same seed-independent shape for each name."""
    rng = np.random.default_rng(seed)
    floats = rng.random(6)
    floats[seed % 6] = np.nan
    words = np.array([f"w{int(x)}" for x in rng.integers(0, 99, 6)], dtype=object)
    words[(seed + 1) % 6] = None
    plain = pd.DataFrame(
        {
            "i": rng.integers(-5, 5, 6),
            "u8": rng.integers(0, 200, 6).astype(np.uint8),
            "f": floats,
            "f32": rng.random(6).astype(np.float32),
            "s": words,
            "b": rng.integers(0, 2, 6).astype(bool),
            "t": pd.to_datetime(rng.integers(0, 10**9, 6), unit="s"),
        }
    )
    named = plain.copy()
    named.index = pd.RangeIndex(10, 22, 2, name="row")
    named.columns.name = "field"
    shifted = plain.set_axis(pd.RangeIndex(100, 106))
    other_index = plain.set_index("i")
    with_attrs = plain.copy()
    with_attrs.attrs = {"source": f"run {seed}"}
    category = plain.assign(s=plain["s"].astype("category"))
    return {
        "plain": plain,
        "named": named,
        "shifted": shifted,
        "other_index": other_index,
        "attrs": with_attrs,
        "category": category,
        "ints_as_objects": pd.DataFrame({"o": np.array([seed, 2, 3], dtype=object)}),
        "empty": pd.DataFrame({"a": pd.Series([], dtype="int64")}),
    }


@pytest.mark.parametrize("name", list(_frames(0)))
def test_the_table_equals_from_pandas_for_every_frame_of_a_shape(name: str) -> None:
    for seed in range(4):  # the first frame stores the schema, the others reuse it
        df = _frames(seed)[name]
        table, expected = frame_to_table(df), pa.Table.from_pandas(df)
        assert table.equals(expected, check_metadata=True)
        assert _parquet(table) == _parquet(expected)
        pd.testing.assert_frame_equal(table.to_pandas(), expected.to_pandas())


def test_plain_frames_reuse_the_schema_and_others_do_not(monkeypatch) -> None:
    monkeypatch.setattr(arrow_table, "_SCHEMAS", {})
    frames = [_frames(seed) for seed in range(3)]
    for f in frames:
        for name in ("plain", "named", "other_index", "attrs", "category"):
            frame_to_table(f[name])
    # one schema for each plain shape; index, attrs and categories bypass it
    assert len(arrow_table._SCHEMAS) == 2

    class NoFromPandas:
        from_arrays = pa.Table.from_arrays

        @staticmethod
        def from_pandas(df: Any) -> Any:
            raise AssertionError("from_pandas called for a known shape")

    monkeypatch.setattr(pa, "Table", NoFromPandas)
    frame_to_table(_frames(7)["plain"])
    with pytest.raises(AssertionError, match="known shape"):
        frame_to_table(_frames(7)["attrs"])


def test_a_column_of_another_type_takes_from_pandas(monkeypatch) -> None:
    monkeypatch.setattr(arrow_table, "_SCHEMAS", {})
    strings = pd.DataFrame({"o": np.array(["a", "b"], dtype=object)})
    frame_to_table(strings)
    for values in ([1, 2], [None, None], [b"x", b"y"], [1.5, None]):
        df = pd.DataFrame({"o": np.array(values, dtype=object)})
        table = frame_to_table(df)
        assert table.equals(pa.Table.from_pandas(df), check_metadata=True)
    mixed = pd.DataFrame({"o": np.array(["a", 1], dtype=object)})
    with pytest.raises(pa.ArrowException):  # as from_pandas raises
        frame_to_table(mixed)


def test_the_schemas_kept_are_bounded(monkeypatch) -> None:
    monkeypatch.setattr(arrow_table, "_SCHEMAS", {})
    for n in range(arrow_table.MAX_SCHEMAS + 5):
        frame_to_table(pd.DataFrame({"a": range(n)}))
    assert len(arrow_table._SCHEMAS) == arrow_table.MAX_SCHEMAS
