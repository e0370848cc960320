"""What Jupyter and a terminal show for records, QuerySets, Annotate, InspectResult,
Lookup and ln.settings; constructor signatures for inspect, help() and Shift-Tab."""

from __future__ import annotations

import getpass
import inspect
import pydoc

import pandas as pd
import pytest
from sqlalchemy.engine import make_url

import lamin_sa as ln
from lamin_sa import instance as inst
from lamin_sa.query import queryset
from tests.conftest import BACKENDS, PG_URL, reset_postgres


def test_record_repr_html_is_a_field_table(ctx) -> None:
    label = ln.ULabel(name="DMSO <solvent>", description="control").save()
    out = label._repr_html_()
    assert out.startswith("<div>") and "<b>ULabel</b>" in out
    assert "<td" in out and "DMSO &lt;solvent&gt;" in out and "control" in out
    assert out.count("<tr>") == len(label._repr_fields()) + 1  # + the header
    assert "UTC" in out  # updated_at as in the text repr
    unsaved = ln.ULabel(name="IFNG")._repr_html_()
    assert "IFNG" in unsaved


def test_queryset_tables_say_how_many_more_rows(ctx, monkeypatch) -> None:
    ln.save([ln.ULabel(name=f"label{i:02d}") for i in range(25)])
    text = repr(ln.ULabel.filter())
    assert text.startswith("QuerySet[ULabel] (20 of 25 records)")
    assert text.rstrip().endswith("… 5 more rows")
    few = repr(ln.ULabel.filter(name__in=["label01", "label02"]))
    assert few.startswith("QuerySet[ULabel] (2 records)") and "more row" not in few
    monkeypatch.setattr(queryset, "HTML_ROWS", 10)
    html = ln.ULabel.filter()._repr_html_()
    assert "<table" in html and html.endswith("<p>… 15 more rows</p>")
    assert "more row" not in ln.ULabel.filter(name="label03")._repr_html_()


def test_annotate_inspect_and_lookup_reprs(ctx) -> None:
    df = pd.DataFrame(
        {"CD8A": [1, 2, 3], "perturbation": ["DMSO", "IFNG", "DMSO"]},
        index=["o1", "o2", "o3"],
    )
    annotate = ln.Annotate.from_df(
        df, columns=ln.Feature.name, categoricals={"perturbation": ln.ULabel.name}
    )
    text = repr(annotate)
    assert text.splitlines()[0] == (
        "DataFrameAnnotator: 3 rows × 2 columns, not validated (run .validate())"
    )
    assert "  columns → Feature.name" in text
    assert "  perturbation → ULabel.name" in text
    annotate.add_new_from("perturbation")
    assert annotate.validate() is True
    assert ", validated" in repr(annotate).splitlines()[0]
    lookups = repr(annotate.lookup())
    assert "  .perturbation → ULabel.name" in lookups

    result = ln.ULabel.inspect(["DMSO", "IFNG", "DMSo", "unknown"], mute=True)
    shown = repr(result)
    assert shown.splitlines()[0] == "InspectResult: 2 of 4 values validated (50%)"
    assert "  validated: ['DMSO', 'IFNG']" in shown
    assert "  non_validated: ['DMSo', 'unknown']" in shown

    lookup = ln.ULabel.filter(name__in=["DMSO", "IFNG"]).lookup()
    shown = repr(lookup)
    assert shown.splitlines()[0] == "Lookup[ULabel] (2 values): attribute → value"
    assert "  .dmso → 'DMSO'" in shown and "  .ifng → 'IFNG'" in shown
    ln.save([ln.ULabel(name=f"extra {i}") for i in range(12)])
    many = repr(ln.ULabel.filter(name__startswith="extra").lookup())
    assert many.splitlines()[-1] == "  … 2 more (tab-complete or .dict())"
    assert repr(ln.ULabel.filter(name="none").lookup()) == "Lookup[ULabel]: no values"


def test_settings_repr_is_readable_and_has_no_secret(tmp_path, db_secret) -> None:
    url, secret = db_secret
    try:
        ln.init(storage=tmp_path / "lab", db=url, name="lab")
        text = repr(ln.settings)
        lines = text.splitlines()
        assert lines[0] == "ln.settings"
        assert "  instance: lab (uid " in text
        assert f"  storage: {(tmp_path / 'lab').resolve().as_posix()}" in text
        assert "  modules: core" in text and "  verbosity: info" in text
        assert "  track_run_inputs: True" in text
        assert "  transform: stem_uid=None, version=None" in text
        html = ln.settings._repr_html_()
        assert "<b>ln.settings</b>" in html and "track_run_inputs" in html
        if secret:  # the password given at connect time appears nowhere
            assert "  db: postgresql" in text
            assert secret not in text and secret not in html
    finally:
        inst.close()
    assert "instance:" not in repr(ln.settings)  # closed: nothing to show


@pytest.fixture(params=BACKENDS)
def db_secret(request) -> tuple[str | None, str | None]:
    """SQLite (no URL), or the PostgreSQL URL with a password the server ignores."""
    if request.param == "sqlite":
        return None, None
    assert PG_URL is not None
    reset_postgres(PG_URL)
    url = make_url(PG_URL)
    with_pw = url.set(username=url.username or getpass.getuser(), password="s3cr3t-pw")
    return with_pw.render_as_string(hide_password=False), "s3cr3t-pw"


def _registries() -> list[type]:
    import lamin_sa.bionty as bt
    import lamin_sa.wetlab as wl
    from lamin_sa.models.record import Record

    out: list[type] = []
    for module in (ln, bt, wl):
        for name in dir(module):
            obj = getattr(module, name)
            if (
                isinstance(obj, type)
                and issubclass(obj, Record)
                and hasattr(obj, "__table__")
                and obj not in out
            ):
                out.append(obj)
    return out


def test_every_registry_shows_its_keyword_arguments() -> None:
    registries = _registries()
    names = {r.__name__ for r in registries}
    assert {"Artifact", "ULabel", "Feature", "CellType", "Gene"} <= names
    assert len(registries) > 15
    for registry in registries:
        sig = inspect.signature(registry)
        params = sig.parameters
        assert params, registry
        assert not any(
            p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params.values()
        ), registry
        # every parameter is accepted by the constructor
        accepted = registry._init_fields()
        for name in params:
            assert name in accepted or registry.__init__.__doc__, (registry, name)


def test_documented_constructor_parameters_come_first() -> None:
    import lamin_sa.bionty as bt

    sig = inspect.signature(ln.Artifact)
    first = list(sig.parameters)[:6]
    assert first == [
        "data",
        "key",
        "description",
        "version",
        "is_new_version_of",
        "run",
    ]
    assert sig.parameters["data"].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert sig.parameters["description"].default is None
    assert "n_observations" in sig.parameters and "run_id" not in sig.parameters
    feature = inspect.signature(ln.Feature).parameters
    assert feature["name"].default is inspect.Parameter.empty  # name=... : required
    ulabel = inspect.signature(ln.ULabel).parameters
    assert list(ulabel)[0] == "name" and ulabel["name"].annotation is str
    assert "ontology_id" in inspect.signature(bt.CellType).parameters
    assert list(inspect.signature(ln.Run).parameters)[0] == "transform"
    # help() renders the real signature too
    assert "Artifact(data, *, key=None, description=None" in pydoc.render_doc(
        ln.Artifact
    )
