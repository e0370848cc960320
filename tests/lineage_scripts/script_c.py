"""Lineage test script C: loads B's artifact and saves a derived one."""

from pathlib import Path

import lamin_sa as ln

ln.track()
b = ln.Artifact.filter(description="B output").order_by("-created_at").first()
text = Path(b.cache()).read_text()
Path("c.txt").write_text(text + " -> C")
ln.Artifact("c.txt", description="C output").save()
ln.finish()
