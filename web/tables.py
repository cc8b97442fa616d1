"""Declarative list pages: every list filters, sorts, paginates and exports (CSV, XLSX).

A view declares its model, columns and filters; the scope of the user is applied here, once,
so no list can forget it.
"""

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import View

from web.access import require_scope, scoped
from web.templatetags.onenet import percent
from web.templatetags.units import speed

PAGE_SIZE = 50
EXPORT_LIMIT = 100_000
# A spreadsheet runs a cell that starts with one of these as a formula; device strings are hostile.
FORMULA_PREFIXES = ("=", "+", "-", "@")  # (a leading tab or CR is escaped first, as a control character)
# C0 and C1 control characters, DEL and unpaired surrogates: they break XLSX (XML cannot hold them), UTF-8
# encoding (surrogates) and terminals (ESC and CSI sequences), and they come from devices.
UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
MAX_QUERY_VALUE = 200  # longer than any name, slug or search the pages offer


@dataclass
class Column:
    field: str  # ORM path with "__" (e.g. "site__region__name"): the sort key, and what is shown
    label: Any
    display: str | None = None  # another attribute path to show instead (e.g. "get_role_display")
    sortable: bool = True
    export_label: Any = None  # the exports' header, when it differs from the page's (e.g. names the raw unit)

    def value(self, obj):
        """What the page shows."""
        for part in (self.display or self.field).split("__"):
            obj = getattr(obj, part, None)
            if obj is None:
                return ""
        return obj() if callable(obj) else obj

    def export_value(self, obj):
        """What exports write: what the page shows, unless the column formats a number for the page."""
        return self.value(obj)


class ShareColumn(Column):
    """A share (0..1): the page shows 99.5%, exports write the number with a percent format (Percent)."""

    def value(self, obj):
        share = super().value(obj)
        return "" if share == "" else percent(share)

    def export_value(self, obj):
        share = super().value(obj)
        return "" if share == "" else Percent(share)


class SpeedColumn(Column):
    """A speed or capacity in bit/s: the page shows it formatted (1 Gbit/s), exports write the raw number (under
    `export_label`, which names the unit)."""

    def value(self, obj):
        raw = super().value(obj)
        return "" if raw == "" else speed(raw)

    def export_value(self, obj):
        return super().value(obj)


class Particulars(str):
    """Machine-written particulars (a finding's reason quoting config lines, in English like the commands' JSON):
    pages show them as code beside the translated labels; exports write the plain text."""

    is_particulars = True


class ParticularsColumn(Column):
    def value(self, obj):
        return Particulars(super().value(obj))


@dataclass
class Filter:
    name: str  # the query-string key
    label: Any
    lookup: str  # ORM lookup the value is applied to
    choices: Any = None  # list of (value, label) or a callable(request) giving them


def escape_controls(text: str, keep: str = "") -> str:
    """`text` with every unprintable character (but those in `keep`) shown visibly as \\x1b or \\ud800."""
    def visible(match):
        char = match.group()
        if char in keep:
            return char
        return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"

    return UNPRINTABLE.sub(visible, text)


class Percent(float):
    """A share (0..1) that exports write as a number: with a percent format in XLSX (0.8734 shows 87.3%), as the
    plain fraction in CSV."""


def safe_cell(value) -> Any:
    """A cell any spreadsheet opens as plain text: controls escaped visibly, formulas neutralised. Numbers, dates
    and times stay what they are (exports write them as such)."""
    if value is None or isinstance(value, int | float | Decimal | date):
        return value
    text = escape_controls(str(value))
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def query_value(request, name: str) -> str:
    """A query-string value, or "" for one no page offers: a NUL (which PostgreSQL refuses) or an overlong one."""
    value = request.GET.get(name, "").strip()
    return "" if "\x00" in value or len(value) > MAX_QUERY_VALUE else value


