"""Lineage test script B: loads A's artifact and saves a derived one."""

from pathlib import Path

import lamin_sa as ln

ln.track()
a = ln.Artifact.filter(description="A output").order_by("-created_at").first()
text = Path(a.cache()).read_text()
Path("b.txt").write_text(text + " -> B")
ln.Artifact("b.txt", description="B output").save()
ln.finish()
