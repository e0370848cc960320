"""remove() and clear() of related managers keep their meaning once SQLAlchemy
has instrumented the collection class (it wraps list-like methods)."""

from __future__ import annotations

import inspect

from sqlalchemy.orm import configure_mappers

import lamin_sa as ln
from lamin_sa.models.record import RelatedRecords


def test_remove_several_and_clear_after_mapper_configuration(ctx) -> None:
    configure_mappers()
    assert "*records" in str(inspect.signature(RelatedRecords.remove))
    assert "Unlink" in (inspect.getdoc(RelatedRecords.clear) or "")
    a, b, c = (ln.ULabel(name=n).save() for n in ("a", "b", "c"))
    c.parents.add(a, b)
    assert sorted(c.parents.list("name")) == ["a", "b"]
    c.parents.remove(a, b)
    assert c.parents.list("name") == [] and len(c.parents) == 0
    c.parents.add(a, b)
    c.parents.clear()
    assert c.parents.count() == 0 and len(c.parents) == 0
