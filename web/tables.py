"""Declarative list pages: every list filters, sorts, paginates and exports (CSV, XLSX).

A view declares its model, columns and filters; the scope of the user is applied here, once,
so no list can forget it.
"""

import csv
import io
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views import View

from web.access import require_scope, scoped

PAGE_SIZE = 50
EXPORT_LIMIT = 100_000
# A spreadsheet runs a cell that starts with one of these as a formula; device strings are hostile.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Column:
    field: str  # ORM path with "__" (e.g. "site__region__name"): the sort key, and what is shown
    label: Any
    display: str | None = None  # another attribute path to show instead (e.g. "get_role_display")
    sortable: bool = True

    def value(self, obj):
        for part in (self.display or self.field).split("__"):
            obj = getattr(obj, part, None)
            if obj is None:
                return ""
        return obj() if callable(obj) else obj


@dataclass
class Filter:
    name: str  # the query-string key
    label: Any
    lookup: str  # ORM lookup the value is applied to
    choices: Any = None  # list of (value, label) or a callable(request) giving them


def safe_cell(value) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


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

    def filtered(self, request):
        queryset = scoped(self.base_queryset(), request.user)
        active = {}
        for flt in self.filters:
            value = request.GET.get(flt.name, "").strip()
            if value:
                queryset = queryset.filter(**{flt.lookup: value})
                active[flt.name] = value
        q = request.GET.get("q", "").strip()
        if q and self.search_fields:
            condition = Q()
            for field in self.search_fields:
                condition |= Q(**{f"{field}__icontains": q})
            queryset = queryset.filter(condition)
        sort = request.GET.get("sort", self.default_sort)
        sortable = {c.field for c in self.columns if c.sortable}
        if sort.lstrip("-") not in sortable:
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
                    "choices": f.choices(request) if callable(f.choices) else f.choices} for f in self.filters]
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
        rows = ([c.value(obj) for c in self.columns] for obj in queryset.iterator(chunk_size=2000))
        name = str(self.model._meta.verbose_name_plural).replace(" ", "-")
        return export_response([str(c.label) for c in self.columns], rows, kind, name)


def export_response(header: list[str], rows, kind: str, name: str) -> HttpResponse:
    """Rows as a CSV or XLSX download; cells that a spreadsheet would run as formulas are neutralised."""
    rows = ([safe_cell(v) for v in row] for row in rows)
    if kind == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(["" if v is None else str(v) for v in row] for row in rows)
        # A BOM so that Excel opens Chinese text correctly.
        response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(title=name[:31] or "export")
        sheet.append(header)
        for row in rows:
            sheet.append([v if isinstance(v, int | float) or v is None else str(v) for v in row])
        out = io.BytesIO()
        book.save(out)
        response = HttpResponse(out.getvalue(), content_type=(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    response["Content-Disposition"] = f'attachment; filename="onenet-{name}.{kind}"'
    return response


def yes_no_choices(request=None):
    return [("true", _("Yes")), ("false", _("No"))]
