"""Importing lamin-sa changes nothing process-wide: warning filters, the root
logger and a host's logging stay as they were (each check in a fresh process)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_import_and_help_keep_warning_filters_and_print_no_warnings():
    out = _run(
        """
        import contextlib, io, logging, warnings
        filters = list(warnings.filters)
        import lamin_sa as ln
        import lamin_sa.models.core, lamin_sa.api, lamin_sa.cli, lamin_sa.migrate
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            help(ln.Artifact)
            help(ln.Run)
            help(ln.FeatureSet)
        assert "class Artifact" in buf.getvalue()
        assert warnings.filters == filters, "lamin-sa changed the warning filters"
        # a host's own warnings still show
        warnings.warn("the host's own warning", UserWarning)
        """,
        "-W",
        "always",
    )
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stderr.splitlines() if "Warning" in line]
    assert len(lines) == 1 and "the host's own warning" in lines[0], out.stderr


def test_logging_reaches_the_hosts_handlers_once():
    out = _run(
        """
        import logging
        import lamin_sa as ln
        import lamin_sa.models.core
        root = logging.getLogger()
        assert root.handlers == [] and logging.getLogger("lamin_sa").propagate
        logging.basicConfig(format="HOST %(name)s %(message)s")
        logging.getLogger("lamin_sa.artifact.create").warning("from lamin-sa")
        """
    )
    assert out.returncode == 0, out.stderr
    assert out.stderr.splitlines() == ["HOST lamin_sa.artifact.create from lamin-sa"]


def test_interactive_use_prints_one_short_line():
    # the default verbosity shows what LaminDB's introduction shows: errors,
    # warnings, ✅ steps and 💡 messages; hints and debug only when asked for
    out = _run(
        """
        import logging
        import lamin_sa as ln
        from lamin_sa.config import HINT, SUCCESS
        import lamin_sa.instance  # any module that logs brings the handler
        log = logging.getLogger("lamin_sa.instance")
        log.warning("look here")
        log.log(SUCCESS, "stored")
        log.info("saved: Transform(...)")
        log.log(HINT, "not by default")
        log.debug("not by default")
        ln.settings.verbosity = "hint"
        log.log(HINT, "a hint now")
        log.debug("still not")
        ln.settings.verbosity = "success"
        log.info("hidden at success")
        log.log(SUCCESS, "shown at success")
        ln.settings.verbosity = "debug"
        log.debug("a debug line")
        ln.settings.verbosity = "error"
        log.warning("hidden at error")
        log.error("broken")
        """
    )
    assert out.returncode == 0, out.stderr
    assert out.stderr.splitlines() == [
        "❗ look here",
        "✅ stored",
        "💡 saved: Transform(...)",
        "💡 a hint now",
        "✅ shown at success",
        "🐛 a debug line",
        "❌ broken",
    ]


def test_every_module_logs_under_its_own_name():
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parent.parent / "lamin_sa"
    bad = []
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", None) == "getLogger"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and path.name != "config.py"
            ):
                bad.append(f"{path}:{node.lineno}")
    assert not bad, "use logging.getLogger(__name__):\n" + "\n".join(bad)
