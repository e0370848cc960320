"""wetlab: samples, treatments, experiments and wells (requires bionty).

``from lamin_sa import wetlab as wl``; mounted with ``modules=["bionty",
"wetlab"]`` or ``lamin-sa migrate upgrade --module wetlab``.

Example:
    >>> sample = wl.Biosample(name="donor 1 PBMC", batch="b1").save()
    >>> sample.cell_types.add(bt.CellType.get(name="T cell"))
"""

from __future__ import annotations

from lamin_sa.wetlab import links
from lamin_sa.wetlab.models import (
    Biosample,
    Experiment,
    ExperimentType,
    Techsample,
    Treatment,
    TreatmentTarget,
    Well,
)

__all__ = [
    "Biosample",
    "Experiment",
    "ExperimentType",
    "Techsample",
    "Treatment",
    "TreatmentTarget",
    "Well",
    "links",
]
