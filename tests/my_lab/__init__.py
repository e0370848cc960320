"""A small third-party-style schema module used by the tests (``my_lab``).

It uses only the module-author API (:mod:`lamin_sa.models.links`); its models
live in :mod:`tests.my_lab.models` and load only when asked for.
"""
