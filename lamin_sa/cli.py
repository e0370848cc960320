"""The ``lamin-sa`` command line: each command calls one library function.

Every error is printed as one line (``Error: ...``) with exit status 1; the
traceback only with ``lamin-sa --verbose COMMAND``.
"""

from __future__ import annotations

import json
import traceback
from typing import Any

import click

from lamin_sa.config import redact
from lamin_sa.errors import LaminSAError


def _one_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = lines[0] if lines else ""
    if not isinstance(error, LaminSAError | ValueError):
        # not a message written for users: say what kind of failure it was
        text = f"{type(error).__name__}: {text}" if text else type(error).__name__
        text += " (run `lamin-sa --verbose ...` for the traceback)"
    return redact(text)


class _Group(click.Group):
    """The root group: turns any error of a command into one line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort, click.ClickException):
            raise
        except Exception as e:
            if ctx.params.get("verbose"):
                traceback.print_exc()
            raise click.ClickException(_one_line(e)) from e


@click.group(cls=_Group)
@click.version_option(package_name="lamin-sa")
@click.option("-v", "--verbose", is_flag=True, help="Log progress and show tracebacks.")
def main(verbose: bool) -> None:
    """lamin-sa: data, code and biological meaning in one queryable place.

    Example: lamin-sa init --storage ./mydata && lamin-sa save data.csv
    """
    if verbose:
        from lamin_sa.config import switches

        switches.verbosity = "info"


@main.command()
@click.option("--storage", required=True, help="Local folder or s3://bucket/prefix.")
@click.option("--db", default=None, help="PostgreSQL URL; default: SQLite.")
@click.option("--modules", "--schema", "modules", default="", help="e.g. bionty,wetlab")
@click.option("--name", default=None, help="Instance name (default: folder name).")
def init(storage: str, db: str | None, modules: str, name: str | None) -> None:
    """Create an instance (or connect to it if it exists)."""
    from lamin_sa.instance import init as init_instance

    settings = init_instance(storage=storage, db=db, modules=modules, name=name)
    click.echo(f"connected lamin-sa: {settings.name} (storage {settings.storage_root})")


@main.command()
@click.argument("target")
def connect(target: str) -> None:
    """Connect to an instance by name, storage folder or database URL."""
    from lamin_sa.instance import connect as connect_instance

    settings = connect_instance(target)
    click.echo(f"connected lamin-sa: {settings.name}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(as_json: bool) -> None:
    """Show the user, the connected instance and its schema status."""
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
    """Disconnect and stop auto-connecting."""
    from lamin_sa.instance import close as close_instance

    close_instance()
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
    delete_instance(name)
    click.echo(f"deleted instance {name}")


@main.command()
@click.argument("handle")
@click.option("--name", default=None, help="Your full name.")
def login(handle: str, name: str | None) -> None:
    """Set the local user identity."""
    from lamin_sa.instance import login as login_user

    user = login_user(handle, name=name)
    click.echo(f"logged in as {user.handle}")


@main.group()
def migrate() -> None:
    """Schema migrations of the connected instance."""


@migrate.command("upgrade")
def migrate_upgrade() -> None:
    """Upgrade every mounted module to the installed code's schema."""
    from lamin_sa.api import upgrade_instance

    for module, state in upgrade_instance().items():
        click.echo(f"{module}: {state}")


@migrate.command("status")
def migrate_status() -> None:
    """Show each module's current revision against the code's head."""
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
    """List the migration revisions shipped with lamin-sa."""
    from lamin_sa.migrate import history

    for entry in history(module):
        click.echo(str(entry))


# ---- artifacts (lamin_sa.artifact.commands) -------------------------------------


@main.command("save")
@click.argument("path")
@click.option("--key", default=None, help="Key of the artifact, e.g. data/x.csv.")
@click.option("--description", default=None, help="Description of the artifact.")
def save_artifact(path: str, key: str | None, description: str | None) -> None:
    """Save a file or folder (local or s3://) as an artifact."""
    from lamin_sa.artifact.commands import save_path

    artifact = save_path(path, key=key, description=description)
    click.echo(f"saved artifact {artifact.uid} ({artifact.path})")


@main.command("get")
@click.argument("uid_or_key")
def get_artifact(uid_or_key: str) -> None:
    """Print the local (cached) path of an artifact."""
    from lamin_sa.artifact.commands import get_path

    click.echo(str(get_path(uid_or_key)))


@main.command("ls")
@click.option("--key-prefix", default=None, help="Only keys starting with this.")
def ls_artifacts(key_prefix: str | None) -> None:
    """List artifacts (latest versions)."""
    from lamin_sa.artifact.commands import list_artifacts

    for row in list_artifacts(key_prefix):
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
    """Draw the lineage of an artifact, collection, run or transform."""
    from lamin_sa.lineage.graph import lineage_file

    click.echo(f"wrote {lineage_file(uid, output)}")


if __name__ == "__main__":
    main()
