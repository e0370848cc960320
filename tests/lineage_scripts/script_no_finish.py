"""Lineage test script: tracks and saves an artifact, but never calls finish()."""

from pathlib import Path

import lamin_sa as ln

ln.track()
Path("d.txt").write_text("D data")
ln.Artifact("d.txt", description="D output").save()