class TableView(View):
    model = None
    title = ""
    columns: list[Column] = []
    filters: list[Filter] = []
    search_fields: list[str] = []
    default_sort = "pk"
    select_related: list[str] = []
    row_url = None  # callable(obj) -> url for the first column
    template_name = "web/table.html"
    tabs_template = None  # sub-navigation shown above the list (e.g. the inventory's tabs)
    empty_message = _("Nothing matches.")

    def base_queryset(self):
        return self.model.objects.select_related(*self.select_related)

    def filter_choices(self, request) -> dict:
        """Each filter's (value, label) choices, or None for a free filter; computed once per request."""
        if not hasattr(self, "_filter_choices"):
            self._filter_choices = {f.name: f.choices(request) if callable(f.choices) else f.choices
                                    for f in self.filters}
        return self._filter_choices

    def filtered(self, request):
        """The list as the query string asks; a value the list does not offer is ignored, never a 500."""
        queryset = scoped(self.base_queryset(), request.user)
        active = {}
        for flt in self.filters:
            value = query_value(request, flt.name)
            choices = self.filter_choices(request)[flt.name]
            if not value or (choices is not None and value not in {str(v) for v, _label in choices}):
                continue
            try:
                queryset = queryset.filter(**{flt.lookup: value})
            except (ValueError, TypeError, ValidationError):  # a free filter given what its field cannot hold
                continue
            active[flt.name] = value
        q = query_value(request, "q")
        if q and self.search_fields:
            condition = Q()
            for field in self.search_fields:
                condition |= Q(**{f"{field}__icontains": q})
            queryset = queryset.filter(condition)
        sort = query_value(request, "sort") or self.default_sort
        sortable = {c.field for c in self.columns if c.sortable}
        if sort.removeprefix("-") not in sortable:  # also "--name" and "-": the default order
            sort = self.default_sort
        return queryset.order_by(sort, "pk"), active, q, sort

    def get(self, request, *args, **kwargs):
        require_scope(request.user)
        queryset, active, q, sort = self.filtered(request)
        export = request.GET.get("export")
        if export in ("csv", "xlsx"):
            return self.export(queryset[:EXPORT_LIMIT], export)
        page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
        rows = [{"url": self.row_url(obj) if self.row_url else None,
                 "cells": [c.value(obj) for c in self.columns]} for obj in page.object_list]
        filters = [{"name": f.name, "label": f.label, "value": active.get(f.name, ""),
                    "choices": self.filter_choices(request)[f.name]} for f in self.filters]
        query = request.GET.copy()
        query.pop("page", None)
        return render(request, self.template_name, {
            "title": self.title, "columns": self.columns, "rows": rows, "page": page, "filters": filters,
            "q": q, "sort": sort, "searchable": bool(self.search_fields), "query": query.urlencode(),
            "total": page.paginator.count, "tabs_template": self.tabs_template, "empty_message": self.empty_message,
            **self.extra_context(request)})

    def extra_context(self, request) -> dict:
        return {}

    def export(self, queryset, kind: str) -> HttpResponse:
        rows = ([c.export_value(obj) for c in self.columns] for obj in queryset.iterator(chunk_size=2000))
        return export_response([str(c.export_label or c.label) for c in self.columns], rows, kind, self.export_name())

    def export_name(self) -> str:
        return str(self.model._meta.verbose_name_plural).replace(" ", "-")


def local_naive(value: datetime) -> datetime:
    """A time as the configured zone's wall clock, without a zone (a spreadsheet cell holds none)."""
    return (timezone.localtime(value) if timezone.is_aware(value) else value).replace(tzinfo=None)


def csv_text(value) -> str:
    """A CSV field: times in ISO 8601 in the configured zone with its offset, dates in ISO, numbers as numbers."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (timezone.localtime(value) if timezone.is_aware(value) else value).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(float(value)) if isinstance(value, Percent) else str(value)


XLSX_FORMATS = {datetime: "yyyy-mm-dd hh:mm:ss", date: "yyyy-mm-dd", Percent: "0.0%"}


def xlsx_cell(sheet, value):
    """An XLSX cell: a date cell in the configured zone's time for a time, a percent-formatted number for a Percent,
    the number for a number, text for the rest."""
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, datetime):
        value, number_format = local_naive(value), XLSX_FORMATS[datetime]
    elif isinstance(value, date | Percent):
        number_format = XLSX_FORMATS[date if isinstance(value, date) else Percent]
    else:
        return value if isinstance(value, int | float) or value is None else str(value)
    cell = WriteOnlyCell(sheet, value=float(value) if isinstance(value, Percent) else value)
    cell.number_format = number_format
    return cell


def attachment(response: HttpResponse, filename: str) -> HttpResponse:
    """Make `response` a download named `filename`, whatever its script (RFC 6266): `filename*` carries the name in
    UTF-8 (RFC 5987), `filename` an ASCII stand-in for old clients; a non-ASCII value alone reaches browsers
    MIME-encoded, and they save it as download.csv. The one way the console names a download."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in filename)
    encoded = quote(filename, safe="")
    response["Content-Disposition"] = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
    return response


def export_response(header: list[str], rows, kind: str, name: str) -> HttpResponse:
    """Rows as a CSV or XLSX download; every cell goes through safe_cell, here, once. Times are written in the
    configured zone (CSV: ISO 8601 with the offset; XLSX: date cells), numbers and Percent shares as numbers."""
    header = [safe_cell(h) for h in header]
    rows = ([safe_cell(v) for v in row] for row in rows)
    if kind == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows([csv_text(v) for v in row] for row in rows)
        # A BOM so that Excel opens Chinese text correctly.
        response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(title=name[:31] or "export")
        sheet.append(header)
        for row in rows:
            sheet.append([xlsx_cell(sheet, v) for v in row])
        out = io.BytesIO()
        book.save(out)
        response = HttpResponse(out.getvalue(), content_type=(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    return attachment(response, f"onenet-{name}.{kind}")


def yes_no_choices(request=None):
    return [("1", _("Yes")), ("0", _("No"))]  # values a BooleanField lookup accepts ("true" is not one)
