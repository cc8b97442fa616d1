"""The console's own pages: Overview and Coverage. Views declare; the services decide."""

from django.contrib.auth.decorators import login_not_required
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from inventory.choices import DeviceStatus, Platform
from inventory.models import Device, Region
from inventory.services import coverage_report
from web.access import require_scope, scope_path, scoped
from web.tables import query_value


def _scope_root(request) -> Region | None:
    path = scope_path(request.user)
    return Region.objects.filter(path=path).first()


def overview(request):
    require_scope(request.user)
    report = coverage_report(scope_path(request.user))
    # order_by() first: the model's default ordering would join the GROUP BY (scoped() makes the query DISTINCT)
    # and split the counts, one row per device.
    devices = scoped(Device.objects.all(), request.user).order_by()
    statuses = dict(DeviceStatus.choices)
    by_status = [{"status": status, "label": statuses.get(status, status), "n": n}
                 for status, n in devices.values_list("status").annotate(n=Count("pk")).order_by("status")]
    platforms = dict(Platform.choices)
    by_platform = [dict(row, label=platforms.get(row["platform"], row["platform"]))
                   for row in devices.values("platform").annotate(n=Count("pk")).order_by("-n", "platform")]
    return render(request, "web/overview.html", {
        "report": report, "device_total": sum(row["n"] for row in by_status), "by_status": by_status,
        "by_platform": by_platform, "scope": _scope_root(request)})


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
