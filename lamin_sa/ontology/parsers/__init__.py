"""One parser per format; :func:`parse_file` sniffs which one reads a file.

Example:
    >>> from lamin_sa.ontology.parsers import parse_file
    >>> table = parse_file("hp.obo.gz", "Phenotype", source="hp")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from lamin_sa.ontology.entities import EntitySpec, entity_spec
from lamin_sa.ontology.parsers.base import Parser, plain_name, read_head
from lamin_sa.ontology.parsers.cxg_json import CxgJsonParser
from lamin_sa.ontology.parsers.obo import OboParser
from lamin_sa.ontology.parsers.owl import OwlParser
from lamin_sa.ontology.parsers.tables import GencodeParser, TaxonParser, UniprotParser
from lamin_sa.ontology.table import OntologyTable

#: sniffing order: the table formats have exact headers, OBO and OWL are looser.
PARSERS: tuple[Parser, ...] = (
    GencodeParser(),
    UniprotParser(),
    TaxonParser(),
    CxgJsonParser(),
    OwlParser(),
    OboParser(),
)


def parser_for(path: str | Path, format: str | None = None) -> Parser:
    """The parser for ``format``, or the first whose sniffing accepts the file."""
    from lamin_sa.errors import ValidationError

    if format is not None:
        for parser in PARSERS:
            if parser.format == format:
                return parser
        known = ", ".join(p.format for p in PARSERS)
        raise ValidationError(
            f"unknown ontology format {format!r}; use one of {known}."
        )
    head = read_head(path)
    name = plain_name(path)
    for parser in PARSERS:
        if parser.can_parse(head, name):
            return parser
    raise ValidationError(
        f"cannot tell the format of {Path(path).name}; pass format= "
        f"({', '.join(p.format for p in PARSERS)})."
    )


def parse_file(
    paths: str | Path | list[str | Path],
    entity: str | EntitySpec,
    *,
    source: str | None = None,
    organism: str | None = None,
    format: str | None = None,
) -> OntologyTable:
    """Parse one source's file(s) into the entity's canonical table.

    Args:
        paths: The file, or several (a GENCODE CSV and its NCBI TSV).
        entity: The entity name (``"CellType"``) or spec.
        source: The source name (selects id prefixes, e.g. ``"hp"``).
        organism: For per-organism tables (UniProt).
        format: Skip sniffing (``"obo"``, ``"cxg-json"``, ``"owl"``, ...).
    """
    files = [Path(p) for p in (paths if isinstance(paths, list) else [paths])]
    parser = parser_for(files[0], format)
    return parser.parse(files, entity_spec(entity), source=source, organism=organism)


__all__ = ["PARSERS", "Parser", "parse_file", "parser_for"]
