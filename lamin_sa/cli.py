"""The ``lamin-sa`` command line: each command calls one library function.

Every error is printed as one line (``Error: ...``) with exit status 1; the
traceback only with ``lamin-sa --verbose COMMAND``.
"""

from __future__ import annotations

import json
import re
import traceback
from typing import Any

import click

from lamin_sa.config import redact
from lamin_sa.errors import LaminSAError


def _one_line(error: BaseException, command: click.Command | None = None) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = lines[0] if lines else ""
    if not isinstance(error, LaminSAError | ValueError):
        # not a message written for users: say what kind of failure it was
        text = f"{type(error).__name__}: {text}" if text else type(error).__name__
        text += " (run `lamin-sa --verbose ...` for the traceback)"
    return redact(cli_terms(text, command))


_CONNECT_CALL = re.compile(r"`?ln\.connect\(\s*'?\"?([^'\"(),]*)'?\"?\s*\)`?")
_KEYWORD = re.compile(r"\b([a-z][a-z_]*)=(True\b|\.\.\.|(?=[\s.,;:)`]|$))")


def cli_terms(text: str, command: click.Command | None) -> str:
    """A library message in command-line terms, for errors of ``command``.

    ``pass another name=`` becomes ``pass another --name``, ``force=True``
    ``--force`` and ``ln.connect('x')`` ``lamin-sa connect x``, for the
    options the command has; anything else is left as written.

    Example:
        >>> cli_terms("pass another name=.", init)
        'pass another --name.'
    """
    text = _CONNECT_CALL.sub(
        lambda m: f"`lamin-sa connect {m[1].strip() or 'NAME'}`", text
    )
    if command is None:
        return text
    flags = {
        p.name: max(p.opts, key=len)
        for p in command.params
        if isinstance(p, click.Option) and p.name
    }

    def flag(m: re.Match[str]) -> str:
        return flags.get(m[1], m[0]) if m[1] in flags else m[0]

    return _KEYWORD.sub(flag, text)


def _invoked(
    group: click.Group, ctx: click.Context, args: list[str]
) -> click.Command | None:
    """The (sub)command a command line names, e.g. ``migrate upgrade``."""
    cmd: click.Command | None = group
    while isinstance(cmd, click.Group) and args:
        name = next((a for a in args if not a.startswith("-")), None)
        if name is None:
            break
        args = args[args.index(name) + 1 :]
        cmd = cmd.get_command(ctx, name)
    return None if cmd is group else cmd


class _Group(click.Group):
    """The root group: turns any error of a command into one line."""

    def invoke(self, ctx: click.Context) -> Any:
        # click empties the context's arguments while it invokes the command
        args = [*ctx.protected_args, *ctx.args]
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort, click.ClickException):
            raise
        except Exception as e:
            if ctx.params.get("verbose"):
                traceback.print_exc()
            try:
                command = _invoked(self, ctx, args)
            except Exception:  # naming flags must never hide the error itself
                command = None
            raise click.ClickException(_one_line(e, command)) from e


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lamin-sa")
@click.option("-v", "--verbose", is_flag=True, help="Log progress and show tracebacks.")
def main(verbose: bool) -> None:
    """lamin-sa: data, code and biological meaning in one queryable place.

    Example: lamin-sa init --storage ./mydata && lamin-sa save data.csv
    """
    from lamin_sa.config import switches

    # commands print their own results; library messages only with --verbose
    switches.verbosity = "info" if verbose else "warning"


@main.command()
@click.option("--storage", required=True, help="Local folder or s3://bucket/prefix.")
@click.option("--db", default=None, help="PostgreSQL URL; default: SQLite.")
@click.option("--modules", "--schema", "modules", default="", help="e.g. bionty,wetlab")
@click.option("--name", default=None, help="Instance name (default: folder name).")
def init(storage: str, db: str | None, modules: str, name: str | None) -> None:
    """Create an instance (or connect to it if it exists).

    Example: lamin-sa init --storage ./mydata --modules bionty
    """
    if not storage.strip():
        raise click.BadParameter(
            "give a local folder or s3://bucket/prefix", param_hint="--storage"
        )
    from lamin_sa.instance import init as init_instance

    settings = init_instance(storage=storage, db=db, modules=modules, name=name)
    click.echo(f"connected lamin-sa: {settings.name} (storage {settings.storage_root})")


@main.command()
@click.argument("target")
def connect(target: str) -> None:
    """Connect to an instance by name, storage folder or database URL.

    Also available as `lamin-sa load`.

    Example: lamin-sa connect mydata
    """
    from lamin_sa.instance import connect as connect_instance

    settings = connect_instance(target)
    click.echo(f"connected lamin-sa: {settings.name}")


