"""The lamin-sa side of ``make bench-compare`` (public API only)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

# The child's own peak RSS in kB: VmHWM is reset by exec, unlike ru_maxrss, which
# Linux carries over from the forking parent.
_PEAK_RSS = (
    "print(next(line.split()[1] for line in open('/proc/self/status') "
    "if line.startswith('VmHWM')))\n"
)


class Backend:
    """Calls of the compared operations, on lamin-sa."""

    def __init__(self) -> None:
        import lamin_sa as ln

        self.ln = ln

    def init(self, root: Path) -> None:
        # the driver's PostgreSQL worker sets LAMIN_BENCH_DB
        self.ln.init(storage=root, db=os.environ.get("LAMIN_BENCH_DB") or None)
        self.ln.settings.verbosity = "error"

    def close(self) -> None:
        self.ln.close()

    def create_labels(self, names: list[str]) -> list[Any]:
        ln = self.ln
        labels = [ln.ULabel(name=n) for n in names]
        ln.save(labels)
        return labels

    def save_df(self, df: Any, description: str) -> Any:
        return self.ln.Artifact.from_df(df, description=description).save()

    def link(self, artifact: Any, label: Any) -> None:
        artifact.ulabels.add(label)

    def link_many(self, artifact: Any, labels: list[Any]) -> None:
        artifact.ulabels.add(*labels)

    def count_links(self, artifact: Any) -> int:
        return self.ln.Artifact.filter(id=artifact.id).one().ulabels.count()

    def filter_relational(self, label: Any) -> list[Any]:
        return list(
            self.ln.Artifact.filter(ulabels=label, description__icontains="rna")
        )

    def df_all(self) -> Any:
        return self.ln.Artifact.df()

    def df_len(self) -> int:
        return len(self.ln.Artifact.df())

    def df_include(self) -> Any:
        return self.ln.Artifact.df(include=["ulabels__name"])

    def validate(self, values: list[str]) -> Any:
        return self.ln.ULabel.validate(values, "name", mute=True)

    def inspect(self, values: list[str]) -> Any:
        return self.ln.ULabel.inspect(values, "name", mute=True)

    def search(self, query: str) -> list[Any]:
        return list(self.ln.ULabel.search(query))

    def ingest(self, path: Path, description: str) -> Any:
        return self.ln.Artifact(path, description=description).save()

    def delete_artifact(self, artifact: Any) -> None:
        artifact.delete(permanent=True)

    def fresh_connect_code(self, root: Path) -> tuple[str, dict[str, str]]:
        """Import, connect to the last used instance, run a first query."""
        code = (
            "import lamin_sa as ln\n"
            "ln.connect()\n"
            "assert ln.ULabel.filter(name='label 1').first() is not None\n" + _PEAK_RSS
        )
        return code, {}

    def floor_code(self, op: str) -> str:
        """A fresh process that only imports what ``op`` cannot do without.

        SQLAlchemy for the connect; for the first artifact also pandas (the
        script's own import) and pyarrow (the parquet bytes), LaminDB's too.
        """
        imports = "sqlalchemy.orm"
        if op == "first_artifact":
            imports = "pandas, pyarrow.parquet, sqlalchemy.orm"
        return f"import {imports}\n" + _PEAK_RSS

    def first_artifact_code(self, where: Path) -> tuple[str, dict[str, str]]:
        """Init a new instance, save one DataFrame, exit."""
        code = (
            "import pandas as pd\n"
            "import lamin_sa as ln\n"
            f"ln.init(storage={str(where / 'data')!r})\n"
            "df = pd.DataFrame({'a': [1, 2, 3], 'b': ['x', 'y', 'z']})\n"
            "ln.Artifact.from_df(df, description='first').save()\n" + _PEAK_RSS
        )
        env = {
            "LAMIN_SA_HOME": str(where / "home"),
            "LAMIN_SA_CACHE_DIR": str(where / "cache"),
        }
        return code, env
