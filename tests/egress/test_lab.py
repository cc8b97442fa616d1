"""`egress verify` against the running lab: its real SSH devices backed up, then checked. It finds exactly the planted
`rogue-exit` (default route and NAT out of a 4G modem) and `no-smb-block` faults, and nothing anywhere else."""

import io
import json

import pytest
from django.core.management import call_command

from collectors.services.backup import backup_devices
from egress.models import EgressResult
from egress.services.verify import verify_devices
from inventory.models import Device, Link
from lab.ssh.configs import expected_faults

pytestmark = [pytest.mark.django_db, pytest.mark.lab]
EGRESS_RULES = {"egress.smb-blocked", "egress.no-rogue-default-route", "egress.no-rogue-nat"}


@pytest.fixture(scope="module")
def verified(lab, lab_ports, django_db_setup, django_db_blocker):
    """The test lab imported, backed up and verified once for the module; flushed after."""
    from inventory.services import import_document
    from lab.services import inventory_document

    with django_db_blocker.unblock():
        import_document(inventory_document(lab, *lab_ports), "test-lab")
        backed_up = backup_devices(with_tables=False)
        yield lab, backed_up, verify_devices()
        call_command("flush", "--noinput", verbosity=0)


def planted(topology) -> set[tuple[str, str]]:
    return {(f["device"], f["rule"]) for f in expected_faults(topology) if f["rule"] in EGRESS_RULES}


def test_verify_finds_exactly_the_planted_rogue_exit_and_missing_block(verified):
    topology, backed_up, report = verified
    stored = {d["device"] for d in backed_up["devices"] if d["status"] in ("changed", "unchanged")}
    expected = planted(topology)
    assert {rule for _device, rule in expected} == EGRESS_RULES  # the lab plants both kinds
    assert {device for device, _rule in expected} <= stored
    assert report["errors"] == []
    assert report["checked"] == len(stored)
    assert set(report["not_checked"]) == {d.name for d in topology.devices} - stored
    assert {(f["device"], f["rule"]) for f in report["findings"]} == expected  # and no false positive anywhere
    assert report["summary"]["egress.smb-blocked"]["pass"] >= 1 + sum(
        1 for d in topology.devices if d.role == "aggregation" and "no-smb-block" not in d.faults and d.name in stored)


def test_the_rogue_exit_is_named_with_its_line_site_and_agency(verified):
    topology, _, report = verified
    [rogue] = {device for device, rule in planted(topology) if rule == "egress.no-rogue-default-route"}
    device = Device.objects.select_related("site__agency").get(name=rogue)
    route, nat = (next(f for f in report["findings"] if f["device"] == rogue and f["rule"] == rule)
                  for rule in ("egress.no-rogue-default-route", "egress.no-rogue-nat"))
    assert route["site"] == device.site.name and route["agency"] == device.site.agency.name
    [(number, line)] = route["evidence"]
    assert "0.0.0.0" in line and "Cellular" in line and f"(line {number})" in route["message"]
    [exit_] = [d for d in route["details"] if d["rogue"]]
    assert exit_["interface"].startswith("Cellular") and exit_["line"] == [number, line]
    assert [d["interface"] for d in route["details"] if not d["rogue"]]  # its route to the parent is approved
    assert any(r.startswith(("no ip route", "undo ip route-static")) for r in route["remediation"])
    assert nat["remediation"] and all("Cellular" in d["interface"] for d in nat["details"] if d["rogue"])


def test_the_county_router_without_the_block_gets_it_bound_on_its_uplink(verified):
    topology, _, report = verified
    [county] = {device for device, rule in planted(topology) if rule == "egress.smb-blocked"}
    uplink = Link.objects.get(b_interface__device__name=county, tier="city-county").b_interface.name
    finding = next(f for f in report["findings"] if f["device"] == county)
    assert {d["interface"] for d in finding["details"]} == {uplink}
    assert {d["direction"] for d in finding["details"] if not d["enforced"]} == {"inbound", "outbound"}
    assert f"interface {uplink}" in finding["remediation"]


def test_every_checked_device_keeps_its_three_results(verified):
    _, _, report = verified
    assert EgressResult.objects.count() == 3 * report["checked"]
    assert EgressResult.objects.filter(status="fail").count() == len(report["findings"])


@pytest.mark.parametrize("platform", ["huawei_vrp", "hp_comware", "cisco_ios", "ruijie_os"])
def test_render_gives_each_vendors_block(verified, platform):
    out = io.StringIO()
    call_command("egress", "render", "--platform", platform, "--json", stdout=out)
    document = json.loads(out.getvalue())
    egress = Device.objects.get(role="egress")
    if platform == egress.platform:  # the lab's egress: its internet links, a free ACL number on it
        [block] = document["blocks"]
        internet = sorted(Link.objects.filter(tier="internet").values_list("a_interface__name", flat=True))
        assert block["device"] == egress.name and sorted(block["interfaces"]) == internet
        assert block["acl"] not in ("3100", "3001", "2000")
        for interface in internet:
            assert document["lines"][document["lines"].index(f"interface {interface}") + 1:][:2] == [
                f" traffic-filter inbound acl {block['acl']}", f" traffic-filter outbound acl {block['acl']}"]
    else:
        [block] = document["blocks"]
        assert block["placeholder"] and block["device"] is None
    assert any("445" in line for line in document["lines"]) and any("137" in line for line in document["lines"])


def test_verify_command_json_is_one_document_with_the_findings(verified):
    topology, _, _ = verified
    [rogue] = {device for device, rule in planted(topology) if rule == "egress.no-rogue-nat"}
    out = io.StringIO()
    call_command("egress", "verify", "--device", rogue, "--json", stdout=out)
    document = json.loads(out.getvalue())
    assert document["checked"] == 1 and {f["rule"] for f in document["findings"]} == {
        "egress.no-rogue-default-route", "egress.no-rogue-nat"}
    assert [d["results"] for d in document["devices"]] == [{"egress.smb-blocked": "not_applicable",
                                                            "egress.no-rogue-default-route": "fail",
                                                            "egress.no-rogue-nat": "fail"}]
