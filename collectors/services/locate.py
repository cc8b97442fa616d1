""""Where is this IP / MAC / hostname?": the switch and port, the ARP entry, the LLDP neighbour, the device.

Answers come from the tables the backups collected (ArpEntry, MacEntry, LldpNeighbor) and the inventory, only
within the devices the caller may see (`devices`: an already scoped queryset). A MAC may be typed in any common
notation and is looked up in every notation a device prints it in (the tables keep the device's own), so the
look-up uses the column's index.
"""

from __future__ import annotations

import ipaddress
import re

from collectors.models import ArpEntry, LldpNeighbor, MacEntry

MAX_QUERY = 100  # characters of a query; longer input is cut
MAX_ROWS = 50  # rows per table of an answer
CONTROLS = re.compile(r"[\x00-\x1f\x7f]")

MAC_FORMS = re.compile(r"^(?:[0-9a-f]{2}([:-])(?:[0-9a-f]{2}\1){4}[0-9a-f]{2}"  # aa:bb:cc:dd:ee:ff, aa-bb-…
                       r"|[0-9a-f]{4}([.-])[0-9a-f]{4}\2[0-9a-f]{4}"  # aabb.ccdd.eeff, aabb-ccdd-eeff
                       r"|[0-9a-f]{12})$", re.IGNORECASE)


def mac_digits(text: str) -> str | None:
    """The 12 lower-case hex digits of a MAC in a common notation, or None when `text` is no MAC."""
    text = text.strip()
    if not MAC_FORMS.match(text):
        return None
    return re.sub(r"[^0-9a-fA-F]", "", text).lower()


def mac_notations(digits: str) -> list[str]:
    """Every notation a device may print the MAC in (the colon, hyphen and dotted forms, both cases)."""
    pairs = [digits[i:i + 2] for i in range(0, 12, 2)]
    quads = [digits[i:i + 4] for i in range(0, 12, 4)]
    forms = {":".join(pairs), "-".join(pairs), ".".join(quads), "-".join(quads), digits}
    return sorted(forms | {f.upper() for f in forms})


def canonical_mac(text: str) -> str:
    """aa:bb:cc:dd:ee:ff for display; text that is no MAC is returned as it is."""
    digits = re.sub(r"[^0-9a-fA-F]", "", text).lower()
    return ":".join(digits[i:i + 2] for i in range(0, 12, 2)) if len(digits) == 12 else text


def query_kind(query: str) -> str:
    try:
        ipaddress.ip_address(query)
        return "ip"
    except ValueError:
        pass
    return "mac" if mac_digits(query) else "name"


def _uplinks(device_ids) -> set[tuple[int, str]]:
    """(device, port) pairs with an LLDP neighbour: a MAC learnt there is behind another switch, not on the port."""
    return set(LldpNeighbor.objects.filter(device_id__in=device_ids).values_list("device_id", "local_port"))


def where_is(query: str, devices, prefixes=None) -> dict:
    """The answer to one query within `devices` (a scoped Device queryset); `prefixes` (a scoped Prefix queryset)
    names the owner of an address."""
    # Control characters are no part of an address or a name (and PostgreSQL refuses a NUL): dropped.
    query = CONTROLS.sub("", query or "").strip()[:MAX_QUERY]
    answer = {"query": query, "kind": None, "ports": [], "arp": [], "lldp": [], "devices": [], "owner": None}
    if not query:
        return answer
    kind = answer["kind"] = query_kind(query)
    arp = ArpEntry.objects.filter(device__in=devices).select_related("device").order_by("device__name", "ip")
    macs = MacEntry.objects.filter(device__in=devices).select_related("device").order_by("device__name", "port")
    lldp = LldpNeighbor.objects.filter(device__in=devices).select_related("device").order_by("device__name",
                                                                                          "local_port")
    if kind == "ip":
        answer["arp"] = list(arp.filter(ip=query)[:MAX_ROWS])
        answer["devices"] = list(devices.filter(address=query).order_by("name")[:MAX_ROWS])
        digits = {mac_digits(canonical_mac(a.mac)) for a in answer["arp"]} - {None}
        forms = [form for d in digits for form in mac_notations(d)]
        answer["ports"] = list(macs.filter(mac__in=forms)[:MAX_ROWS]) if forms else []
        if prefixes is not None:  # the agency and site owning the address (longest prefix)
            answer["owner"] = prefixes.longest_match(query)
    elif kind == "mac":
        forms = mac_notations(mac_digits(query))
        answer["ports"] = list(macs.filter(mac__in=forms)[:MAX_ROWS])
        answer["arp"] = list(arp.filter(mac__in=forms)[:MAX_ROWS])
    else:
        answer["devices"] = list(devices.filter(name__icontains=query).select_related("site").order_by("name")[
            :MAX_ROWS])
        answer["lldp"] = list(lldp.filter(neighbor_name__icontains=query)[:MAX_ROWS])
    uplinks = _uplinks({p.device_id for p in answer["ports"]})
    for port in answer["ports"]:
        port.uplink = (port.device_id, port.port) in uplinks
    answer["ports"].sort(key=lambda p: (p.uplink, p.device.name, p.port))  # the host's own port first
    return answer
