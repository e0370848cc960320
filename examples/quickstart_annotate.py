"""The seed's "Labels", "Queries" and "Validate & annotate" sections.

``examples/quickstart.py`` calls :func:`run` after its artifact section, passing
``lamin_sa`` and the saved "my RNA-seq" artifact. Re-running is safe: existing
records are reused and validation only registers what is missing.
"""

from __future__ import annotations

from typing import Any


def run(ln: Any, artifact: Any) -> Any:
    """Label, query, validate and annotate; return the annotated artifact."""
    # ---- Labels -------------------------------------------------------------------
    # create & save a label, then label the artifact with it
    candidate_marker_study = ln.ULabel(name="Candidate marker study").save()
    artifact.labels.add(candidate_marker_study)
    artifact.describe()
    print(ln.ULabel.df())

    # ---- Queries ------------------------------------------------------------------
    # filter by description
    print(ln.Artifact.filter(description="my RNA-seq").df())
    # artifacts made by a transform with "quick" in its name and labeled
    # "Candidate marker study" (empty unless the artifact came from a tracked run)
    artifacts = ln.Artifact.filter(
        transform__name__icontains="quick", ulabels=candidate_marker_study
    ).all()
    print(artifacts)
    # all artifacts labeled "Candidate marker study"
    print(ln.Artifact.filter(ulabels=candidate_marker_study).list("description"))

    # ---- Validate & annotate ------------------------------------------------------
    df = artifact.load()

    # construct an object to validate & annotate a DataFrame
    annotate = ln.Annotate.from_df(
        df,
        # define validation criteria
        columns=ln.Feature.name,  # map column names
        categoricals={df.perturbation.name: ln.ULabel.name},  # map categories
    )
    # the dataframe doesn't validate unless registries contain the identifiers
    validated = annotate.validate()
    # add non-validated identifiers to their mapped registries
    annotate.add_new_from_columns()
    if not validated:
        annotate.add_new_from(df.perturbation.name)
    # the registered labels & features that will from now on be used for validation
    print(ln.ULabel.df())
    print(ln.Feature.df())

    # given the updated registries, the validation passes
    assert annotate.validate()
    # save the annotated artifact (the same data: the stored artifact is returned)
    artifact = annotate.save_artifact(description="my RNA-seq", version="1")
    artifact.describe()

    # ---- Query for annotations ----------------------------------------------------
    ulabels = ln.ULabel.lookup()
    print(ln.Artifact.filter(ulabels=ulabels.ifng).df())
    print(ln.Artifact.filter(feature_sets__features__name="CD8A").df())
    print(artifact.features["columns"].list("name"))
    print(artifact.labels.get(ln.Feature.filter(name="perturbation").first()))
    return artifact
