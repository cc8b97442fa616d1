"""The console's own pages: Overview and Coverage. Views declare; the services decide."""

from datetime import datetime

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from inventory.models import Region
from inventory.services import coverage_report
from web.access import require_scope, scope_path, scoped
from web.overview import card as overview_card
from web.overview import overview as overview_figures
from web.tables import Percent, export_response, query_value
from web.templatetags.onenet import percent


def _scope_root(request) -> Region | None:
    path = scope_path(request.user)
    return Region.objects.filter(path=path).first()


def overview(request):
    """Is the network OK today? Cards that drill down, and the county table that adds up to them (web.overview)."""
    require_scope(request.user)
    return render(request, "web/overview.html", {**overview_figures(request.user), "scope": _scope_root(request)})


def overview_items(request):
    """A card's drill-down: exactly the items it counts (`?card=KEY`), optionally of one row of the county table
    (`?county=SLUG`, or "city" for the city level's own); exports as every list."""
    require_scope(request.user)
    key = query_value(request, "card") or "silent"
    card = overview_card(request.user, key)
    if card is None or card.items is None:
        raise Http404("OVERVIEW_NO_SUCH_CARD")
    county = query_value(request, "county")
    rows = [r for r in card.items() if not county or r["county"] == county]
    export = request.GET.get("export")
    if export in ("csv", "xlsx"):
        return export_response([str(c) for c in card.columns], (r["cells"] for r in rows), export, f"overview-{key}")
    query = request.GET.copy()
    query.pop("export", None)
    shown = [{**r, "shown": [_shown(v) for v in r["cells"]]} for r in rows]
    return render(request, "web/overview_items.html", {"card": card, "rows": shown, "county": county,
                                                       "query": query.urlencode()})


def _shown(value):
    """A drill-down cell on the page: a share as a percentage, a time in the configured zone."""
    if isinstance(value, Percent):
        return percent(value)
    if isinstance(value, datetime):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M:%S}"
    return value


def coverage(request):
    """The region tree with roll-ups; `?region=SLUG` drills down into a subtree of the user's scope."""
    require_scope(request.user)
    scope = scope_path(request.user)
    root = scope
    slug = query_value(request, "region")
    if slug:
        root = get_object_or_404(scoped(Region.objects.all(), request.user), slug=slug).path
    report = coverage_report(root)
    depth = root.count("/")
    # Show the root and two levels below it; deeper levels are a click away.
    rows = [dict(r, depth=r["path"].count("/") - depth) for r in report["regions"]
            if r["path"].count("/") - depth <= 2]
    root_region = Region.objects.filter(path=root).first()
    return render(request, "web/coverage.html", {
        "report": report, "rows": rows, "root": root_region,
        "breadcrumbs": [r for r in root_region.ancestors() if r.path.startswith(scope)] if root_region else []})


@login_not_required
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


@login_not_required
def metrics(request):
    """Prometheus exposition. With ONENET_METRICS_TOKEN set (required in production), scrapes need
    `Authorization: Bearer TOKEN`; without it (the embedded default) only loopback clients are answered."""
    import ipaddress
    import secrets

    from django.conf import settings
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    from web.metrics import registry

    token = settings.ONENET_METRICS_TOKEN
    if token:
        if not secrets.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}"):
            return HttpResponse("METRICS_UNAUTHORISED: send Authorization: Bearer <ONENET_METRICS_TOKEN>\n",
                                status=401, content_type="text/plain")
    elif not ipaddress.ip_address(request.META.get("REMOTE_ADDR") or "0.0.0.0").is_loopback:
        return HttpResponse("METRICS_LOOPBACK_ONLY: set ONENET_METRICS_TOKEN to scrape /metrics from another "
                            "host\n", status=403, content_type="text/plain")
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