main.add_command(connect, "load")  # LaminDB's `lamin load`


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(as_json: bool) -> None:
    """Show the user, the connected instance and its schema status.

    Example: lamin-sa info --json
    """
    from lamin_sa.instance import autoconnect
    from lamin_sa.instance import info as instance_info

    autoconnect()
    data = instance_info()
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"user: {data['user']}")
    inst = data["instance"]
    if inst is None:
        click.echo("instance: none connected")
    else:
        for key in ("name", "uid", "db", "storage", "modules"):
            click.echo(f"{key}: {inst[key]}")
        for module, state in inst["schema"].items():
            click.echo(f"schema {module}: {state}")
    click.echo(f"known instances: {', '.join(data['known_instances']) or 'none'}")


@main.command()
def close() -> None:
    """Disconnect and stop auto-connecting.

    Example: lamin-sa close
    """
    from lamin_sa.instance import close as close_instance

    close_instance()
    click.echo("closed")


@main.command()
@click.argument("name")
@click.option("--force", is_flag=True, help="Do not ask for confirmation.")
def delete(name: str, force: bool) -> None:
    """Delete an instance's registration and SQLite database (data files kept).

    Example: lamin-sa delete mydata --force
    """
    from lamin_sa.instance import delete as delete_instance

    if not force and not click.confirm(f"Delete instance {name!r}?", default=False):
        click.echo("aborted")
        return
    delete_instance(name)
    click.echo(f"deleted instance {name}")


@main.command()
@click.argument("handle")
@click.option("--name", default=None, help="Your full name.")
def login(handle: str, name: str | None) -> None:
    """Set the local user identity.

    Example: lamin-sa login jdoe --name "Jane Doe"
    """
    from lamin_sa.instance import login as login_user

    user = login_user(handle, name=name)
    click.echo(f"logged in as {user.handle}")


@main.group()
def migrate() -> None:
    """Schema migrations of the connected instance.

    Example: lamin-sa migrate status
    """


@migrate.command("upgrade")
@click.option(
    "--module", "modules", multiple=True, help="Also mount this module, e.g. bionty."
)
def migrate_upgrade(modules: tuple[str, ...]) -> None:
    """Upgrade every mounted module to the installed code's schema.

    Example: lamin-sa migrate upgrade --module bionty
    """
    from lamin_sa.api import upgrade_instance

    for module, state in upgrade_instance(list(modules)).items():
        click.echo(f"{module}: {state}")


@migrate.command("status")
def migrate_status() -> None:
    """Show each module's current revision against the code's head.

    Example: lamin-sa migrate status
    """
    from lamin_sa.api import instance_schema_status

    for module, state in instance_schema_status().items():
        click.echo(f"{module}: {state}")


@migrate.command("downgrade")
@click.argument("module")
@click.option(
    "--to",
    default="-1",
    show_default=True,
    help='"base" (drop the module\'s tables), a step such as "-1", or a revision.',
)
@click.option("--force", is_flag=True, help="Do not ask before going to base.")
def migrate_downgrade(module: str, to: str, force: bool) -> None:
    """Downgrade one module of the connected instance's schema.

    Example: lamin-sa migrate downgrade bionty --to base
    """
    from lamin_sa.api import downgrade_instance

    if to == "base" and not force:
        question = f"Drop every table of module {module!r}?"
        if not click.confirm(question, default=False):
            click.echo("aborted")
            return
    for name, state in downgrade_instance(module, to).items():
        click.echo(f"{name}: {state}")


@migrate.command("revision")
@click.option("--module", required=True, help="The module whose models changed.")
@click.option("-m", "--message", required=True, help="What the revision changes.")
def migrate_revision(module: str, message: str) -> None:
    """Autogenerate a migration script for a module (developers).

    Example: lamin-sa migrate revision --module core -m "add column"
    """
    from lamin_sa.migrate import revision

    path = revision(module, message)
    if path is None:
        click.echo(f"no changes in {module}'s models; no revision written")
    else:
        click.echo(f"wrote {path}")


@migrate.command("history")
@click.option("--module", default=None, help="Only this module's revisions.")
def migrate_history(module: str | None) -> None:
    """List the migration revisions shipped with lamin-sa.

    Example: lamin-sa migrate history --module core
    """
    from lamin_sa.migrate import history

    for entry in history(module):
        click.echo(str(entry))


# ---- artifacts (lamin_sa.artifact.commands) -------------------------------------


