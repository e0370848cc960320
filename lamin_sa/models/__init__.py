"""Core models. Module packages (bionty, wetlab) hold their own."""

from lamin_sa.models.core import *  # noqa: F403
from lamin_sa.models.core import __all__  # noqa: F401
from lamin_sa.models.pending import pending_save  # noqa: F401  (registers the table)
