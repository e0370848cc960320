"""CanValidate: validate, inspect, standardize, synonyms, lookup, from_values."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import event

import lamin_sa.models as m
from lamin_sa.curate.validate import InspectResult, slug
from lamin_sa.errors import FieldError, ValidationError


@pytest.fixture
def labels(ctx):
    names = ["DMSO", "IFNG", "CD8-positive T cell", "T cell"]
    records = [m.ULabel(name=n) for n in names]
    for r in records:
        r.save()
    return records


@pytest.fixture
def features(ctx):
    out = {
        "cell type": m.Feature(name="cell type", dtype="cat", synonyms="celltype|CT"),
        "tissue": m.Feature(name="tissue", dtype="cat"),
        "donor": m.Feature(name="donor", dtype="cat", synonyms="Donor ID"),
    }
    for f in out.values():
        f.save()
    return out


class QueryCounter:
    def __init__(self, engine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def _on(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)

    def __enter__(self) -> QueryCounter:
        event.listen(self.engine, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._on)

    @property
    def n(self) -> int:
        # BEGIN/COMMIT issued by lamin-sa's SQLite listener are not queries, nor
        # is the read cache's check that the database is unchanged
        from lamin_sa.db.readcache import STAMP_SQL

        return sum(
            1
            for s in self.statements
            if not s.strip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))
            and s not in STAMP_SQL.values()
        )


# ---- validate --------------------------------------------------------------------


def test_validate_column_and_single(labels):
    result = m.ULabel.validate(["DMSO", "dmso", "IFNG", "nope", None, ""])
    assert isinstance(result, np.ndarray)
    assert result.dtype == bool
    assert result.tolist() == [True, False, True, False, False, False]
    assert m.ULabel.validate("DMSO") is True
    assert m.ULabel.validate("dmso") is False
    series = pd.Series(["T cell", "B cell"])
    assert m.ULabel.validate(series).tolist() == [True, False]
    assert m.ULabel.validate(pd.Categorical(["T cell", "x"])).tolist() == [True, False]
    assert m.ULabel.validate([]).tolist() == []


def test_validate_user_handle_and_field_forms(ctx):
    assert m.User.validate(["testuser1", "Test User1"], "handle").tolist() == [
        True,
        False,
    ]
    assert m.User.validate("testuser1") is True  # default field: handle
    assert m.User.validate("Test User1", m.User.name) is True
    with pytest.raises(FieldError):
        m.User.validate("x", "nope")
    with pytest.raises(FieldError):
        m.User.validate("x", m.ULabel.name)


def test_validate_on_queryset_is_restricted(labels):
    qs = m.ULabel.filter(name__contains="cell")
    assert qs.validate(["T cell", "DMSO"]).tolist() == [True, False]
    assert qs[:1].validate(["DMSO", "IFNG", "T cell", "CD8-positive T cell"]).sum() == 1


def test_validate_many_values_against_a_small_registry(ctx, caplog):
    # more distinct values than rows: every value is tested against the column
    from lamin_sa.api import save

    save([m.ULabel(name=f"label {i}") for i in range(50)])
    values = [f"label {i % 3_000}" for i in range(9_000)]
    values[10:13] = [None, "", float("nan")]
    values += [5, "LABEL 1"]
    expected = [
        isinstance(v, str) and v.startswith("label ") and int(v[6:]) < 50
        for v in values
    ]
    flags = m.ULabel.validate(values, mute=True)
    assert flags.tolist() == expected
    flags[0] = not flags[0]  # the result is an ordinary, writable array
    with caplog.at_level(logging.INFO):
        m.ULabel.validate(values)
    assert "2952 terms are not validated" in caplog.text
    with pytest.raises(ValidationError):
        m.ULabel.validate([[i] for i in range(3_000)])


def test_validate_many_values_bounded_queries(ctx):
    n = 3_000
    from lamin_sa.api import save

    save([m.ULabel(name=f"label {i}") for i in range(n)])
    values = [f"label {i % (2 * n)}" for i in range(100_000)]
    engine = ctx.engine
    with QueryCounter(engine) as counter:
        flags = m.ULabel.validate(values)
    assert counter.n <= 2
    assert int(flags.sum()) == sum(1 for i in range(100_000) if i % (2 * n) < n)
    # few distinct values: one IN query
    with QueryCounter(engine) as counter:
        flags = m.ULabel.validate(["label 1", "label 2", "nope"] * 30_000)
    assert counter.n == 1
    assert int(flags.sum()) == 60_000
    # hundreds of distinct values: one IN query with a single bound parameter
    some = [f"label {i}" for i in range(0, 1_000, 2)] + ["x", "label 99999"]
    with QueryCounter(engine) as counter:
        flags = m.ULabel.validate(some * 10)
    assert counter.n == 1
    assert flags.tolist() == ([True] * 500 + [False, False]) * 10
    # many distinct values against a large registry
    many = [f"other {i}" for i in range(1_500)] + ["label 5"]
    with QueryCounter(engine) as counter:
        flags = m.ULabel.validate(many)
    assert counter.n <= 2
    assert flags.sum() == 1
    with QueryCounter(engine) as counter:
        result = m.ULabel.inspect(values, mute=True)
    assert counter.n <= 3
    assert len(result.validated) == n
    with QueryCounter(engine) as counter:
        m.ULabel.standardize(values, mute=True)
    assert counter.n <= 1
    with QueryCounter(engine) as counter:
        m.ULabel.from_values(values[:5000], mute=True)
    assert counter.n <= 1


def test_column_reads_keep_separators_order_and_scope(ctx):
    # whole-column reads join the values into one string: the id order (inspect's
    # case hints name the lowest-id record), scopes, and values holding the
    # separator (read row by row then) must survive
    from lamin_sa.api import save
    from lamin_sa.curate.values import UNIT_SEP, as_queryset, column_values

    names = [f"label {i}" for i in range(1_200)]
    # the lower id sorts last: a read in name-index order would pick "T Cell"
    save([m.ULabel(name=n) for n in [*names, "t cell", "T Cell"]])
    col = m.ULabel.__table__.c.name
    everything = as_queryset(m.ULabel)
    assert column_values(everything, col, ordered=True) == [*names, "t cell", "T Cell"]
    assert sorted(column_values(everything, col)) == sorted(
        [*names, "t cell", "T Cell"]
    )
    scoped = column_values(m.ULabel.filter(name__startswith="label 1"), col)
    assert sorted(scoped) == sorted(n for n in names if n.startswith("label 1"))
    assert column_values(m.ULabel.filter(name="nothing"), col) == []
    values = [*names, "T CELL", "unknown"] * 2
    result = m.ULabel.inspect(values, mute=True)
    assert result.non_validated == ["T CELL", "unknown"]
    assert result.synonyms_mapper == {"T CELL": "t cell"}
    assert (
        m.ULabel.validate(values, mute=True).tolist()
        == ([True] * 1_200 + [False, False]) * 2
    )

    odd = f"odd{UNIT_SEP}name"
    m.ULabel(name=odd).save()
    assert column_values(everything, col, ordered=True) == [
        *names,
        "t cell",
        "T Cell",
        odd,
    ]
    flags = m.ULabel.validate([*values, odd], mute=True)
    assert flags.tolist()[-1] and int(flags.sum()) == 2 * 1_200 + 1
    assert m.ULabel.inspect([*values, odd], mute=True).non_validated == [
        "T CELL",
        "unknown",
    ]


# ---- inspect ---------------------------------------------------------------------


def test_inspect_result_and_logs(labels, caplog):
    caplog.set_level(logging.INFO, logger="lamin_sa")
    result = m.ULabel.inspect(["DMSO", "IFNG", "dmso", "t cell", "x", "x", None])
    assert isinstance(result, InspectResult)
    assert result.validated == ["DMSO", "IFNG"]
    assert result["validated"] == ["DMSO", "IFNG"]
    assert result.non_validated == ["dmso", "t cell", "x"]
    assert result["non_validated"] == result.non_validated
    assert result.frac_validated == pytest.approx(2 / 5)
    assert result.synonyms_mapper == {"dmso": "DMSO", "t cell": "T cell"}
    assert result.n_empty == 1
    text = caplog.text
    assert "3 terms are not validated: 'dmso', 't cell', 'x'" in text
    assert "case mismatches" in text
    assert "standardize via .standardize()" in text
    with pytest.raises(KeyError):
        result["nope"]


def test_inspect_message_singular_and_mute(labels, caplog):
    caplog.set_level(logging.INFO, logger="lamin_sa")
    m.ULabel.inspect(["DMSO", "IFNG", "nope"])
    assert "1 term is not validated: 'nope'" in caplog.text
    caplog.clear()
    result = m.ULabel.inspect(["nope"], mute=True)
    assert caplog.text == ""
    assert result.frac_validated == 0.0
    assert m.ULabel.inspect([], mute=True).frac_validated == 1.0


def test_inspect_synonym_hint(features, caplog):
    caplog.set_level(logging.INFO, logger="lamin_sa")
    result = m.Feature.inspect(["cell type", "celltype", "TISSUE", "weird"])
    assert result.validated == ["cell type"]
    assert result.synonyms_mapper == {"celltype": "cell type", "TISSUE": "tissue"}
    assert "detected 1 synonym in Feature.name" in caplog.text
    assert "'celltype' → 'cell type'" in caplog.text


def test_inspect_reference_example(labels, caplog):
    caplog.set_level(logging.INFO, logger="lamin_sa")
    m.ULabel.filter(name="T cell").inspect(["DMSO", "IFNG"])
    assert "2 terms are not validated: 'DMSO', 'IFNG'" in caplog.text


# ---- standardize -----------------------------------------------------------------


def test_standardize_case_and_order(labels):
    assert m.ULabel.standardize(["dmso", "IFNG", "x", "t CELL"]) == [
        "DMSO",
        "IFNG",
        "x",
        "T cell",
    ]
    assert m.ULabel.standardize("dmso") == "DMSO"
    assert m.ULabel.standardize("unknown") == "unknown"
    assert m.ULabel.standardize(["dmso", "x"], case_sensitive=True) == ["dmso", "x"]
    assert m.ULabel.standardize(["dmso", "DMSO", "x"], return_mapper=True) == {
        "dmso": "DMSO"
    }
    # nothing maps: input unchanged
    assert m.User.standardize(["a", "b"]) == ["a", "b"]


def test_standardize_synonyms_and_return_field(features):
    assert m.Feature.standardize(["celltype", "ct", "Donor ID", "tissue"]) == [
        "cell type",
        "cell type",
        "donor",
        "tissue",
    ]
    assert m.Feature.standardize(["ct"], case_sensitive=True) == ["ct"]
    assert m.Feature.standardize(["CT"], case_sensitive=True) == ["cell type"]
    uids = m.Feature.standardize(["celltype", "nope"], return_field="uid")
    assert uids == [features["cell type"].uid, "nope"]
    mapper = m.Feature.standardize(["celltype", "tissue"], return_mapper=True)
    assert mapper == {"celltype": "cell type"}
    # synonyms_field=None ignores synonyms
    assert m.Feature.standardize(["celltype"], synonyms_field=None) == ["celltype"]


def test_standardize_keep(features):
    # two features named alike via case: "Tissue" (new) and "tissue"
    other = m.Feature(name="Tissue", dtype="cat").save()
    assert m.Feature.standardize("TISSUE") == "tissue"
    assert m.Feature.standardize("TISSUE", keep="last") == "Tissue"
    assert m.Feature.standardize("TISSUE", keep=False) == ["tissue", "Tissue"]
    with pytest.raises(ValidationError):
        m.Feature.standardize("TISSUE", keep="middle")
    assert other.id is not None


# ---- synonyms --------------------------------------------------------------------


def test_add_and_remove_synonym(features):
    tissue = features["tissue"]
    tissue.add_synonym("organ")
    tissue.add_synonym(["body part", "", "organ"])
    assert tissue.synonyms == "organ|body part"
    stored = m.Feature.filter(name="tissue").list("synonyms")
    assert stored == ["organ|body part"]  # saved: the record is stored
    assert m.Feature.standardize(["Organ", "body part"]) == ["tissue", "tissue"]
    assert m.Feature.validate("organ") is False  # validate ignores synonyms
    tissue.add_synonym("")  # ignored
    tissue.remove_synonym("organ")
    assert m.Feature.filter(name="tissue").list("synonyms") == ["body part"]
    tissue.remove_synonym(["body part", "absent"])
    assert m.Feature.filter(name="tissue").list("synonyms") == [None]


def test_add_synonym_refusals(features):
    tissue = features["tissue"]
    with pytest.raises(ValidationError, match=r"\|"):
        tissue.add_synonym("a|b")
    with pytest.raises(ValidationError, match="cell type"):
        tissue.add_synonym("celltype")  # a synonym of "cell type"
    with pytest.raises(ValidationError, match="donor"):
        tissue.add_synonym("DONOR")  # the name of another record
    assert m.Feature.filter(name="tissue").list("synonyms") == [None]
    tissue.add_synonym("celltype", force=True)
    assert m.Feature.filter(name="tissue").list("synonyms") == ["celltype"]
    # its own synonyms and name are no collision
    features["cell type"].add_synonym(["CT", "cell type"])


def test_add_synonym_unsaved_and_save_flag(ctx):
    f = m.Feature(name="new", dtype="int")
    f.add_synonym("fresh")
    assert f.synonyms == "fresh" and not f.is_saved
    f.add_synonym("saved now", save=True)
    assert m.Feature.get(name="new").synonyms == "fresh|saved now"
    f.add_synonym("not yet", save=False)
    assert m.Feature.filter(name="new").list("synonyms") == ["fresh|saved now"]


def test_synonym_methods_need_columns(labels):
    with pytest.raises(NotImplementedError):
        labels[0].add_synonym("x")
    with pytest.raises(NotImplementedError):
        labels[0].remove_synonym("x")
    with pytest.raises(NotImplementedError):
        labels[0].set_abbr("x")


# ---- lookup ----------------------------------------------------------------------


def test_slug_rules():
    assert slug("CD8-positive T cell") == "cd8_positive_t_cell"
    assert slug("1abc") == "ln_1abc"
    assert slug("class") == "ln_class"
    assert slug("T cell (CD4+)") == "t_cell_cd4_"
    assert slug("dict") == "ln_dict"
    assert slug("_x") == "ln__x"


def test_lookup(labels):
    m.ULabel(name="1abc").save()
    m.ULabel(name="class").save()
    m.ULabel(name="T-cell").save()
    lookup = m.ULabel.lookup()
    assert lookup.cd8_positive_t_cell.name == "CD8-positive T cell"
    assert lookup.ln_1abc.name == "1abc"
    assert lookup.ln_class.name == "class"
    assert lookup.dmso is labels[0]
    dup = lookup.t_cell
    assert isinstance(dup, list)
    assert sorted(r.name for r in dup) == ["T cell", "T-cell"]
    raw = lookup.dict()
    assert raw["CD8-positive T cell"].name == "CD8-positive T cell"
    assert set(raw) == {r.name for r in m.ULabel.filter()}
    assert "dmso" in dir(lookup)
    with pytest.raises(AttributeError, match="dmso"):
        _ = lookup.dmsoo
    uids = m.ULabel.lookup(return_field="uid")
    assert uids.dmso == labels[0].uid
    assert uids.dict()["IFNG"] == labels[1].uid
    by_uid = m.ULabel.lookup(field=m.ULabel.uid, return_field=m.ULabel.name)
    assert by_uid.dict()[labels[0].uid] == "DMSO"


def test_lookup_user_and_queryset(labels):
    assert m.User.lookup().testuser1.handle == "testuser1"
    assert m.User.lookup("handle").testuser1.name == "Test User1"
    lookup = m.ULabel.filter(name__contains="cell").lookup()
    assert "dmso" not in lookup
    assert lookup.t_cell.name == "T cell"
    assert len(m.ULabel.filter().order_by("id")[:2].lookup()) == 2


# ---- from_values -----------------------------------------------------------------


def test_from_values(labels, caplog):
    caplog.set_level(logging.INFO, logger="lamin_sa")
    records = m.ULabel.from_values(["IFNG", "dmso", "nope", "IFNG"])
    assert [r.name for r in records] == ["IFNG", "DMSO"]
    assert "nope" in caplog.text
    assert m.ULabel.from_values([]) == []
    assert (
        m.ULabel.filter(name="DMSO").from_values(["DMSO", "IFNG"], mute=True)[0].name
        == "DMSO"
    )
    assert len(m.ULabel.filter(name="DMSO").from_values(["IFNG"], mute=True)) == 0
    by_uid = m.ULabel.from_values([labels[2].uid], field="uid")
    assert by_uid[0].name == "CD8-positive T cell"
    assert m.ULabel.filter().count() == 4  # nothing created


def test_from_values_synonyms(features):
    records = m.Feature.from_values(["CT", "Donor ID", "tissue"])
    assert [r.name for r in records] == ["cell type", "donor", "tissue"]
    many = m.Feature.from_values([f"x{i}" for i in range(500)] + ["celltype"])
    assert [r.name for r in many] == ["cell type"]
