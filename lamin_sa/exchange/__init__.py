"""Records between instances: LaminDB imports (and, later, ``using()`` transfers)."""

from lamin_sa.exchange.lamindb_import import (
    ImportReport,
    LaminDBImportError,
    import_lamindb,
)

__all__ = ["ImportReport", "LaminDBImportError", "import_lamindb"]