@main.command("save")
@click.argument("path")
@click.option("--key", default=None, help="Key of the artifact, e.g. data/x.csv.")
@click.option("--description", default=None, help="Description of the artifact.")
def save_artifact(path: str, key: str | None, description: str | None) -> None:
    """Save a file or folder as an artifact, or a tracked script's source.

    A .py or .ipynb file that ran with ln.track() gets its source (and, for a
    notebook, its HTML report) saved to its transform, as ln.finish() does;
    pass --key or --description to save such a file as an artifact instead.

    Example: lamin-sa save data.csv --description "raw counts"
    """
    from lamin_sa.artifact.commands import save_path
    from lamin_sa.artifact.prepare import no_run_warning_suppressed

    if path.endswith((".py", ".ipynb")) and key is None and description is None:
        from lamin_sa.errors import TransformNotFound
        from lamin_sa.lineage.track import save_source

        try:
            transform = save_source(path)
        except TransformNotFound as e:
            raise TransformNotFound(
                f"{e} To save the file as an artifact instead, pass --description."
            ) from e
        click.echo(f"saved source of transform {transform.uid} ({transform.key})")
        return
    with no_run_warning_suppressed():  # a CLI save has no run to track
        artifact = save_path(path, key=key, description=description)
    click.echo(f"saved artifact {artifact.uid} ({artifact.path})")


@main.command("describe")
@click.argument("uid")
@click.option("--json", "as_json", is_flag=True, help="Print the fields as JSON.")
def describe_cmd(uid: str, as_json: bool) -> None:
    """Describe an artifact, collection, transform or run by uid.

    Example: lamin-sa describe m45sfXfMutX9IZ2JQoRk --json
    """
    from lamin_sa.lineage.graph import find_by_uid

    record = find_by_uid(uid)
    if as_json:
        from sqlalchemy import inspect as sa_inspect

        columns = sa_inspect(type(record)).column_attrs
        fields = {"registry": type(record).__name__}
        fields.update({c.key: getattr(record, c.key) for c in columns})
        click.echo(json.dumps(fields, indent=2, default=str))
        return
    click.echo(record.describe(return_str=True))


@main.command("repair")
@click.option(
    "--force",
    is_flag=True,
    help="Also finish saves of processes that may still be running.",
)
def repair(force: bool) -> None:
    """Finish or undo interrupted artifact saves; remove stale temporary objects.

    Example: lamin-sa repair
    """
    from lamin_sa.artifact.journal import repair as repair_saves

    click.echo(str(repair_saves(force=force)))


@main.command("get")
@click.argument("uid_or_key")
def get_artifact(uid_or_key: str) -> None:
    """Print the local (cached) path of an artifact by key, uid or stem uid.

    Example: lamin-sa get data/counts.csv
    """
    from lamin_sa.artifact.commands import get_path

    click.echo(str(get_path(uid_or_key)))


