"""A link's tier comes from the roles at both ends: the links inside the city core are not city–county links."""

import pytest

from collectors.services import bandwidth
from inventory.models import Link

pytestmark = pytest.mark.django_db


def roles(link):
    return {link.a_interface.device.role, link.b_interface.device.role}


def test_links_between_the_city_cores_and_the_egress_are_city_core_links(demo_inventory):
    links = list(Link.objects.select_related("a_interface__device", "b_interface__device"))
    core_egress = [link for link in links if roles(link) == {"core", "egress"} and link.tier != "internet"]
    assert len(core_egress) == 2 and {link.tier for link in core_egress} == {"city-core"}
    cores = [link for link in links if {link.a_interface.device.name, link.b_interface.device.name} ==
             {"city-core-1", "city-core-2"}]
    assert [link.tier for link in cores] == ["city-core"]
    # The city–county tier is what its name says: a city core and a county's aggregation router.
    assert {frozenset(roles(link)) for link in links if link.tier == "city-county"} == {
        frozenset({"core", "aggregation"})}


def test_the_city_county_average_counts_only_city_county_links(demo_inventory):
    rows = bandwidth.links_now(Link.objects.all())
    tiers = {group["name"]: group["links"] for group in bandwidth.summary_by(rows, lambda r: r.link.tier)}
    assert tiers["city-county"] == 8  # one per county
    assert tiers["city-core"] == 3  # two cores to the egress, and the cores to each other


def test_an_outward_tier_the_roles_cannot_tell_is_kept_as_declared(demo_inventory):
    # The ISP's and the province's routers are "core" to the inventory: the file says which links leave the city.
    links = Link.objects.select_related("a_interface__device", "b_interface__device")
    assert links.filter(tier="internet").count() == 2
    assert sorted(link.b_interface.device.name for link in links.filter(tier="province-city")) == [
        "city-core-1", "city-core-2"]


def test_importing_the_same_file_twice_keeps_the_derived_tiers(demo_inventory):
    from inventory.services import import_document

    before = dict(Link.objects.values_list("pk", "tier"))
    result = import_document(demo_inventory.to_inventory(), "demo")
    assert dict(Link.objects.values_list("pk", "tier")) == before
    assert "links" not in result.as_dict().get("updated", {})
