"""ln.Annotate: the seed's "Validate & annotate" flow, DataFrame and AnnData."""

from __future__ import annotations

import logging

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import lamin_sa as ln
from lamin_sa.errors import ValidationError
from tests import test_artifact_fixtures as fx
from tests.test_artifact_fixtures import Inst

inst_local = fx.inst_local


def seed_df() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "CD8A": [1, 2, 3],
            "CD4": [3, 4, 5],
            "CD14": [5, 6, 7],
            "perturbation": ["DMSO", "IFNG", "DMSO"],
        },
        index=["observation1", "observation2", "observation3"],
    )


def messages(caplog: pytest.LogCaptureFixture) -> str:
    records = [r for r in caplog.records if r.name.startswith("lamin_sa")]
    text = "\n".join(r.getMessage() for r in records)
    caplog.clear()
    return text


def test_seed_dataframe_flow(
    inst_local: Inst, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="lamin_sa")
    df = seed_df()
    artifact = ln.Artifact.from_df(df, description="my RNA-seq", version="1").save()
    candidate_marker_study = ln.ULabel(name="Candidate marker study").save()
    artifact.labels.add(candidate_marker_study)
    caplog.clear()

    annotate = ln.Annotate.from_df(
        df,
        columns=ln.Feature.name,
        categoricals={df.perturbation.name: ln.ULabel.name},
    )
    log = messages(caplog)
    assert "added 1 record with Feature.name for columns: 'perturbation'" in log
    assert (
        "3 non-validated categories are not saved in Feature.name: "
        "['CD8A', 'CD4', 'CD14']!" in log
    )
    assert "→ to lookup categories, use lookup().columns" in log
    assert "→ to save, run add_new_from_columns" in log
    assert ln.Feature.get(name="perturbation").dtype == "cat"

    assert annotate.validate() is False
    log = messages(caplog)
    assert "mapping perturbation on ULabel.name" in log
    assert "2 terms are not validated: 'DMSO', 'IFNG'" in log
    assert "      → save terms via .add_new_from('perturbation')" in log
    assert annotate.non_validated == {"perturbation": ["DMSO", "IFNG"]}
    with pytest.raises(ValidationError, match=r"perturbation: 'DMSO', 'IFNG'.*"):
        annotate.save_artifact(description="my RNA-seq")

    annotate.add_new_from_columns()
    annotate.add_new_from(df.perturbation.name)
    log = messages(caplog)
    assert "added 3 records with Feature.name for columns: 'CD8A', 'CD4', 'CD14'" in (
        log
    )
    assert "added 2 records with ULabel.name for perturbation: 'DMSO', 'IFNG'" in log
    assert ln.Feature.filter(name__in=["CD8A", "CD4", "CD14"]).list("dtype") == [
        "int",
        "int",
        "int",
    ]
    assert sorted(ln.ULabel.filter(parents__name="is_perturbation").list("name")) == [
        "DMSO",
        "IFNG",
    ]

    assert annotate.validate() is True
    assert "perturbation is validated against ULabel.name" in messages(caplog)
    saved = annotate.save_artifact(description="my RNA-seq", version="1")
    assert saved.id == artifact.id  # same data: the stored artifact
    assert "saved 1 feature set for slot: 'columns'" in messages(caplog)

    text = saved.describe(return_str=True)
    assert "Features:\n  columns: FeatureSet(uid=" in text
    assert ", n=4, registry='Feature')" in text
    expected = (
        "    🔗 perturbation (4, cat[ULabel]): 'DMSO', 'IFNG'\n"
        "    CD8A (int)\n"
        "    CD4 (int)\n"
        "    CD14 (int)\n"
        "Labels:\n"
        "  📎 ulabels (3, ULabel): 'Candidate marker study', 'DMSO', 'IFNG'"
    )
    assert expected in text
    assert ln.Feature.get(name="perturbation").dtype == "cat[ULabel]"
    assert sorted(saved.features["columns"].list("name")) == [
        "CD14",
        "CD4",
        "CD8A",
        "perturbation",
    ]
    perturbation = ln.Feature.get(name="perturbation")
    assert saved.labels.get(perturbation).list("name") == ["DMSO", "IFNG"]

    ulabels = ln.ULabel.lookup()
    assert ln.Artifact.filter(ulabels=ulabels.ifng).one() == saved
    assert ln.Artifact.filter(feature_sets__features__name="CD8A").one() == saved
    lookup = annotate.lookup()
    assert lookup.columns.cd8a.name == "CD8A"
    assert lookup.perturbation.dmso.name == "DMSO"
    assert lookup["perturbation"].ifng.name == "IFNG"
    with pytest.raises(AttributeError, match="No lookup for 'nope'"):
        _ = lookup.nope


