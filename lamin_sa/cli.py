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
    from lamin_sa.instance import autoconnect

    _run(autoconnect)
    report = _run(import_lamindb, path)
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
    from lamin_sa.instance import autoconnect
    from lamin_sa.roles import grant

    _run(autoconnect)
    _run(grant, user, access)
    click.echo(f"granted {access} access to {user}")


@main.command("revoke")
@click.argument("user")
def revoke_cmd(user: str) -> None:
    """Take a PostgreSQL role's access to the connected instance away.

    Example:
        lamin-sa revoke alice
    """
    from lamin_sa.instance import autoconnect
    from lamin_sa.roles import revoke

    _run(autoconnect)
    _run(revoke, user)
    click.echo(f"revoked the access of {user}")


if __name__ == "__main__":
    main()
