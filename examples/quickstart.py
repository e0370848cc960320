"""The lamin-sa quickstart: the seed's flow end to end, growing with each capability.

Run with `make demo` (creates ./lamin-intro next to this file: SQLite + a local
folder). Re-running it is safe: existing records are reused.

The demo keeps its own settings home, ./.lamin-home beside ./lamin-intro, so every
checkout (and every working directory) runs its own "lamin-intro" instance and never
clashes with, or registers anything in, your own settings home. To open the demo's
instance afterwards: `LAMIN_SA_HOME=.lamin-home lamin-sa info`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd
import quickstart_annotate
import quickstart_bionty
import quickstart_dataloaders

import lamin_sa as ln

ln.settings.verbosity = "info"
# read on use, so setting it before the first init is enough (see the docstring)
os.environ["LAMIN_SA_HOME"] = str(Path(".lamin-home").resolve())

# 1. Set up an instance: a SQLite database + a local storage folder, with the
#    biological registries (bionty) mounted.
ln.init(storage="./lamin-intro", modules=["bionty"])
print(ln.settings.instance)

# 2. Track this script: a Transform (key = path in the git repo, versioned by the
#    source hash) and a Run; everything saved below links to them.
ln.track(params={"n_observations": 3, "markers": ["CD8A", "CD4", "CD14"]})

# 3. Artifacts: a DataFrame saved as parquet, with typed, relational metadata.
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
artifact.describe()
artifact.save()  # data and metadata in one atomic operation
print(artifact.load())

# files and folders (outside the storage root: copied in on save)
data_dir = Path(tempfile.mkdtemp())
(data_dir / "images").mkdir()
for i in range(3):
    (data_dir / "images" / f"img{i}.txt").write_text(f"image {i}")
folder = ln.Artifact(data_dir / "images", description="my folder of images").save()
print(folder.n_objects, "files in", folder.path)

# 4. Labels, queries, validation & annotation (the seed's sections).
artifact = quickstart_annotate.run(ln, artifact)

# 5. More queries: Django-style lookups across relationships, Q objects, search.
print(ln.ULabel.filter(parents__name="is_perturbation").list("name"))
print(ln.ULabel.filter(ln.Q(name="DMSO") | ln.Q(name__startswith="IF")).count())
print(ln.ULabel.filter().df(include=["parents__name"]))
print(ln.ULabel.search("IFGN").df())  # a typo still finds IFNG first
print(ln.Run.filter(transform__key__icontains="quickstart").df())

# 6. A new version of the dataset, and a collection of both versions.
df2 = df.assign(CD8A=[2, 3, 4])
artifact_v2 = ln.Artifact.from_df(df2, is_new_version_of=artifact).save()
print(artifact_v2.versions.df()[["uid", "version", "is_latest"]])
collection = ln.Collection([artifact, artifact_v2], name="my RNA-seq collection")
collection = collection.save(transfer_labels=True)
print(collection.load().shape, "rows x columns across", collection.artifacts.count())

# 6b. Data loaders: AnnData versions of both as one PyTorch dataset (the seed's
#     weighted sampler over "perturbation"); the collection becomes a run input.
quickstart_dataloaders.run(ln, [df, df2])

# 7. Lineage: a picture (SVG with graphviz, DOT text otherwise) and SQL.
print("lineage written to", artifact_v2.view_lineage(filename="lineage.svg"))
print(artifact_v2.lineage.ancestors().runs().df())

# 8. Biological registries: public ontologies offline, genes, cell types.
quickstart_bionty.run()

# 9. Finish: source code and environment saved, run closed.
ln.finish()
print("quickstart done")
