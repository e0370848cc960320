"""The lamin-sa quickstart: the seed's flow end to end, growing with each capability.

Run with `make demo` (creates ./lamin-intro next to this file, SQLite + a local
folder). Re-running it is safe: existing records are reused.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

import lamin_sa as ln

ln.settings.verbosity = "info"

# 1. Set up an instance: a SQLite database + a local storage folder.
ln.init(storage="./lamin-intro")
print(ln.settings.instance)

# 2. Labels with a hierarchy.
is_perturbation = ln.ULabel(name="is_perturbation").save()
ln.save([ln.ULabel(name="DMSO"), ln.ULabel(name="IFNG")])
for label in ln.ULabel.filter(name__in=["DMSO", "IFNG"]):
    label.parents.add(is_perturbation)
print(is_perturbation.children.df(include=["parents__name"]))

# 3. A transform and its runs (ln.track() automates this, see the lineage section).
transform = ln.Transform(name="quickstart", key="quickstart.py", type="script")
transform = transform.save()
run = ln.Run(transform=transform).save()
print(transform.runs.count(), "run(s) of", transform)

# 4. Queries: Django-style lookups across relationships, Q objects, DataFrames.
print(ln.ULabel.filter(parents__name="is_perturbation").list("name"))
print(ln.ULabel.filter(ln.Q(name="DMSO") | ln.Q(name__startswith="IF")).count())
print(ln.Run.filter(transform__name__icontains="quick").df())
ln.ULabel.get(name="DMSO").describe()

# 5. Artifacts: a DataFrame saved as parquet, with typed, relational metadata.
df = pd.DataFrame(
    {
        "CD8A": [1, 2, 3],
        "CD4": [3, 4, 5],
        "CD14": [5, 6, 7],
        "perturbation": ["DMSO", "IFNG", "DMSO"],
    },
    index=["observation1", "observation2", "observation3"],
)
artifact = ln.Artifact.from_df(df, description="my RNA-seq", version="1")
print(artifact.describe())
artifact.save()  # data and metadata in one atomic operation
print(artifact.load())

# files and folders (outside the storage root: copied in on save)
data_dir = Path(tempfile.mkdtemp())
(data_dir / "images").mkdir()
for i in range(3):
    (data_dir / "images" / f"img{i}.txt").write_text(f"image {i}")
folder = ln.Artifact(data_dir / "images", description="my folder of images").save()
print(folder.n_objects, "files in", folder.path)

# a new version of the dataset
df2 = df.assign(CD8A=[2, 3, 4])
artifact_v2 = ln.Artifact.from_df(df2, is_new_version_of=artifact).save()
print(artifact_v2.versions.df()[["uid", "version", "is_latest"]])

# collections of artifacts
collection = ln.Collection([artifact, artifact_v2], name="my RNA-seq collection")
collection = collection.save()
print(collection.load().shape, "rows x columns across", collection.artifacts.count())

print("quickstart done")
