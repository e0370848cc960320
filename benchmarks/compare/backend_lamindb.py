"""The LaminDB (2.12) side of ``make bench-compare``, fully offline.

Offline LaminDB needs its settings in a private folder (``LAMIN_SETTINGS_DIR``, set
by the driver) and ``settings.instance._is_on_hub = False`` right after import so it
never asks the hub about the instance. Calls are LaminDB's current, non-deprecated
spellings: ``from_dataframe`` and ``to_dataframe(limit=None)`` (its default limit is
20 rows; lamin-sa's ``df()`` returns all rows).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

_OFFLINE = "ln.setup.settings.instance._is_on_hub = False\n"


# The child's own peak RSS in kB: VmHWM is reset by exec, unlike ru_maxrss, which
# Linux carries over from the forking parent.
_PEAK_RSS = (
    "print(next(line.split()[1] for line in open('/proc/self/status') "
    "if line.startswith('VmHWM')))\n"
)


class Backend:
    """Calls of the compared operations, on LaminDB."""

    ln: Any = None

    def init(self, root: Path) -> None:
        # Init before importing lamindb: models imported before an init in the same
        # process are stale (LaminDB re-sets Django), as `lamin init` then python.
        import lamindb_setup

        lamindb_setup.init(storage=str(root))
        import lamindb as ln

        ln.setup.settings.instance._is_on_hub = False
        # LaminDB logs hints per record ("tip: pass `type`..."); both sides mute.
        ln.settings.verbosity = "error"
        logging.getLogger("lamindb").setLevel(logging.ERROR)
        self.ln = ln

    def close(self) -> None:
        pass

    def create_labels(self, names: list[str]) -> list[Any]:
        # a fixture, not a timed operation: Django's bulk_create (ln.save takes
        # minutes for 10,000 labels here)
        ln = self.ln
        ln.ULabel.objects.bulk_create([ln.ULabel(name=n) for n in names])
        return list(ln.ULabel.filter(name__in=names).order_by("id"))

    def save_df(self, df: Any, description: str) -> Any:
        return self.ln.Artifact.from_dataframe(df, description=description).save()

    def link(self, artifact: Any, label: Any) -> None:
        artifact.ulabels.add(label)

    def link_many(self, artifact: Any, labels: list[Any]) -> None:
        artifact.ulabels.add(*labels)

    def count_links(self, artifact: Any) -> int:
        return self.ln.Artifact.get(id=artifact.id).ulabels.count()

    def filter_relational(self, label: Any) -> list[Any]:
        return list(
            self.ln.Artifact.filter(ulabels=label, description__icontains="rna")
        )

    def df_all(self) -> Any:
        return self.ln.Artifact.to_dataframe(limit=None)

    def df_len(self) -> int:
        return len(self.ln.Artifact.to_dataframe(limit=None))

    def df_include(self) -> Any:
        return self.ln.Artifact.to_dataframe(include=["ulabels__name"], limit=None)

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
        """Import (connects the default instance), run a first query."""
        code = (
            "import lamindb as ln\n"
            + _OFFLINE
            + "assert ln.ULabel.filter(name='label 1').first() is not None\n"
            + _PEAK_RSS
        )
        return code, {}

    def first_artifact_code(self, where: Path) -> tuple[str, dict[str, str]]:
        """Init a new instance, save one DataFrame, exit."""
        code = (
            "import pandas as pd\n"
            "import lamindb_setup\n"
            f"lamindb_setup.init(storage={str(where / 'data')!r})\n"
            "import lamindb as ln\n"
            + _OFFLINE
            + "df = pd.DataFrame({'a': [1, 2, 3], 'b': ['x', 'y', 'z']})\n"
            "ln.Artifact.from_dataframe(df, description='first').save()\n" + _PEAK_RSS
        )
        env = {
            "LAMIN_SETTINGS_DIR": str(where / "settings"),
            "LAMIN_CACHE_DIR": str(where / "cache"),
        }
        return code, env
