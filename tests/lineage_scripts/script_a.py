"""Lineage test script A: tracked with params, saves the first artifact."""

from pathlib import Path

import lamin_sa as ln
from lamin_sa.lineage.track import run_context

ln.track(params={"n": 3, "genes": ["a", "b"], "rate": 0.5})
# the run uid in the content keeps each run's output distinct
Path("a.txt").write_text(f"A data {run_context.run.uid}")
ln.Artifact("a.txt", description="A output").save()
ln.finish()
