"""The cooperation report as a PDF (fpdf2): the same heading, chart, tables and events as the
printable HTML report, in the reader's language. A Latin font and the CJK one as its
fallback are embedded (subsets) so that the Chinese interface prints with its dates and
names; the chart is the page's own SVG.
"""

from __future__ import annotations

import io
import re
from typing import Any

from liaison.pdf_fonts import cjk_font_path, latin_font_path
from liaison.services import cooperation
from liaison.web.i18n import N_, _, current_language, date_text, format_local
from liaison.web.ui import templates

FONT = "text"
CJK = "cjk"
# The steps' names as the tables head them (the HTML tables' too, through `step_name`).
STEP_NAMES = {
    "acknowledge": N_("time to acknowledge"),
    "answer": N_("time to answer"),
    "decide": N_("time to decide"),
    "return": N_("time to return"),
    "follow_up": N_("follow-ups"),
}
_SVG = re.compile(r"<svg class=\"cooperation-chart\".*?</svg>", re.DOTALL)
# Left out of the PDF's chart: the rate panel's translated label (fpdf2 writes an SVG's
# text in one font, without fallback; it is printed under the chart instead, the rest of
# the chart's text is digits), and the hover titles and description, which fpdf2 does not
# draw (it logs a warning for each).
_NOT_DRAWN = re.compile(
    r"<text class=\"panel-label\".*?</text>|<title\b.*?</title>|<desc\b.*?</desc>",
    re.DOTALL,
)


def step_name(step: str) -> str:
    return _(STEP_NAMES[step]) if step in STEP_NAMES else step


def _chart_svg(chart: dict[str, Any]) -> bytes:
    """The page's chart, its SVG element alone (the legend follows as text)."""
    html = templates.env.get_template("_cooperation_chart.html").render(chart=chart)
    found = _SVG.search(html)
    if found is None:  # the template is ours: a chart without its SVG is a bug
        raise RuntimeError("the cooperation chart template drew no SVG")
    # fpdf2 sizes an SVG from width/height (the view box's, in user units) and writes its
    # text in the font the SVG names: the embedded Latin one.
    svg = _NOT_DRAWN.sub("", found.group(0)).replace(
        'width="100%"', f'width="{chart["width"]}" font-family="{FONT}"', 1
    )
    return svg.encode("utf-8")


def report_pdf(context: dict[str, Any], node_name: str) -> bytes:
    """The report of `context` (the page's: result, chart, query) as PDF bytes."""
    from fpdf import FPDF  # imported when a report is asked for: a heavy import

    result: cooperation.Overview = context["result"]
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_lang(current_language())
    pdf.add_font(FONT, fname=str(latin_font_path()))
    pdf.add_font(CJK, fname=str(cjk_font_path()))
    pdf.set_fallback_fonts([CJK])
    pdf.set_title(_("Cooperation overview"))
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.set_font(FONT, size=18)
    pdf.multi_cell(0, 10, _("Cooperation overview"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    period = _(
        "Period: %(since)s to %(until)s. Prepared on node %(node)s from the shared records "
        "both nodes hold.",
        since=context["query"]["from"],
        until=context["query"]["to"],
        node=node_name,
    )
    pdf.multi_cell(0, 6, period, new_x="LMARGIN", new_y="NEXT")
    pdf.image(io.BytesIO(_chart_svg(context["chart"])), w=pdf.epw)
    for line in context["chart"]["lines"]:
        pdf.multi_cell(0, 5, f"— {_(line.label)}, {line.direction}", new_x="LMARGIN", new_y="NEXT")
    rate = _("Additional US duty on goods of %(origin)s", origin=context["chart"]["tariff_origin"])
    pdf.multi_cell(0, 5, f"— {rate}", new_x="LMARGIN", new_y="NEXT")

    _heading(pdf, _("Who is waiting on whom now"))
    if result.waiting:
        labels = {series.key: _(series.label) for series in result.series}
        _table(
            pdf,
            [
                _("Series"),
                _("Owed by (node)"),
                _("Agency"),
                _("Past deadline"),
                _("Oldest deadline"),
            ],
            [
                [
                    labels[wait.series],
                    wait.waiting_on,
                    wait.agency or "—",
                    str(wait.overdue),
                    format_local(wait.oldest_due),
                ]
                for wait in result.waiting
            ],
        )
    else:
        _paragraph(pdf, _("Nothing is past its deadline on either side."))

    for series in result.series:
        _heading(pdf, _(series.label))
        for peer, lacks in series.peers_missing:
            _paragraph(
                pdf,
                _(
                    "The peer %(peer)s does not handle these records (record types %(types)s): "
                    "there are no figures with it, not zero, unknown.",
                    peer=peer,
                    types=", ".join(lacks),
                ),
            )
        if not series.available:
            if series.missing:
                _paragraph(
                    pdf,
                    _(
                        "This node does not hold these records yet (record types %(types)s), "
                        "so there are no figures: not zero, unknown.",
                        types=", ".join(series.missing),
                    ),
                )
            continue
        if not series.rows:
            _paragraph(pdf, _("None in this period."))
            continue
        head = [_("Month"), _("From"), _("To"), _("Sent")]
        for step in series.steps:
            head += [f"{_('Done')} ({step_name(step)})", f"{_('Median hours')} ({step_name(step)})"]
        rows = []
        for row in series.rows:
            cells = [row.month, row.sender, row.receiver, str(row.count)]
            for step in series.steps:
                figure = row.steps[step]
                median = "–" if figure.median_hours is None else str(figure.median_hours)
                cells += [str(figure.done), median]
            rows.append(cells)
        _table(pdf, head, rows)

    _heading(pdf, _("Dated events on the chart"))
    for mark in context["chart"]["marks"]:
        text = f"{mark.number}. {date_text(mark.day)} — {mark.title} ({mark.citation})"
        if not mark.confirmed:
            text += f" [{_('unconfirmed')}]"
        _paragraph(pdf, text)
    return bytes(pdf.output())


def _heading(pdf: Any, text: str) -> None:
    pdf.ln(3)
    pdf.set_font(FONT, size=13)
    pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)


def _paragraph(pdf: Any, text: str) -> None:
    pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")


def _table(pdf: Any, head: list[str], rows: list[list[str]]) -> None:
    pdf.set_font(FONT, size=9)
    with pdf.table(first_row_as_headings=True, text_align="LEFT") as table:
        for cells in [head, *rows]:
            row = table.row()
            for cell in cells:
                row.cell(cell)
    pdf.set_font(FONT, size=10)
