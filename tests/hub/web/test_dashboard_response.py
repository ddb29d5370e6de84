"""The response beside every rate of the dashboard, written in Python
(:func:`hub.web.dashboard.response_cell`, one call per table row: a provincial centre's page has
~400) is the very HTML the template's Jinja macro wrote before: no receipt, none issued, few
receipts, low response, a response of 0 and of 100 %, abandoned ones, rates rounding at .5."""

from __future__ import annotations

import pytest
from jinja2 import Environment

from hub.domain.coverage import Coverage, Tally, coverage_of
from hub.web.dashboard import response_cell

# The macro as dashboard.html had it (until the centre's dashboard was made faster, issue 17).
MACRO = (
    '{% macro response(c) %}{% if c is none %}<span class="small" title="không cấp biên nhận '
    'trong kỳ / issued no receipt in the period">—</span>{% else %}<span title="{{ c.issued }} '
    "biên nhận / receipts: {{ c.rated }} đã đánh giá / rated, {{ c.abandoned }} bỏ dở / "
    'abandoned, {{ c.not_reached }} chưa đánh giá / not reached">{{ c.rated }}/{{ c.issued }}'
    '{% if c.rate is not none %} · {{ "%.0f"|format(c.rate) }} %{% endif %}</span>'
    '{% if c.label[0] %} <small class="{% if c.low %}error-text low-response{% else %}'
    'few-receipts{% endif %}">{% if c.low %}⚠ {% endif %}{{ c.label[0] }} / {{ c.label[1] }}'
    "</small>{% endif %}{% endif %}{% endmacro %}{{ response(c) }}"
)

TALLIES = [
    Tally(),
    Tally(1, 0, 0),
    Tally(4, 4, 0),
    Tally(19, 3, 2),
    Tally(20, 3, 17),
    Tally(200, 199, 1),
    Tally(8, 1, 0),  # 12.5 %
    Tally(15189, 11005, 0),
    Tally(1000, 5, 995),
]


@pytest.mark.parametrize("counted", TALLIES, ids=lambda t: f"{t.issued}-{t.rated}-{t.abandoned}")
def test_the_cell_is_the_macro_s_html(counted: Tally) -> None:
    template = Environment(autoescape=True).from_string(MACRO)
    line: Coverage = coverage_of("Q1", "Quầy <1>", counted)
    assert str(response_cell(line)) == template.render(c=line)


def test_no_line_is_the_macro_s_dash() -> None:
    template = Environment(autoescape=True).from_string(MACRO)
    assert str(response_cell(None)) == template.render(c=None)