def test_dataframe_options_and_errors(
    inst_local: Inst, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="lamin_sa")
    df = seed_df()
    with pytest.raises(ValueError, match=r"Columns \['donor'\] are not found"):
        ln.Annotate.from_df(df, categoricals={"donor": ln.ULabel.name})
    with pytest.raises(TypeError, match="registry field"):
        ln.Annotate.from_df(df, categoricals={"perturbation": "ULabel.name"})
    ln.ULabel(name="DMSO").save()
    annotate = ln.Annotate.from_df(
        df.assign(perturbation=["dmso", "IFNG", "DMSO"]),
        categoricals={"perturbation": ln.ULabel.name},
    )
    caplog.clear()
    assert not annotate.validate()
    log = messages(caplog)
    assert "2 terms are not validated: 'dmso', 'IFNG'" in log
    assert "1 of them match stored values by synonym or case: 'dmso' → 'DMSO'" in log
    # core registries have no public source: nothing to add from there
    annotate.add_validated_from("perturbation")
    assert "2 terms of perturbation are not found in any source" in messages(caplog)
    with pytest.raises(ValueError, match="'donor' is not validated"):
        annotate.add_new_from("donor")
    annotate.add_new_from("all")
    assert annotate.validate()
    assert ln.ULabel.filter(name__in=["dmso", "IFNG"]).count() == 2
    # save_artifact without columns registered: columns set holds the known ones
    artifact = annotate.save_artifact(description="lowercase")
    assert artifact.features["columns"].list("name") == ["perturbation"]
    assert artifact.labels.get(ln.Feature.get(name="perturbation")).list("name") == [
        "DMSO",
        "dmso",
        "IFNG",
    ]


