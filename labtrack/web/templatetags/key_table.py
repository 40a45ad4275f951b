"""The key-results table's cells, rendered in Python: a 50-measurement batch has ~6,500
cells, and the template language spent ~35 ms on them (a tag, an `if` and a `url` per
cell); one string per row keeps the page within its time budget."""
from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from labtrack.analyses.batch_page import KeyCell, KeyRow

register = template.Library()

_EMPTY_CELL = '<td class="num"><span class="muted" aria-label="not measured">—</span></td>'
_PENDING_MARK = '<span class="kt-mark" aria-hidden="true">*</span><span class="visually-hidden"> (not yet reviewed)</span>'


def _run_url_parts(render_context) -> tuple[str, str]:
    """The run page's URL around its id, reversed once per page (the script prefix can
    differ between requests, so not cached longer)."""
    parts = render_context.get("key_table_run_url")
    if parts is None:
        prefix, _, suffix = reverse("run_detail", args=[0]).rpartition("0")
        parts = render_context["key_table_run_url"] = (prefix, suffix)
    return parts


def _cell_html(cell: KeyCell, url_parts: tuple[str, str]) -> str:
    classes = "num" + ("" if cell.accepted else " kt-pending") + (" kt-long" if cell.long else "")
    title = f"run #{cell.run_pk}" + (f" · {cell.measurement_label}" if cell.measurement_label else "") + (
        " · result of record" if cell.accepted else " · not yet reviewed")
    href = f"{url_parts[0]}{cell.run_pk}{url_parts[1]}"
    return (f'<td class="{classes}"><a href="{escape(href)}" title="{escape(title)}">{escape(cell.text)}</a>'
            f'{"" if cell.accepted else _PENDING_MARK}</td>')


@register.simple_tag(takes_context=True)
def key_row_cells(context, row: KeyRow) -> SafeString:
    """The <td>s of one key-table row: each value linked to its run, pending values
    marked, unmeasured ones a dash."""
    url_parts = _run_url_parts(context.render_context)
    return mark_safe("".join(_EMPTY_CELL if cell is None else _cell_html(cell, url_parts)  # each part escaped above
                             for cell in row.cells))
