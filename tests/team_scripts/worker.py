"""One collaborator process: connect, record a run, save artifacts with labels.

Usage: python worker.py DB_URL WORKER_INDEX N_ARTIFACTS
"""

import sys

import lamin_sa as ln

url, index, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ln.connect(url)
transform = ln.Transform(name=f"worker {index}", type="script").save()
run = ln.Run(transform=transform).save()
shared = [ln.ULabel(name=f"shared-{i}") for i in range(5)]
own = [ln.ULabel(name=f"worker-{index}-{i}") for i in range(3)]
ln.save(shared + own)
features = list(ln.Feature.filter(name__startswith="feat-").order_by("name"))
assert len(features) == 3, features
feature_set = ln.FeatureSet(features).save()
for i in range(n):
    artifact = ln.Artifact.from_df(
        __import__("pandas").DataFrame({"worker": [index], "i": [i]}),
        description=f"worker {index} artifact {i}",
        run=run,
    ).save()
    artifact.ulabels.add(shared[i % 5], own[i % 3])
    artifact.feature_sets.add(feature_set)
print("done", index, ln.Artifact.filter().count())
