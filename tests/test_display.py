"""lamin_sa.display: printed outside Jupyter, escaped HTML for notebooks."""

from __future__ import annotations

from lamin_sa import display


def test_show_prints_outside_jupyter(capsys) -> None:
    assert display.in_jupyter() is False
    assert display.show("Provenance:\n  📎 run", "<b>x</b>") is None
    assert capsys.readouterr().out == "Provenance:\n  📎 run\n"


def test_html_table_escapes_and_shortens() -> None:
    out = display.html_table(
        ["name", "description"],
        [["<script>", "x" * 200]],
        caption="ULabel",
        footer="… 3 more rows",
    )
    assert "&lt;script&gt;" in out and "<script>" not in out
    assert "x" * 79 + "…" in out and "x" * 80 not in out
    assert "<b>ULabel</b>" in out and "… 3 more rows" in out
    assert display.fields_html("ULabel", {"name": "DMSO"}).count("<tr>") == 2
