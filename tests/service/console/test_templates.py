"""How the pages show values they have no special place for (a rule's statistics, new record
fields): mappings as facts, lists of mappings as tables, escaped like everything else."""

from __future__ import annotations

import jinja2

STATISTICS = {
    "method": "msprt",
    "alpha": 0.05,
    "srm_p_value": 0.412345678,
    "srm": False,
    "variations": [
        {"id": "1", "name": "A", "is_baseline": True, "visitors": 1000, "p_value": None},
        {
            "id": "2",
            "name": "<b>B</b>",
            "is_baseline": False,
            "visitors": 1012,
            "p_value": 0.0123456,
        },
    ],
}


def show(value: object) -> str:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("expbridge.service.console", "templates"), autoescape=True
    )
    template = environment.from_string('{% from "_value.html" import show %}{{ show(value) }}')
    return template.render(value=value)


def test_statistics_render_as_facts_and_a_table_of_variations() -> None:
    html = show(STATISTICS)
    assert "<dt>srm p value</dt><dd>0.4123</dd>" in html
    assert '<table class="nested">' in html and "<th>is baseline</th>" in html
    assert "<td>1012</td>" in html and "<td>0.01235</td>" in html and "<td>—</td>" in html
    assert "&lt;b&gt;B&lt;/b&gt;" in html and "<b>B</b>" not in html


def test_scalars_and_lists() -> None:
    assert show("4bf92f3577b34da6a3ce929d0e0e4736") == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert show(["a", "b"]) == "a, b"
    assert show(None) == "—"
