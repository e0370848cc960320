"""Records between instances: ``using()`` reads, transfers and LaminDB imports."""

from lamin_sa.exchange.lamindb_import import ImportReport, import_lamindb
from lamin_sa.exchange.using import foreign_context, open_instance, save_foreign, using

__all__ = [
    "ImportReport",
    "foreign_context",
    "import_lamindb",
    "open_instance",
    "save_foreign",
    "using",
]