@main.command("ls")
@click.option("--key-prefix", default=None, help="Only keys starting with this.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def ls_artifacts(key_prefix: str | None, as_json: bool) -> None:
    """List artifacts (latest versions).

    Example: lamin-sa ls --key-prefix raw/ --json
    """
    from lamin_sa.artifact.commands import list_artifacts

    rows = list_artifacts(key_prefix)
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    for row in rows:
        label = row["key"] or row["description"] or ""
        version = f" v{row['version']}" if row["version"] else ""
        click.echo(f"{row['uid']}  {label}{version}  {row['size'] or 0} bytes")


@main.group("cache")
def cache_group() -> None:
    """The local cache of remote objects.

    Example: lamin-sa cache clear
    """


@cache_group.command("clear")
def cache_clear() -> None:
    """Empty the cache folder (only a folder lamin-sa made).

    Example: lamin-sa cache clear
    """
    from lamin_sa.artifact.commands import clear_cache

    click.echo(f"removed {clear_cache()} cached files")


# ---- lineage (lamin_sa.lineage.graph) -------------------------------------------


@main.command("lineage")
@click.argument("uid")
@click.option(
    "-o",
    "--output",
    default="lineage.svg",
    show_default=True,
    help="Picture to write: .svg, .png, .pdf (needs graphviz) or .dot.",
)
def lineage(uid: str, output: str) -> None:
    """Draw the lineage of an artifact, collection, run or transform.

    Example: lamin-sa lineage m45sfXfMutX9IZ2JQoRk -o lineage.png
    """
    from lamin_sa.lineage.graph import lineage_file

    click.echo(f"wrote {lineage_file(uid, output)}")


# ---- public ontologies (lamin_sa.ontology) ----------------------------------------


@main.group("ontology")
def ontology_group() -> None:
    """Public ontologies: sources, parsing, import into the bionty registries.

    Example: lamin-sa ontology sources --entity CellType
    """


@ontology_group.command("sources")
@click.option("--entity", default=None, help="Only this entity, e.g. CellType.")
def ontology_sources(entity: str | None) -> None:
    """List each entity's sources and where each is available offline.

    Example: lamin-sa ontology sources --entity CellType
    """
    from lamin_sa.ontology.sources import sources_frame

    frame = sources_frame()
    if entity:
        frame = frame[frame.entity.str.lower() == entity.lower()]
    frame = frame.assign(default=frame["default"].map({True: "*", False: ""}))
    click.echo(frame.to_string(index=False))


@ontology_group.command("parse")
@click.argument("entity")
@click.option("--source", default=None, help="Source key, e.g. cl, hp, mondo.")
@click.option("--version", "version", default=None, help="Release version.")
@click.option("--organism", default=None, help="For per-organism sources.")
@click.option("--file", "file", default=None, help="Read this file or URL.")
@click.option("--issues", "show_issues", is_flag=True, help="List every issue.")
def ontology_parse(
    entity: str,
    source: str | None,
    version: str | None,
    organism: str | None,
    file: str | None,
    show_issues: bool,
) -> None:
    """Parse a source (no database): counts and what was skipped, with lines.

    Example: lamin-sa ontology parse celltype --source cl --issues
    """
    from lamin_sa.ontology.load import load_source

    table, found = load_source(
        entity,
        source=source,
        version=version,
        organism=organism,
        file=file,
    )
    click.echo(
        f"{table.entity.name} {found.name} {found.version} ({found.origin}: "
        f"{', '.join(p.name for p in found.paths)}): {len(table.terms)} terms, "
        f"{len(table.obsolete)} obsolete, {len(table.issues)} issues"
    )
    for issue in table.issues if show_issues else table.issues[:20]:
        click.echo(f"  {issue}")
    if not show_issues and len(table.issues) > 20:
        click.echo(f"  ... {len(table.issues) - 20} more (--issues lists all)")


@ontology_group.command("import")
@click.argument("entity")
@click.option("--source", default=None, help="Source key, e.g. cl, hp, mondo.")
@click.option("--version", "version", default=None, help="Release version.")
@click.option("--organism", default=None, help="For Gene and Protein.")
@click.option("--file", "file", default=None, help="Read this file or URL.")
def ontology_import(
    entity: str,
    source: str | None,
    version: str | None,
    organism: str | None,
    file: str | None,
) -> None:
    """Import a whole source into the bionty registry of ENTITY (e.g. celltype).

    Example: lamin-sa ontology import celltype --source cl
    """

    def run() -> object:
        from lamin_sa.ontology.entities import entity_spec

        try:
            from lamin_sa import bionty as bt

            registry = getattr(bt, entity_spec(entity).name)
        except (ImportError, AttributeError) as exc:
            raise LaminSAError(
                f"no bionty registry for {entity!r}; install and mount bionty."
            ) from exc
        return registry.import_source(
            source=source, version=version, organism=organism, file=file
        )

    result = run()
    if result.skipped:
        click.echo(f"{entity}: this release is imported already; nothing changed")
    else:
        click.echo(
            f"{entity}: {result.inserted} new, {result.updated} updated, "
            f"{result.obsoleted} obsolete, {result.links_added} parent links added "
            f"({result.seconds:.2f} s)"
        )


# ---- other instances (lamin_sa.exchange) ----------------------------------------


@main.command("import-lamindb")
@click.argument("path")
def import_lamindb_cmd(path: str) -> None:
    """Import a LaminDB 0.72 SQLite instance (PATH/.lamindb/lamin.db) in place.

    Uids, hashes and storage keys are kept, so artifacts open where they are;
    importing the same instance again adds nothing.

    Example:
        lamin-sa import-lamindb ~/old-instance/.lamindb/lamin.db
    """
    from lamin_sa.exchange import import_lamindb

    report = import_lamindb(path)
    click.echo(
        f"imported {report.inserted.get('core_artifact', 0)} artifacts, "
        f"{report.total_inserted} records in all"
    )


@main.command("grant")
@click.argument("user")
@click.option("--read", "access", flag_value="read", default=True, help="Queries only.")
@click.option("--write", "access", flag_value="write", help="Queries and saves.")
def grant_cmd(user: str, access: str) -> None:
    """Give a PostgreSQL role read or write access to the connected instance.

    Example:
        lamin-sa grant alice --write
    """
    from lamin_sa.roles import grant

    grant(user, access)  # type: ignore[arg-type]
    click.echo(f"granted {access} access to {user}")


@main.command("revoke")
@click.argument("user")
def revoke_cmd(user: str) -> None:
    """Take a PostgreSQL role's access to the connected instance away.

    Example:
        lamin-sa revoke alice
    """
    from lamin_sa.roles import revoke

    revoke(user)
    click.echo(f"revoked the access of {user}")


if __name__ == "__main__":
    main()
