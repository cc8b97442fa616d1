"""The monthly availability report managers export: per device and per county, the share of polls answered in a
chosen month (collectors.services.availability). Mounted by the root URLconf under /availability/."""

from datetime import timedelta

from django.db.models import CharField, FloatField, Q, Sum, Value
from django.db.models.functions import Cast, NullIf
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from collectors.services.availability import county_of, month_bounds, share
from inventory.choices import RegionLevel
from inventory.models import Device, Region
from inventory.views import AVAILABILITY_BELOW, COUNTY_FILTER
from web.access import require_scope, scoped
from web.tables import Column, Filter, Percent, ShareColumn, TableView, export_response, query_value
from web.templatetags.onenet import percent


def recent_months(count: int = 2) -> list[tuple[str, str]]:
    """The month filter's choices: this month and the previous one ("YYYY-MM"), the months whose buckets are kept
    whole (collectors.services.availability.prune_availability)."""
    start, _end, label = month_bounds()
    months = [label]
    for _i in range(count - 1):
        start = (start - timedelta(days=1)).replace(day=1)
        months.append(f"{start:%Y-%m}")
    return [(m, m) for m in months]


class MonthlyReport(TableView):
    """Devices polled in the month (`?month=YYYY-MM`, this month by default), with their polls, answers and share;
    the counties' roll-up above (`?per=county&export=csv` exports it)."""

    model = Device
    title = _("Monthly availability")
    template_name = "collectors/availability.html"
    select_related = ["site__region", "site__agency"]
    columns = [Column("name", _("Device")), Column("site__name", _("Site")), Column("site__region__name", _("Region")),
               Column("site__agency__name", _("Agency")), Column("polls", _("Polls")),
               Column("answered", _("Answered")), ShareColumn("share", _("Availability"))]
    filters = [Filter("month", _("Month"), "report_month", lambda request: recent_months()), COUNTY_FILTER,
               Filter("below", _("Availability"), "share__lt", AVAILABILITY_BELOW)]
    search_fields = ["name", "site__name", "site__agency__name"]
    default_sort = "share"

    def month(self):
        """The chosen month, or this month for one the report does not offer."""
        chosen = query_value(self.request, "month")
        return month_bounds(chosen if chosen in dict(recent_months()) else None)

    def base_queryset(self):
        start, end, label = self.month()
        when = Q(availability__hour__gte=start, availability__hour__lt=end)
        return super().base_queryset().annotate(
            polls=Sum("availability__polls", filter=when), answered=Sum("availability__answered", filter=when)
        ).filter(polls__gt=0).annotate(share=Cast("answered", FloatField()) / NullIf(Cast("polls", FloatField()), 0.0),
                                       report_month=Value(label, output_field=CharField()))

    def get(self, request, *args, **kwargs):
        require_scope(request.user)
        if request.GET.get("per") == "county" and request.GET.get("export") in ("csv", "xlsx"):
            rows = [[r["name"], r["devices"], r["polls"], r["answered"], r["percent"]] for r in self.counties()]
            return export_response([str(_("County/district")), str(_("Devices")), str(_("Polls")),
                                    str(_("Answered")), str(_("Availability"))], rows, request.GET["export"],
                                   f"availability-counties-{self.month()[2]}")
        return super().get(request, *args, **kwargs)

    def counties(self) -> list[dict]:
        """The month per county of the user's scope, and the city level's own (市直单位), from the same rows."""
        names = dict(scoped(Region.objects.filter(level=RegionLevel.COUNTY), self.request.user).values_list(
            "slug", "name"))
        sums: dict[str, dict] = {}
        for path, polls, answered in scoped(self.base_queryset(), self.request.user).order_by().values_list(
                "site__region__path", "polls", "answered"):
            row = sums.setdefault(county_of(path), {"devices": 0, "polls": 0, "answered": 0})
            row["devices"] += 1
            row["polls"] += polls
            row["answered"] += answered or 0
        rows = []
        for key in [*names, "city"]:
            if key in sums:
                figures = sums[key]
                ratio = share(figures["answered"], figures["polls"])
                rows.append({"key": key, "name": names.get(key) or _("City-level agencies and sites"), **figures,
                             "percent": None if ratio is None else Percent(ratio),
                             "shown": None if ratio is None else percent(ratio)})
        return rows

    def export_name(self) -> str:
        return f"availability-{self.month()[2]}"

    def extra_context(self, request):
        start, _end, label = self.month()
        return {"month": label, "counties": self.counties(), "report_url": reverse("availability:report")}


