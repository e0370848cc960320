"""Public sources on bionty registries: public, from_public, import_source.

:class:`PublicSourced` is a mixin of every bionty registry. It connects a
registry to :mod:`lamin_sa.ontology`: the registry's public source in memory
(``bt.CellType.public()``), one term as an unsaved record that brings its
ancestor chain when saved (``bt.CellType.from_public(name="neuron")``), and a
whole release in one transaction (``bt.CellType.import_source()``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar

from lamin_sa.config import SUCCESS
from lamin_sa.errors import LaminSAError, NoResultFound, ValidationError

if TYPE_CHECKING:
    from lamin_sa.ontology.loader import ImportResult, LoadTarget
    from lamin_sa.ontology.public import PublicOntology

logger = logging.getLogger(__name__)

_PENDING = "_lamin_public_pending"


def _organism(cls: type, organism: Any) -> Any:
    """The Organism record for a per-organism registry (None for the others)."""
    from lamin_sa.ontology.entities import entity_spec

    if not entity_spec(cls._public_entity()).needs_organism:  # type: ignore[attr-defined]
        return None
    from lamin_sa.bionty.settings import organism_record, settings

    if organism is None:
        organism = settings.organism
    if organism is None:
        raise ValidationError(
            f"{cls.__name__} needs an organism: pass organism='human' or set "
            "bt.settings.organism."
        )
    return organism_record(organism) if isinstance(organism, str) else organism


class PublicSourced:
    """``public``, ``from_public`` and ``import_source`` for a bionty registry."""

    #: the ontology entity of the registry (default: the class name).
    _ontology_entity: ClassVar[str | None] = None

    @classmethod
    def _public_entity(cls) -> str:
        return cls._ontology_entity or cls.__name__

    @classmethod
    def public(
        cls,
        organism: Any = None,
        source: str | None = None,
        version: str | None = None,
        *,
        format: str | None = None,
        file: Any = None,
    ) -> PublicOntology:
        """The registry's public source in memory (no database access).

        Args:
            organism: For Gene and Protein (default: ``bt.settings.organism``).
            source: The source key (default: the manifest's default).
            version: The release.
            format: Prefer this format's release (``"obo"``, ``"cxg-json"``).
            file: Read this file or URL instead.

        Example:
            >>> bt.CellType.public().search("gamma delta T cell").head(1)
        """
        from lamin_sa.ontology.public import PublicOntology

        org = _organism(cls, organism)
        return PublicOntology(
            cls._public_entity(),
            source=source,
            version=version,
            organism=org.name if org is not None else None,
            format=format,
            file=file,
        )

    @classmethod
    def _load_target(cls, organism: Any) -> LoadTarget:
        from lamin_sa.bionty.models import Source
        from lamin_sa.ontology.targets import infer_target

        defaults = {"organism_id": organism.id} if organism is not None else {}
        return infer_target(
            cls.__table__,  # type: ignore[attr-defined]
            Source.__table__,
            cls._public_entity(),
            defaults=defaults,
        )

    @classmethod
    def _source_row(cls, public: PublicOntology, organism: Any) -> dict[str, Any]:
        found = public.found
        return {
            "entity": f"bionty.{cls.__name__}",
            "name": public.source,
            "organism": organism.name if organism is not None else public.organism,
            "version": public.version,
            "url": ", ".join(found.spec.url) or None if found else None,
            "checksum": public.checksum,
            "description": found.spec.description or None if found else None,
        }

    @classmethod
    def import_source(
        cls,
        source: str | None = None,
        version: str | None = None,
        organism: Any = None,
        *,
        format: str | None = None,
        file: Any = None,
    ) -> ImportResult:
        """Import a whole release: terms, synonyms, parent links and a Source row.

        One transaction, on SQLite and PostgreSQL. Re-importing the same release
        changes nothing (checked by checksum, without parsing); a newer release
        updates records in place, so they keep their ids and links.

        Example:
            >>> bt.CellType.import_source()
            ImportResult(source_id=1, inserted=3324, ...)
        """
        from lamin_sa.db.session import current
        from lamin_sa.ontology.loader import import_release

        cls.check_usable()  # type: ignore[attr-defined]
        org = _organism(cls, organism)
        session = current().session
        conn = session.connection()
        try:
            result = import_release(
                conn,
                cls._load_target(org),
                cls._public_entity(),
                source=source,
                version=version,
                organism=org.name if org is not None else None,
                format=format,
                file=file,
                entity_label=f"bionty.{cls.__name__}",
            )
            session.commit()
        except BaseException:
            session.rollback()
            raise
        session.expire_all()
        return result

    @classmethod
    def from_public(
        cls,
        *,
        organism: Any = None,
        source: str | None = None,
        version: str | None = None,
        file: Any = None,
        **field: Any,
    ) -> Any:
        """An unsaved record from the public source, matched by one field exactly.

        A stored record with that value is returned as is. Saving a new one also
        saves its ancestor chain, in bulk (a fixed number of statements).

        Args:
            organism: For Gene and Protein.
            source: The source key.
            version: The release.
            file: Read this source file instead.
            **field: Exactly one field, e.g. ``name="neuron"`` or
                ``ontology_id="CL:0000540"``.

        Example:
            >>> neuron = bt.CellType.from_public(name="neuron").save()
            >>> neuron.parents.df()
        """
        if len(field) != 1:
            raise ValidationError(
                "from_public() takes exactly one field, e.g. name='neuron' or "
                "ontology_id='CL:0000540'."
            )
        ((key, value),) = field.items()
        public = cls.public(
            organism=organism, source=source, version=version, file=file
        )
        spec_cols = public.fields
        if key not in spec_cols or key == "parents":
            raise ValidationError(
                f"{cls.__name__}.from_public() field must be one of "
                f"{', '.join(c for c in spec_cols if c != 'parents')}."
            )
        stored = cls.filter(**{key: value}).one_or_none()  # type: ignore[attr-defined]
        if stored is not None:
            return stored
        terms = public.table.terms
        rows = terms[terms[key] == value]
        if rows.empty:
            raise NoResultFound(
                f"no {cls.__name__} with {key}={value!r} in {public.source} "
                f"{public.version}; try .public().search({value!r})."
            )
        org = _organism(cls, organism)
        row = rows.iloc[0]
        spec = public.table.entity
        source_record = cls._get_or_create_source(public, org)
        record = cls._record_from_row(public, row.to_dict(), org, source_record)
        if len(rows) > 1:
            logger.warning(
                "%d %s terms have %s=%r; returning the first (%s)",
                len(rows),
                public.source,
                key,
                value,
                row[spec.id_field],
            )
        return record

    @classmethod
    def _record_from_row(
        cls,
        public: PublicOntology,
        row: dict[str, Any],
        organism: Any,
        source_record: Any,
    ) -> Any:
        """An unsaved record of one public term; saving it saves its ancestors."""
        spec = public.table.entity
        target = cls._load_target(organism)
        kwargs: dict[str, Any] = {spec.id_field: row[spec.id_field]}
        for canon, column in target.columns.items():
            value = row[canon]
            kwargs[column] = None if value is None or value != value else value
        if organism is not None:
            kwargs["organism"] = organism
        kwargs["source"] = source_record
        record = cls(**kwargs)
        record.__dict__[_PENDING] = (public, organism)
        return record

    @classmethod
    def from_values(
        cls,
        values: Any,
        field: Any = None,
        *,
        mute: bool = False,
        organism: Any = None,
        source: str | None = None,
        version: str | None = None,
        file: Any = None,
        public: bool = True,
    ) -> list[Any]:
        """Stored records for the values, and new ones from the public source.

        Values that match no stored record (directly or by synonym) are looked
        up in the public source, synonym-aware; each match becomes an unsaved
        record (``record.save()`` also saves its ancestors). Values found
        nowhere are reported.

        Args:
            values: A column of values or one string.
            field: The field to match (default: the name field).
            mute: Do not log.
            organism: For Gene and Protein.
            source: The public source key.
            version: The release.
            file: Read this source file instead.
            public: Fall back to the public source (default True).

        Example:
            >>> genes = bt.Gene.from_values(["CD8A", "TCF-1"], organism="human")
        """
        from lamin_sa.curate.validate import field_name, quote_list, to_list, unique

        stored = super().from_values(values, field, mute=True)  # type: ignore[misc]
        if not public:
            return stored
        name = field_name(cls, field)  # type: ignore[arg-type]
        items, _ = to_list(values)
        distinct = unique(items)
        have = {getattr(r, name) for r in stored}
        mapper = cls.standardize(  # type: ignore[attr-defined]
            distinct, name, return_mapper=True, mute=True
        )
        missing = [v for v in distinct if v not in have and mapper.get(v) not in have]
        if not missing:
            return stored
        try:
            pub = cls.public(
                organism=organism, source=source, version=version, file=file
            )
        except (ValidationError, LaminSAError) as exc:
            if not mute:
                logger.info("no public source for %s: %s", cls.__name__, exc)
            return stored
        if name not in pub.fields:
            return stored
        mapped = pub.standardize(missing, name, mute=True)
        terms = pub.table.terms
        rows = {
            value: i
            for i, value in reversed(list(enumerate(terms[name].tolist())))
            if value is not None
        }
        org = _organism(cls, organism)
        source_record = None
        created: list[Any] = []
        seen: set[Any] = set()
        not_found = []
        for value, target in zip(missing, mapped, strict=True):
            index = rows.get(target)
            if index is None:
                not_found.append(value)
                continue
            if target in seen:
                continue
            seen.add(target)
            if source_record is None:
                source_record = cls._get_or_create_source(pub, org)
            row = terms.iloc[index].to_dict()
            created.append(cls._record_from_row(pub, row, org, source_record))
        if not mute:
            if created:
                logger.log(
                    SUCCESS,
                    "created %d %s record(s) from %s %s: %s",
                    len(created),
                    cls.__name__,
                    pub.source,
                    pub.version,
                    quote_list(getattr(r, name) for r in created),
                )
            if not_found:
                logger.warning(
                    "did not create %s records for %s (not in %s %s)",
                    cls.__name__,
                    quote_list(not_found),
                    pub.source,
                    pub.version,
                )
        return stored + created

    @classmethod
    def _get_or_create_source(cls, public: PublicOntology, organism: Any) -> Any:
        from lamin_sa.bionty.models import Source

        row = cls._source_row(public, organism)
        found = Source.filter(
            entity=row["entity"],
            name=row["name"],
            organism=row["organism"],
            version=row["version"],
        ).one_or_none()
        if found is not None:
            return found
        return Source(
            entity=row["entity"],
            name=row["name"],
            organism=row["organism"],
            version=row["version"],
            url=row["url"],
            md5=row["checksum"],
            description=row["description"],
        ).save()

    @classmethod
    def _after_insert(cls, session: Any, records: list[Any]) -> None:
        """Save the ancestor chains of new records from a public source, in bulk.

        Runs inside the save's transaction (``record.save()`` and ``ln.save()``
        alike): one subset import per release, whatever the number of records.
        """
        from lamin_sa.bionty.settings import settings
        from lamin_sa.ontology.loader import import_table

        groups: dict[tuple[Any, ...], tuple[Any, Any, list[Any]]] = {}
        for record in records:
            pending = record.__dict__.pop(_PENDING, None)
            if pending is None:
                continue
            public, organism = pending
            key = (
                public.source,
                public.version,
                public.checksum,
                getattr(organism, "id", None),
            )
            groups.setdefault(key, (public, organism, []))[2].append(record)
        if not groups or not settings.auto_save_parents:
            return
        conn = session.connection()
        for public, organism, group in groups.values():
            spec = public.table.entity
            if not spec.hierarchical:
                continue
            import_table(
                conn,
                cls._load_target(organism),
                public.table,
                cls._source_row(public, organism),
                subset=[getattr(r, spec.id_field) for r in group],
            )
            for r in group:
                # the links were written with Core: reload them on next access
                session.expire(r, ["parents", "children"])
