"""Inventory pages: lists declare their columns and filters; details show one object in scope."""

import ipaddress

from django.db.models import BooleanField, Case, F, Value, When
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from inventory.choices import DeviceRole, DeviceStatus, LinkTier, Platform, RegionLevel
from inventory.models import Agency, Device, Interface, Link, Prefix, Region, Site
from inventory.services.coverage import ANSWERED, answering_since, availability_share
from web.access import require_scope, scoped
from web.registry import render_device_panels
from web.tables import Column, Filter, ShareColumn, SpeedColumn, TableView, yes_no_choices


def county_choices(request):
    return list(scoped(Region.objects.filter(level=RegionLevel.COUNTY), request.user).values_list("path", "name"))


class InventoryTable(TableView):
    tabs_template = "inventory/tabs.html"


COUNTY_FILTER = Filter("county", _("County/district"), "site__region__path__startswith", county_choices)


AVAILABILITY_BELOW = [("0.99", _("below 99 %")), ("0.95", _("below 95 %")), ("0.9", _("below 90 %"))]


class DeviceList(InventoryTable):
    model = Device
    title = _("Devices")
    select_related = ["site__region", "site__agency"]
    columns = [Column("name", _("Name")), Column("address", _("Management address")),
               Column("platform", _("Platform"), "get_platform_display"),
               Column("role", _("Role"), "get_role_display"), Column("model", _("Model")),
               Column("site__name", _("Site")), Column("site__region__name", _("Region")),
               Column("site__agency__name", _("Agency")), Column("status", _("Status"), "get_status_display"),
               Column("last_answer", _("Last SNMP answer")), Column("answering", _("Answering SNMP now")),
               ShareColumn("availability_24h", _("Availability, 24 h"))]
    filters = [COUNTY_FILTER, Filter("platform", _("Platform"), "platform", Platform.choices),
               Filter("role", _("Role"), "role", DeviceRole.choices),
               Filter("status", _("Status"), "status", DeviceStatus.choices),
               Filter("answering", _("Answering SNMP now"), "answering", yes_no_choices),
               Filter("availability", _("Availability, 24 h"), "availability_24h__lt", AVAILABILITY_BELOW)]
    search_fields = ["name", "address", "model", "site__name", "site__agency__name"]
    default_sort = "name"

    def base_queryset(self):
        """Installed is the status; answering now is an SNMP answer within the last couple of poll intervals;
        availability is the share of the last 24 hours' polls answered."""
        return super().base_queryset().annotate(
            last_answer=F(ANSWERED),
            answering=Case(When(**{f"{ANSWERED}__gte": answering_since()}, then=Value(True)), default=Value(False),
                           output_field=BooleanField()),
            availability_24h=availability_share())

    @staticmethod
    def row_url(obj):
        return reverse("inventory:device", args=[obj.pk])


class SiteList(InventoryTable):
    model = Site
    title = _("Sites")
    select_related = ["region", "agency"]
    columns = [Column("name", _("Name")), Column("slug", _("Slug")), Column("region__name", _("Region")),
               Column("region__level", _("Level"), "region__get_level_display"),
               Column("agency__name", _("Agency")), Column("expected", _("Expected on the extranet"))]
    filters = [Filter("county", _("County/district"), "region__path__startswith", county_choices),
               Filter("level", _("Level"), "region__level", RegionLevel.choices),
               Filter("expected", _("Expected on the extranet"), "expected", yes_no_choices)]
    search_fields = ["name", "slug", "agency__name", "region__name"]
    default_sort = "region__path"

    @staticmethod
    def row_url(obj):
        return reverse("inventory:site", args=[obj.pk])


class AgencyList(InventoryTable):
    model = Agency
    title = _("Agencies")
    select_related = ["region"]
    columns = [Column("name", _("Name")), Column("slug", _("Slug")), Column("region__name", _("Region"))]
    filters = [Filter("county", _("County/district"), "region__path__startswith", county_choices)]
    search_fields = ["name", "slug"]
    default_sort = "name"


class PrefixList(InventoryTable):
    model = Prefix
    title = _("IP prefixes")
    select_related = ["agency", "site", "region"]
    columns = [Column("prefix", _("Prefix"), sortable=False), Column("agency__name", _("Agency")),
               Column("site__name", _("Site")), Column("region__name", _("Region")),
               Column("description", _("Description"))]
    filters = [Filter("county", _("County/district"), "region__path__startswith", county_choices)]
    search_fields = ["prefix", "description", "agency__name", "site__name"]
    default_sort = "first"
    template_name = "inventory/prefix_list.html"

    def extra_context(self, request):
        """The longest-prefix look-up of an address: which agency and site own it."""
        address = request.GET.get("lookup", "").strip()
        if not address:
            return {}
        try:
            ipaddress.ip_address(address)
        except ValueError:
            return {"lookup": address, "lookup_error": _("%(value)s is not an IP address.") % {"value": address}}
        match = scoped(Prefix.objects.all(), request.user).longest_match(address)
        return {"lookup": address, "lookup_match": match}


class LinkList(InventoryTable):
    model = Link
    title = _("Links")
    select_related = ["a_interface__device", "b_interface__device"]
    columns = [Column("a_interface__device__name", _("A device")), Column("a_interface__name", _("A interface")),
               Column("b_interface__device__name", _("B device")), Column("b_interface__name", _("B interface")),
               SpeedColumn("capacity_bps", _("Capacity"), export_label=_("Capacity (bit/s)")),
               Column("tier", _("Tier"), "get_tier_display")]
    filters = [Filter("tier", _("Tier"), "tier", LinkTier.choices),
               Filter("county", _("County/district"), "b_interface__device__site__region__path__startswith",
                      county_choices)]
    search_fields = ["a_interface__device__name", "b_interface__device__name"]
    default_sort = "tier"

    @staticmethod
    def row_url(obj):
        """Each link leads to its bandwidth chart."""
        return reverse("bandwidth:link", args=[obj.pk])


def device_detail(request, pk):
    """The device page: the inventory's facts, then the panels the apps registered (web.registry), in order."""
    require_scope(request.user)
    device = get_object_or_404(scoped(Device.objects.select_related("site__region", "site__agency"), request.user),
                               pk=pk)
    links = Link.objects.filter(a_interface__device=device) | Link.objects.filter(b_interface__device=device)
    # Querysets: evaluated only when no panel shows the interfaces or links in the page's place.
    return render(request, "inventory/device_detail.html", {
        "device": device, "regions": device.site.region.ancestors(),
        "panels": render_device_panels(request, device),
        "interfaces": Interface.objects.filter(device=device).order_by("if_index", "name"),
        "links": links.select_related("a_interface__device", "b_interface__device")})


def site_detail(request, pk):
    require_scope(request.user)
    site = get_object_or_404(scoped(Site.objects.select_related("region", "agency"), request.user), pk=pk)
    return render(request, "inventory/site_detail.html", {
        "site": site, "devices": site.devices.order_by("name"), "prefixes": site.prefixes.all(),
        "regions": site.region.ancestors()})
