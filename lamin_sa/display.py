"""Showing things to a person: printed in a terminal, rendered in Jupyter.

Display calls (``describe()``, ``ln.view()``, lineage pictures) use :func:`show`;
reprs use :func:`html_table` / :func:`fields_html` for ``_repr_html_``. Nothing
here imports IPython unless a Jupyter kernel is running.
"""

from __future__ import annotations

import html
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

_CELL_CHARS = 80
_TABLE_STYLE = "border-collapse: collapse; font-size: 0.9em; text-align: left;"
_CELL_STYLE = "padding: 2px 8px; border-bottom: 1px solid #ddd; text-align: left;"


def ipython_kernel() -> Any | None:
    """The IPython shell if this process is a Jupyter kernel, else None.

    Example:
        >>> ipython_kernel() is None  # in a script
        True
    """
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    try:
        shell = ipython.get_ipython()
    except Exception:  # pragma: no cover - broken IPython installs
        return None
    if shell is None or type(shell).__name__ not in ("ZMQInteractiveShell", "Shell"):
        return None
    return shell


def in_jupyter() -> bool:
    """True inside a Jupyter kernel (notebooks, nbclient, papermill).

    Example:
        >>> in_jupyter()
        False
    """
    return ipython_kernel() is not None


def show(text: str, html_text: str | None = None) -> None:
    """Print ``text``; in Jupyter display it (as HTML too when given).

    Args:
        text: The plain-text rendering (what a terminal shows).
        html_text: An HTML rendering for notebooks.

    Example:
        >>> show("Provenance: ...")
        Provenance: ...
    """
    if in_jupyter():
        from IPython.display import display

        data = {"text/plain": text}
        if html_text is not None:
            data["text/html"] = html_text
        display(data, raw=True)
    else:
        print(text)


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    if len(text) > _CELL_CHARS:
        text = text[: _CELL_CHARS - 1] + "…"
    return html.escape(text)


def html_table(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    caption: str | None = None,
    footer: str | None = None,
) -> str:
    """A compact HTML table (values escaped and shortened).

    Args:
        columns: Column headers.
        rows: One sequence of values per row.
        caption: A title above the table.
        footer: A line below the table (e.g. "… 90 more rows").

    Example:
        >>> html_table(["name"], [["DMSO"]]).startswith("<div")
        True
    """
    out = ["<div>"]
    if caption:
        out.append(f"<div><b>{html.escape(caption)}</b></div>")
    out.append(f'<table style="{_TABLE_STYLE}">')
    head = "".join(f'<th style="{_CELL_STYLE}">{_cell(c)}</th>' for c in columns)
    out.append(f"<thead><tr>{head}</tr></thead><tbody>")
    for row in rows:
        cells = "".join(f'<td style="{_CELL_STYLE}">{_cell(v)}</td>' for v in row)
        out.append(f"<tr>{cells}</tr>")
    out.append("</tbody></table>")
    if footer:
        out.append(f"<div><i>{html.escape(footer)}</i></div>")
    out.append("</div>")
    return "".join(out)


def fields_html(title: str, fields: Mapping[str, Any]) -> str:
    """A record as a two-column field/value table.

    Example:
        >>> "<b>ULabel</b>" in fields_html("ULabel", {"name": "DMSO"})
        True
    """
    return html_table(["field", "value"], fields.items(), caption=title)


def text_block_html(text: str) -> str:
    """Preformatted text (a describe() block) as HTML.

    Example:
        >>> text_block_html("a < b")
        '<pre style="line-height: 1.3;">a &lt; b</pre>'
    """
    return f'<pre style="line-height: 1.3;">{html.escape(text)}</pre>'


def describe_html(text: str) -> str:
    """A ``describe()`` text as HTML: block titles bold, entries kept as lines.

    Example:
        >>> describe_html("Provenance:")
        '<pre style="line-height: 1.3; white-space: pre-wrap;"><b>Provenance:</b></pre>'
    """
    lines = []
    for line in text.splitlines():
        escaped = html.escape(line, quote=False)
        if line and not line.startswith(" ") and line.endswith(":"):
            escaped = f"<b>{escaped}</b>"
        lines.append(escaped)
    body = "\n".join(lines)
    return f'<pre style="line-height: 1.3; white-space: pre-wrap;">{body}</pre>'
