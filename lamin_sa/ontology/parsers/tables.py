"""Gene, protein and taxon tables (CSV/TSV).

- GENCODE gene CSV (no header: ``ensembl_gene_id, symbol, gene_version, length,
  biotype``), optionally joined with an NCBI gene TSV (header ``ncbi_gene_id,
  symbol, ensembl_gene_ids, gene_type, description, synonyms, chromosome``) on
  the Ensembl id: NCBI ids, descriptions and aliases (as synonyms, plus the NCBI
  symbol when it differs from GENCODE's, so retired symbols still map).
- UniProt TSV (``uniprotkb_id, entry_name, organism``).
- NCBITaxon TSV (``ontology_id, scientific_name, synonyms, parents,
  deprecated``): the shortest common name becomes the name (``human``,
  ``mouse``), the others stay synonyms.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lamin_sa.ontology.entities import EntitySpec
from lamin_sa.ontology.parsers.base import Parser, read_head, read_text
from lamin_sa.ontology.table import OntologyTable, ParseIssue, make_table

NCBI_HEADER = "ncbi_gene_id\tsymbol\tensembl_gene_ids"
UNIPROT_HEADER = "uniprotkb_id\tentry_name"
TAXON_HEADER = "ontology_id\tscientific_name"


def _lines(path: Path) -> list[str]:
    text = read_text(path)
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    if lines and not lines[-1]:
        lines.pop()
    return lines


def _is_gencode(head: bytes) -> bool:
    first = head.split(b"\n", 1)[0]
    fields = first.split(b",")
    return len(fields) == 5 and fields[0].startswith(b"ENS") and fields[3].isdigit()


class GencodeParser(Parser):
    """GENCODE gene CSV, joined with an NCBI gene TSV when one is given too."""

    format = "gencode-csv"

    def can_parse(self, head: bytes, name: str) -> bool:
        return _is_gencode(head)

    def parse(
        self,
        paths: list[Path],
        spec: EntitySpec,
        *,
        source: str | None = None,
        organism: str | None = None,
    ) -> OntologyTable:
        gencode = [p for p in paths if _is_gencode(read_head(p, 512))]
        ncbi = [p for p in paths if p not in gencode]
        if len(gencode) != 1:
            from lamin_sa.errors import ValidationError

            raise ValidationError("pass exactly one GENCODE gene CSV.")
        return parse_genes(gencode[0], ncbi[0] if ncbi else None, spec)


def _ncbi_by_ensembl(
    path: Path, issues: list[ParseIssue]
) -> dict[str, list[tuple[str, str, str | None, list[str]]]]:
    """Ensembl id → [(ncbi id, symbol, description, aliases)] from an NCBI TSV."""
    lines = _lines(path)
    if not lines or not lines[0].startswith(NCBI_HEADER):
        from lamin_sa.errors import ValidationError

        raise ValidationError(f"{path.name} is not an NCBI gene table ({NCBI_HEADER}).")
    out: dict[str, list[tuple[str, str, str | None, list[str]]]] = {}
    for lineno, line in enumerate(lines[1:], 2):
        f = line.split("\t")
        if len(f) < 6:
            issues.append(
                ParseIssue(lineno, None, f"{path.name}: row with < 6 fields", "skipped")
            )
            continue
        if not f[2]:
            continue  # no Ensembl id: nothing to join on
        row = (f[0], f[1], f[4] or None, f[5].split("|") if f[5] else [])
        for ens in f[2].split("|"):
            out.setdefault(ens, []).append(row)
    return out


def parse_genes(gencode: Path, ncbi: Path | None, spec: EntitySpec) -> OntologyTable:
    """The Gene table of a GENCODE CSV, joined with an NCBI TSV if given."""
    issues: list[ParseIssue] = []
    by_ens = _ncbi_by_ensembl(ncbi, issues) if ncbi is not None else {}
    ids: list[str] = []
    symbols: list[str | None] = []
    descs: list[str | None] = []
    syns: list[str | None] = []
    ncbi_ids: list[str | None] = []
    biotypes: list[str | None] = []
    seen: set[str] = set()
    for lineno, line in enumerate(_lines(gencode), 1):
        f = line.split(",")
        if len(f) != 5:
            issues.append(
                ParseIssue(lineno, None, "GENCODE row without 5 fields", "skipped")
            )
            continue
        ens, symbol = f[0], f[1]
        if ens in seen:
            issues.append(ParseIssue(lineno, ens, "duplicate Ensembl id", "skipped"))
            continue
        seen.add(ens)
        if not symbol or symbol == ens:
            symbol = None  # unnamed genes carry their id as symbol
        matches = by_ens.get(ens)
        if matches:
            aliases: list[str] = []
            for _, ncbi_symbol, _, more in matches:
                if ncbi_symbol and ncbi_symbol != symbol:
                    aliases.append(ncbi_symbol)
                aliases.extend(more)
            if symbol is None:
                symbol = matches[0][1] or None
            aliases = [a for a in dict.fromkeys(aliases) if a and a != symbol]
            syns.append("|".join(aliases) if aliases else None)
            ncbi_ids.append("|".join(m[0] for m in matches))
            descs.append(matches[0][2])
        else:
            syns.append(None)
            ncbi_ids.append(None)
            descs.append(None)
        ids.append(ens)
        symbols.append(symbol)
        biotypes.append(f[4] or None)
    return make_table(
        spec,
        {
            "ensembl_gene_id": ids,
            "symbol": symbols,
            "description": descs,
            "synonyms": syns,
            "ncbi_gene_ids": ncbi_ids,
            "biotype": biotypes,
        },
        issues=issues,
        meta={
            "format": "gencode-csv",
            "ontology": None,
            "version": None,
            "n_filtered": 0,
        },
    )


class UniprotParser(Parser):
    """UniProt accession tables (``uniprotkb_id, entry_name, organism``)."""

    format = "uniprot-tsv"

    def can_parse(self, head: bytes, name: str) -> bool:
        return head.startswith(UNIPROT_HEADER.encode())

    def parse(
        self,
        paths: list[Path],
        spec: EntitySpec,
        *,
        source: str | None = None,
        organism: str | None = None,
    ) -> OntologyTable:
        issues: list[ParseIssue] = []
        cols: dict[str, list[Any]] = {"uniprotkb_id": [], "name": [], "organism": []}
        want = organism.lower() if organism and organism != "all" else None
        for lineno, line in enumerate(_lines(paths[0])[1:], 2):
            f = line.split("\t")
            if len(f) < 3:
                issues.append(
                    ParseIssue(lineno, None, "row with < 3 fields", "skipped")
                )
                continue
            if want is not None and f[2].lower() != want:
                continue
            cols["uniprotkb_id"].append(f[0])
            cols["name"].append(f[1])
            cols["organism"].append(f[2])
        return make_table(
            spec,
            cols,
            issues=issues,
            meta={"format": self.format, "ontology": None, "version": None},
        )


class TaxonParser(Parser):
    """NCBITaxon tables (``ontology_id, scientific_name, synonyms, parents, ...``)."""

    format = "ncbitaxon-tsv"

    def can_parse(self, head: bytes, name: str) -> bool:
        return head.startswith(TAXON_HEADER.encode())

    def parse(
        self,
        paths: list[Path],
        spec: EntitySpec,
        *,
        source: str | None = None,
        organism: str | None = None,
    ) -> OntologyTable:
        issues: list[ParseIssue] = []
        cols: dict[str, list[Any]] = {
            "ontology_id": [],
            "name": [],
            "synonyms": [],
            "parents": [],
            "scientific_name": [],
        }
        obs: dict[str, list[Any]] = {
            "ontology_id": [],
            "name": [],
            "replaced_by": [],
            "consider": [],
        }
        for lineno, line in enumerate(_lines(paths[0])[1:], 2):
            f = line.split("\t")
            if len(f) < 5:
                issues.append(
                    ParseIssue(lineno, None, "row with < 5 fields", "skipped")
                )
                continue
            common = [s for s in f[2].split("|") if s]
            name = min(common, key=len) if common else f[1]
            if f[4].strip().lower() == "true":
                obs["ontology_id"].append(f[0])
                obs["name"].append(name)
                obs["replaced_by"].append(None)
                obs["consider"].append(None)
                continue
            rest = [s for s in common if s != name]
            cols["ontology_id"].append(f[0])
            cols["name"].append(name)
            cols["synonyms"].append("|".join(rest) if rest else None)
            cols["parents"].append([p for p in f[3].split("|") if p])
            cols["scientific_name"].append(f[1])
        _unique_names(cols, issues)
        return make_table(
            spec,
            cols,
            obs,
            issues,
            {"format": self.format, "ontology": "ncbitaxon", "version": None},
        )


def _taxon_number(tid: str) -> int:
    local = tid.rpartition(":")[2]
    return int(local) if local.isdigit() else 1 << 62


def _unique_names(cols: dict[str, list[Any]], issues: list[ParseIssue]) -> None:
    """Make names unique: a shared common name stays with the lowest taxon id.

    The other taxa are named by their scientific name (the common name becomes
    a synonym), since organism names are unique in a registry.
    """
    owner: dict[str, int] = {}
    names = cols["name"]
    ids = cols["ontology_id"]
    for i in sorted(range(len(ids)), key=lambda i: _taxon_number(ids[i])):
        name = names[i]
        if name not in owner:
            owner[name] = i
            continue
        scientific = cols["scientific_name"][i]
        syns = cols["synonyms"][i]
        cols["synonyms"][i] = f"{name}|{syns}" if syns else name
        names[i] = scientific
        issues.append(
            ParseIssue(
                0,
                ids[i],
                f"common name {name!r} also names {ids[owner[name]]}; "
                f"named {scientific!r}",
                "kept",
            )
        )
