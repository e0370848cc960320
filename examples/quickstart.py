"""The lamin-sa quickstart: the seed's flow end to end, growing with each capability.

Run with `make demo` (creates ./lamin-intro next to this file, SQLite + a local
folder). Re-running it is safe: existing records are reused.
"""

from __future__ import annotations

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

print("quickstart done")
