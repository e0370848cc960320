"""wetlab registries: links to bionty and to artifacts, Annotate categoricals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import lamin_sa as ln
from lamin_sa import bionty as bt
from lamin_sa import wetlab as wl


@pytest.fixture
def wl_inst(db_url: str, tmp_path: Path) -> Iterator[None]:
    """A fresh instance with bionty and wetlab mounted, on each backend."""
    db = None if db_url.startswith("sqlite") else db_url
    ln.init(storage=tmp_path / "root", db=db, modules=["wetlab"])
    try:
        yield
    finally:
        ln.close()


def test_biosamples_link_bionty_terms_and_label_artifacts(wl_inst: None) -> None:
    human = bt.Organism(name="human", scientific_name="Homo sapiens").save()
    t_cell = bt.CellType(name="T cell", ontology_id="CL:0000084").save()
    blood = bt.Tissue(name="blood", ontology_id="UBERON:0000178").save()
    sample = wl.Biosample(name="donor 1 PBMC", batch="b1", organism=human).save()
    sample.cell_types.add(t_cell)
    sample.tissues.add(blood)
    assert [c.name for c in sample.cell_types] == ["T cell"]
    assert wl.Biosample.filter(cell_types__ontology_id="CL:0000084").one() == sample
    assert wl.Biosample.filter(organism__name="human").count() == 1
    assert wl.Biosample.registry_name() == "wetlab.Biosample"
    well = wl.Well(row="A", column=1).save()
    assert well.name == "A1"
    treatment = wl.Treatment(name="IFNG", type="chemical").save()
    experiment_type = wl.ExperimentType(name="scRNA-seq").save()
    experiment = wl.Experiment(name="exp 1", experiment_type=experiment_type).save()

    ln.Feature(name="sample", dtype="cat[wetlab.Biosample]").save()
    ln.Feature(name="treatment", dtype="cat[wetlab.Treatment]").save()
    df = pd.DataFrame({"sample": ["donor 1 PBMC"] * 2, "treatment": ["IFNG", "IFNG"]})
    annotate = ln.Annotate.from_df(
        df,
        categoricals={"sample": wl.Biosample.name, "treatment": wl.Treatment.name},
    )
    assert annotate.validate()
    artifact = annotate.save_artifact(description="perturbed PBMCs")
    assert [s.name for s in artifact.biosamples] == ["donor 1 PBMC"]
    assert [t.id for t in artifact.treatments] == [treatment.id]
    artifact.labels.add(experiment)
    assert ln.Artifact.filter(experiments__name="exp 1").one().id == artifact.id
    assert ln.Artifact.filter(biosamples__cell_types=t_cell).count() == 1
    text = artifact.describe(return_str=True)
    assert "📎 biosamples (1, Biosample): 'donor 1 PBMC'" in text