def test_anndata_flow(inst_local: Inst, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="lamin_sa")
    df = seed_df()
    adata = ad.AnnData(df[["CD8A", "CD4", "CD14"]], obs=df[["perturbation"]])
    annotate = ln.Annotate.from_anndata(
        adata,
        var_index=ln.Feature.name,
        categoricals={adata.obs.perturbation.name: ln.ULabel.name},
    )
    assert ln.Feature.get(name="perturbation").dtype == "cat"
    caplog.clear()
    assert annotate.validate() is False
    log = messages(caplog)
    assert "3 terms are not validated: 'CD8A', 'CD4', 'CD14'" in log
    assert "→ save terms via .add_new_from_var_index()" in log
    assert "→ save terms via .add_new_from('perturbation')" in log
    annotate.add_new_from_var_index()
    annotate.add_new_from("perturbation")
    assert ln.Feature.get(name="CD4").dtype == "int"  # dtype of X
    assert annotate.validate() is True
    log = messages(caplog)
    assert "var_index is validated against Feature.name" in log
    assert "perturbation is validated against ULabel.name" in log

    artifact = annotate.save_artifact(description="my RNA-seq", version="1")
    assert "saved 2 feature sets for slots: 'var','obs'" in messages(caplog)
    assert artifact.accessor == "AnnData" and artifact.suffix == ".h5ad"
    assert artifact.n_observations == 3
    assert ln.Artifact.get(artifact.uid).n_observations == 3
    assert list(artifact.features.feature_set_by_slot) == ["var", "obs"]
    assert artifact.features["var"].list("name") == ["CD8A", "CD4", "CD14"]
    assert artifact.features["obs"].list("name") == ["perturbation"]
    text = artifact.describe(return_str=True)
    assert "  var: FeatureSet(uid=" in text
    assert "  obs: FeatureSet(uid=" in text
    assert "    🔗 perturbation (1, cat[ULabel]): 'DMSO', 'IFNG'" in text
    assert "  📎 ulabels (2, ULabel): 'DMSO', 'IFNG'" in text
    assert ln.Artifact.filter(feature_sets__features__name="CD8A").one() == artifact
    assert annotate.lookup().var_index.cd14.name == "CD14"

    # a second dataset with a new gene; then a collection that takes the labels
    df2 = pd.DataFrame(
        {
            "CD8A": [2, 3, 3],
            "CD4": [3, 4, 5],
            "CD38": [4, 2, 3],
            "perturbation": ["DMSO", "IFNG", "IFNG"],
        },
        index=["observation4", "observation5", "observation6"],
    )
    adata2 = ad.AnnData(df2[["CD8A", "CD4", "CD38"]], obs=df2[["perturbation"]])
    annotate2 = ln.Annotate.from_anndata(
        adata2,
        var_index=ln.Feature.name,
        categoricals={"perturbation": ln.ULabel.name},
    )
    assert not annotate2.validate()
    with pytest.raises(ValidationError, match="var_index: 'CD38'"):
        annotate2.save_artifact(description="my RNA-seq dataset 2")
    annotate2.add_new_from("all")
    artifact2 = annotate2.save_artifact(description="my RNA-seq dataset 2")
    obs_sets = {a.features.feature_set_by_slot["obs"].id for a in (artifact, artifact2)}
    assert len(obs_sets) == 1  # same obs features → same feature set
    collection = ln.Collection(
        [artifact, artifact2], name="my RNA-seq collection", version="1"
    )
    caplog.clear()
    collection.save(transfer_labels=True)
    assert messages(caplog).count("transferring perturbation") == 2
    perturbation = ln.Feature.get(name="perturbation")
    assert collection.labels.get(perturbation).list("name") == ["DMSO", "IFNG"]
    text = collection.describe(return_str=True)
    assert "🔗 perturbation (1, cat[ULabel]): 'DMSO', 'IFNG'" in text
    assert "📎 ulabels (2, ULabel): 'DMSO', 'IFNG'" in text


def test_anndata_from_path_float_x(inst_local: Inst) -> None:
    adata = ad.AnnData(
        np.array([[0.5, 1.5], [2.5, 3.5]], dtype=np.float32),
        obs=pd.DataFrame({"donor": ["d1", "d2"]}, index=["c1", "c2"]),
        var=pd.DataFrame(index=["GENE1", "GENE2"]),
    )
    path = inst_local.tmp / "data.h5ad"
    adata.write_h5ad(path)
    with pytest.raises(TypeError, match="AnnData object or a path"):
        ln.Annotate.from_anndata(adata.obs, var_index=ln.Feature.name)
    annotate = ln.Annotate.from_anndata(
        path, var_index=ln.Feature.name, categoricals={"donor": ln.ULabel.name}
    )
    annotate.add_new_from("all")
    assert ln.Feature.get(name="GENE1").dtype == "float"
    assert annotate.validate()
    artifact = annotate.save_artifact(description="from a path")
    assert artifact.suffix == ".h5ad" and artifact.n_observations == 2
    assert artifact.features["var"].list("name") == ["GENE1", "GENE2"]
    assert artifact.labels.get(ln.Feature.get(name="donor"), flat_names=True) == [
        "d1",
        "d2",
    ]
    assert ln.ULabel.get(name="is_donor").children.count() == 2
