"""The ``lamin-sa`` command line: each command calls one library function."""

from __future__ import annotations

import json
from typing import Any

import click

from lamin_sa.errors import LaminSAError


def _run(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except (LaminSAError, ValueError) as e:
        raise click.ClickException(str(e)) from e


@click.group()
@click.version_option(package_name="lamin-sa")
def main() -> None:
    """lamin-sa: data, code and biological meaning in one queryable place."""


@main.command()
@click.option("--storage", required=True, help="Local folder or s3://bucket/prefix.")
@click.option("--db", default=None, help="PostgreSQL URL; default: SQLite.")
@click.option("--modules", "--schema", "modules", default="", help="e.g. bionty,wetlab")
@click.option("--name", default=None, help="Instance name (default: folder name).")
def init(storage: str, db: str | None, modules: str, name: str | None) -> None:
    """Create an instance (or connect to it if it exists)."""
    from lamin_sa.instance import init as init_instance

    settings = _run(init_instance, storage=storage, db=db, modules=modules, name=name)
    click.echo(f"connected lamin-sa: {settings.name} (storage {settings.storage_root})")


@main.command()
@click.argument("target")
def connect(target: str) -> None:
    """Connect to an instance by name, storage folder or database URL."""
    from lamin_sa.instance import connect as connect_instance

    settings = _run(connect_instance, target)
    click.echo(f"connected lamin-sa: {settings.name}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(as_json: bool) -> None:
    """Show the user, the connected instance and its schema status."""
    from lamin_sa.instance import autoconnect
    from lamin_sa.instance import info as instance_info

    _run(autoconnect)
    data = _run(instance_info)
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
    """Disconnect and stop auto-connecting."""
    from lamin_sa.instance import close as close_instance

    _run(close_instance)
    click.echo("closed")


@main.command()
@click.argument("name")
@click.option("--force", is_flag=True, help="Do not ask for confirmation.")
def delete(name: str, force: bool) -> None:
    """Delete an instance's registration and SQLite database (data files kept)."""
    from lamin_sa.instance import delete as delete_instance

    if not force and not click.confirm(f"Delete instance {name!r}?", default=False):
        click.echo("aborted")
        return
    _run(delete_instance, name)
    click.echo(f"deleted instance {name}")


@main.command()
@click.argument("handle")
@click.option("--name", default=None, help="Your full name.")
def login(handle: str, name: str | None) -> None:
    """Set the local user identity."""
    from lamin_sa.instance import login as login_user

    user = _run(login_user, handle, name=name)
    click.echo(f"logged in as {user.handle}")


@main.group()
def migrate() -> None:
    """Schema migrations of the connected instance."""


@migrate.command("upgrade")
def migrate_upgrade() -> None:
    """Upgrade every mounted module to the installed code's schema."""
    from lamin_sa.api import upgrade_instance

    for module, state in _run(upgrade_instance).items():
        click.echo(f"{module}: {state}")


@migrate.command("status")
def migrate_status() -> None:
    """Show each module's current revision against the code's head."""
    from lamin_sa.api import instance_schema_status

    for module, state in _run(instance_schema_status).items():
        click.echo(f"{module}: {state}")


@migrate.command("history")
@click.option("--module", default=None, help="Only this module's revisions.")
def migrate_history(module: str | None) -> None:
    """List the migration revisions shipped with lamin-sa."""
    from lamin_sa.migrate import history

    for entry in _run(history, module):
        click.echo(str(entry))


# ---- artifacts (lamin_sa.artifact.commands) -------------------------------------


@main.command("save")
@click.argument("path")
@click.option("--key", default=None, help="Key of the artifact, e.g. data/x.csv.")
@click.option("--description", default=None, help="Description of the artifact.")
def save_artifact(path: str, key: str | None, description: str | None) -> None:
    """Save a file or folder (local or s3://) as an artifact."""
    from lamin_sa.artifact.commands import save_path

    artifact = _run(save_path, path, key=key, description=description)
    click.echo(f"saved artifact {artifact.uid} ({artifact.path})")


@main.command("get")
@click.argument("uid_or_key")
def get_artifact(uid_or_key: str) -> None:
    """Print the local (cached) path of an artifact."""
    from lamin_sa.artifact.commands import get_path

    click.echo(str(_run(get_path, uid_or_key)))


@main.command("ls")
@click.option("--key-prefix", default=None, help="Only keys starting with this.")
def ls_artifacts(key_prefix: str | None) -> None:
    """List artifacts (latest versions)."""
    from lamin_sa.artifact.commands import list_artifacts

    for row in _run(list_artifacts, key_prefix):
        label = row["key"] or row["description"] or ""
        version = f" v{row['version']}" if row["version"] else ""
        click.echo(f"{row['uid']}  {label}{version}  {row['size'] or 0} bytes")


@main.group("cache")
def cache_group() -> None:
    """The local cache of remote objects."""


@cache_group.command("clear")
def cache_clear() -> None:
    """Delete everything in the cache directory."""
    from lamin_sa.artifact.commands import clear_cache

    click.echo(f"removed {_run(clear_cache)} cached files")


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
    """Draw the lineage of an artifact, collection, run or transform."""
    from lamin_sa.lineage.graph import lineage_file

    click.echo(f"wrote {_run(lineage_file, uid, output)}")


# ---- public ontologies (lamin_sa.ontology) ----------------------------------------


@main.group("ontology")
def ontology_group() -> None:
    """Public ontologies: sources, parsing, import into the bionty registries."""


@ontology_group.command("sources")
@click.option("--entity", default=None, help="Only this entity, e.g. CellType.")
def ontology_sources(entity: str | None) -> None:
    """List each entity's sources and where each is available offline."""
    from lamin_sa.ontology.sources import sources_frame

    frame = _run(sources_frame)
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
    """Parse a source (no database): counts and what was skipped, with lines."""
    from lamin_sa.ontology.load import load_source

    table, found = _run(
        load_source,
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


if __name__ == "__main__":
    main()
