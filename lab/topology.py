"""Generate a simulated extranet shaped like the real one, deterministic by seed.

The shape follows DESIGN "The lab": a provincial uplink, two city cores, the unified
egress, 8 counties/districts with their townships (and villages in some counties), and
the city agencies, on mixed vendors with an IP plan that gives every agency and site a
prefix.  Management addresses are loopback addresses (127.x.y.z) so the lab's SNMP
agents and SSH devices can run on one machine.

Everything here is plain data; `Topology.to_inventory()` gives the document that
`manage.py inventory import` reads.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, field

SCALES = {
    # counties with villages, townships per county, villages per township,
    # agencies, access switches per agency site, ports on an access switch
    "demo": dict(townships=3, village_counties=2, villages=3, agencies=20, agency_switches=1,
                 agencies_with_switch=12),
    "city": dict(townships=20, village_counties=5, villages=25, agencies=120, agency_switches=4,
                 agencies_with_switch=120),
}

COUNTIES = [
    # slug, Chinese name, English name, is district (streets) or county (townships)
    ("zhongxin", "中心区", "Zhongxin District", True),
    ("donghu", "东湖区", "Donghu District", True),
    ("xishan", "西山区", "Xishan District", True),
    ("nanjiang", "南江县", "Nanjiang County", False),
    ("beiling", "北岭县", "Beiling County", False),
    ("qinghe", "青河县", "Qinghe County", False),
    ("baishi", "白石县", "Baishi County", False),
    ("yuntai", "云台县", "Yuntai County", False),
]
# Counties (not districts) get villages first, in this order.
TOWN_WORDS = ["城关", "新安", "黄庄", "石桥", "柳林", "河口", "高村", "马坊", "三合", "龙泉",
              "清水", "杨湾", "青山", "长乐", "双庙", "白沙", "太平", "永和", "李家", "东坝",
              "西营", "北塘"]
VILLAGE_WORDS = ["张庄", "王家", "刘河", "陈岗", "杨树", "赵屯", "周湾", "吴桥", "郑店", "孙岭",
                 "钱塘", "冯村", "沈埠", "韩营", "朱坡", "秦岭", "许寨", "何坪", "吕巷", "施沟",
                 "金台", "魏庄", "蒋寨", "孔村", "曹峪", "严家", "华庄"]
AGENCY_NAMES = [
    ("gov-office", "市政府办公室"), ("dev-reform", "市发展改革委"), ("education", "市教育局"),
    ("science", "市科技局"), ("industry-it", "市工业和信息化局"), ("public-security", "市公安局"),
    ("civil-affairs", "市民政局"), ("justice", "市司法局"), ("finance", "市财政局"),
    ("hr-social", "市人力资源和社会保障局"), ("natural-resources", "市自然资源和规划局"),
    ("ecology", "市生态环境局"), ("housing", "市住房和城乡建设局"), ("transport", "市交通运输局"),
    ("water", "市水利局"), ("agriculture", "市农业农村局"), ("commerce", "市商务局"),
    ("culture-tourism", "市文化广电旅游局"), ("health", "市卫生健康委"), ("veterans", "市退役军人事务局"),
    ("emergency", "市应急管理局"), ("audit", "市审计局"), ("market-regulation", "市市场监督管理局"),
    ("statistics", "市统计局"), ("medical-security", "市医疗保障局"), ("big-data", "市大数据局"),
    ("government-service", "市政务服务中心"), ("housing-fund", "市住房公积金中心"),
    ("tax", "市税务局"), ("archives", "市档案馆"),
]
PLATFORM_MODELS = {
    # platform: (vendor, model per role, OS version)
    "huawei_vrp": ("Huawei", {"core": "NE40E-X8A", "egress": "USG6650E", "aggregation": "AR6280",
                              "access": "AR651", "cpe": "AR161", "switch": "S5735-L24T4S-A",
                              "firewall": "USG6650E"}, "V800R021C10"),
    "hp_comware": ("H3C", {"core": "SR8808-X", "aggregation": "MSR3660", "access": "MSR2630",
                           "cpe": "MSR830", "switch": "S5130S-28S-EI"}, "7.1.064"),
    "cisco_ios": ("Cisco", {"core": "ASR1006-X", "aggregation": "ISR4451", "access": "ISR4331",
                            "cpe": "ISR1111-4P", "switch": "C2960X-24TS-L"}, "15.2(7)E4"),
    "ruijie_os": ("Ruijie", {"cpe": "RSR20-14E", "access": "RSR30-44", "switch": "S2910-24GT4XS-E"},
                  "11.4(1)B12P14"),
}
LINK_TIERS = ["province-city", "city-county", "county-township", "township-village", "agency",
              "internet"]

SSH_USERNAME = "onenet"
SSH_PASSWORD = "lab-ssh-Secret1"
SNMP_COMMUNITY = "onenet-lab-ro"
SNMP_V3_USER, SNMP_V3_AUTH = "onenet", "lab-snmp-auth-1"  # USM authNoPriv, HMAC-SHA-96
GBPS = 1_000_000_000
MBPS = 1_000_000


@dataclass
class Region:
    slug: str
    name: str
    level: str  # city, county, township, village
    parent: str | None
    name_en: str = ""


@dataclass
class Agency:
    slug: str
    name: str
    region: str


@dataclass
class Site:
    slug: str
    name: str
    region: str
    agency: str | None
    expected: bool = True


@dataclass
class Interface:
    name: str
    if_index: int
    speed_bps: int
    description: str = ""
    ip: str | None = None  # "10.0.0.1/30"
    kind: str = "ethernet"  # ethernet, loopback, vlanif, cellular


@dataclass
class Host:
    """An end host behind an access switch (PC, server): feeds ARP and MAC tables and traffic."""

    ip: str
    mac: str
    switch: str  # device name of the access switch
    port: str  # interface name on that switch
    gateway: str  # device name of the router that has its ARP entry
    agency: str | None
    site: str


@dataclass
class Device:
    name: str
    platform: str
    role: str  # core, aggregation, access, cpe, egress, firewall, switch
    site: str
    address: str  # management address, 127.x.y.z
    model: str
    vendor: str
    os_version: str
    interfaces: list[Interface] = field(default_factory=list)
    snmp_community: str = SNMP_COMMUNITY
    snmp_version: str = "2c"
    status: str = "active"  # active, planned
    faults: list[str] = field(default_factory=list)
    county: str | None = None

    def interface(self, name: str) -> Interface:
        for interface in self.interfaces:
            if interface.name == name:
                return interface
        raise KeyError(f"{self.name} has no interface {name}")

    def add_interface(self, name: str, speed_bps: int, description: str = "", ip: str | None = None,
                      kind: str = "ethernet") -> Interface:
        interface = Interface(name, len(self.interfaces) + 1, speed_bps, description, ip, kind)
        self.interfaces.append(interface)
        return interface


@dataclass
class Link:
    a_device: str
    a_interface: str
    b_device: str
    b_interface: str
    capacity_bps: int
    tier: str
    # Traffic profile of the link as a fraction of capacity, a->b and b->a; see lab/profile.py.
    base_utilisation: float = 0.1
    peak_utilisation: float = 0.4


@dataclass
class Prefix:
    prefix: str
    agency: str | None
    site: str | None
    description: str = ""


@dataclass
class Topology:
    scale: str
    seed: int
    regions: list[Region] = field(default_factory=list)
    agencies: list[Agency] = field(default_factory=list)
    sites: list[Site] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    prefixes: list[Prefix] = field(default_factory=list)
    hosts: list[Host] = field(default_factory=list)

    def device(self, name: str) -> Device:
        for device in self.devices:
            if device.name == name:
                return device
        raise KeyError(name)

    def faults(self) -> list[dict]:
        """The planted faults, the lab's answer file (var/lab/faults.json)."""
        return [{"device": d.name, "platform": d.platform, "role": d.role, "fault": f}
                for d in self.devices for f in d.faults]

    def to_inventory(self) -> dict:
        """The inventory document `manage.py inventory import` reads (YAML shape)."""
        return {
            "credentials": [
                {"name": "lab-ssh", "kind": "ssh", "username": SSH_USERNAME, "secret": SSH_PASSWORD},
                {"name": "lab-snmp", "kind": "snmp", "username": "", "secret": SNMP_COMMUNITY},
                {"name": "lab-snmp-v3", "kind": "snmp", "username": SNMP_V3_USER, "secret": SNMP_V3_AUTH,
                 "snmp_version": "3"},
            ],
            "regions": [{"slug": r.slug, "name": r.name, "level": r.level, "parent": r.parent}
                        for r in self.regions],
            "agencies": [{"slug": a.slug, "name": a.name, "region": a.region} for a in self.agencies],
            "sites": [{"slug": s.slug, "name": s.name, "region": s.region, "agency": s.agency,
                       "expected": s.expected} for s in self.sites],
            "devices": [{
                "name": d.name, "address": d.address, "platform": d.platform, "role": d.role,
                "site": d.site, "vendor": d.vendor, "model": d.model, "os_version": d.os_version,
                "status": d.status, "snmp_credential": "lab-snmp-v3" if d.snmp_version == "3" else "lab-snmp",
                "ssh_credential": "lab-ssh",
                "interfaces": [{"name": i.name, "if_index": i.if_index, "speed_bps": i.speed_bps,
                                "description": i.description} for i in d.interfaces],
            } for d in self.devices],
            "links": [{"a": f"{link.a_device}:{link.a_interface}", "b": f"{link.b_device}:{link.b_interface}",
                       "capacity_bps": link.capacity_bps, "tier": link.tier} for link in self.links],
            "prefixes": [{"prefix": p.prefix, "agency": p.agency, "site": p.site,
                          "description": p.description} for p in self.prefixes],
        }


class _Builder:
    def __init__(self, scale: str, seed: int, address_base: str):
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}; expected one of {', '.join(SCALES)}")
        self.params = SCALES[scale]
        self.rng = random.Random(seed)
        self.topology = Topology(scale=scale, seed=seed)
        self.next_address = int(ipaddress.IPv4Address(address_base))
        self.p2p = ipaddress.IPv4Network("172.31.0.0/16").subnets(new_prefix=30)

    # -- helpers -------------------------------------------------------------------------
    def region(self, slug, name, level, parent, name_en=""):
        self.topology.regions.append(Region(slug, name, level, parent, name_en))
        return slug

    def site(self, slug, name, region, agency=None, expected=True):
        self.topology.sites.append(Site(slug, name, region, agency, expected))
        return slug

    def device(self, name, role, site, platform, county=None, model_role=None, status="active"):
        vendor, models, os_version = PLATFORM_MODELS[platform]
        model = models.get(model_role or role) or next(iter(models.values()))
        address = str(ipaddress.IPv4Address(self.next_address))
        self.next_address += 1
        if self.next_address & 0xFF in (0, 255):  # skip .0 and .255 for readability
            self.next_address += 2 if self.next_address & 0xFF == 255 else 1
        device = Device(name, platform, role, site, address, model, vendor, os_version, county=county,
                        status=status)
        device.add_interface(_loopback_name(platform), 0, "management loopback", kind="loopback")
        self.topology.devices.append(device)
        return device

    def port(self, device: Device, speed_bps: int, description: str, ip=None) -> Interface:
        used = sum(1 for i in device.interfaces if i.kind == "ethernet")
        return device.add_interface(_port_name(device.platform, device.role, used, speed_bps), speed_bps,
                                    description, ip)

    def link(self, a: Device, b: Device, capacity_bps, tier, base, peak):
        net = next(self.p2p)
        ip_a, ip_b = (f"{h}/30" for h in list(net.hosts())[:2])
        ia = self.port(a, capacity_bps, f"to {b.name}", ip_a)
        ib = self.port(b, capacity_bps, f"to {a.name}", ip_b)
        self.topology.links.append(Link(a.name, ia.name, b.name, ib.name, capacity_bps, tier, base, peak))

    def vendor_pick(self, weights: dict[str, int]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def access_switch(self, name, site, agency, uplink_to: Device, subnet: ipaddress.IPv4Network, county,
                      ports=24):
        platform = self.vendor_pick({"hp_comware": 4, "huawei_vrp": 3, "cisco_ios": 2, "ruijie_os": 1})
        switch = self.device(name, "access", site, platform, county, model_role="switch")
        self.link(uplink_to, switch, GBPS, "agency", 0.05, 0.35)
        host_count = min(ports - 2, max(3, subnet.num_addresses // 32))
        host_ips = list(subnet.hosts())
        while sum(1 for i in switch.interfaces if i.kind == "ethernet") < ports:
            index = sum(1 for i in switch.interfaces if i.kind == "ethernet")
            iface = self.port(switch, GBPS, "")
            if index - 1 < host_count and index >= 1:
                ip = str(host_ips[10 + index])
                mac = "70:" + ":".join(f"{self.rng.randrange(256):02x}" for _ in range(5))
                iface.description = f"office-pc-{index:02d}"
                self.topology.hosts.append(Host(ip, mac, switch.name, iface.name, uplink_to.name, agency, site))
        return switch

    # -- the network ---------------------------------------------------------------------
    def build(self) -> Topology:
        p = self.params
        t = self.topology
        city = self.region("city", "市本级", "city", None, "City")
        hub = self.site("city-dc", "市政务外网核心机房", city)
        self.site("prov-pop", "省政务外网接入点", city)
        prov = self.device("prov-pe-1", "core", "prov-pop", "huawei_vrp", model_role="core")
        cores = [self.device(f"city-core-{n}", "core", hub, platform)
                 for n, platform in ((1, "huawei_vrp"), (2, "hp_comware"))]
        egress = self.device("city-egress-fw-1", "egress", hub, "huawei_vrp")
        for core in cores:
            self.link(prov, core, 10 * GBPS, "province-city", 0.15, 0.55)
            self.link(core, egress, 10 * GBPS, "city-county", 0.2, 0.6)
        self.link(cores[0], cores[1], 10 * GBPS, "city-county", 0.1, 0.3)
        isp = self.device("isp-telecom-pe", "core", "prov-pop", "cisco_ios")
        isp2 = self.device("isp-unicom-pe", "core", "prov-pop", "huawei_vrp")
        self.link(egress, isp, 2 * GBPS, "internet", 0.25, 0.93)  # the busy one, near saturation
        self.link(egress, isp2, 1 * GBPS, "internet", 0.2, 0.7)
        t.prefixes.append(Prefix("10.0.0.0/8", None, None, "extranet"))

        self._agencies(cores, p)
        village_counties = [slug for slug, _, _, district in COUNTIES if not district][: p["village_counties"]]
        for county_index, (slug, name, name_en, district) in enumerate(COUNTIES):
            self._county(county_index, slug, name, name_en, district, slug in village_counties, cores, p)
        self._plant_faults()
        return t

    def _agencies(self, cores, p):
        t = self.topology
        for index in range(p["agencies"]):
            base_slug, base_name = AGENCY_NAMES[index % len(AGENCY_NAMES)]
            round_ = index // len(AGENCY_NAMES)
            slug = base_slug if round_ == 0 else f"{base_slug}-{round_ + 1}"
            name = base_name if round_ == 0 else f"{base_name}{'二三四五'[round_ - 1]}分部"
            t.agencies.append(Agency(slug, name, "city"))
            site = self.site(f"agency-{slug}", f"{name}机房", "city", slug)
            prefix = ipaddress.IPv4Network(f"10.1.{index}.0/24")
            t.prefixes.append(Prefix(str(prefix), slug, site, f"{name} 办公网"))
            platform = self.vendor_pick({"huawei_vrp": 4, "hp_comware": 3, "cisco_ios": 2, "ruijie_os": 1})
            cpe = self.device(f"ag-{slug}-cpe", "cpe", site, platform, "city")
            self.link(cores[index % 2], cpe, 100 * MBPS, "agency", 0.1, 0.6)
            if index < p["agencies_with_switch"]:
                for n in range(p["agency_switches"]):
                    sub = list(prefix.subnets(new_prefix=26))[n % 4]
                    self.access_switch(f"ag-{slug}-sw{n + 1}", site, slug, cpe, sub, "city")

    def _county(self, county_index, slug, name, name_en, district, villages, cores, p):
        t = self.topology
        region = self.region(slug, name, "county", "city", name_en)
        agency = f"{slug}-egov"
        t.agencies.append(Agency(agency, f"{name}政务服务和数据管理局", region))
        site = self.site(f"{slug}-hub", f"{name}政务外网汇聚机房", region, agency)
        platform = ("huawei_vrp", "hp_comware", "cisco_ios")[county_index % 3]
        agg = self.device(f"{slug}-agg-1", "aggregation", site, platform, slug)
        self.link(cores[county_index % 2], agg, 10 * GBPS if district else GBPS, "city-county",
                  0.1, 0.85 if county_index == 1 else 0.5)
        county_net = ipaddress.IPv4Network(f"10.{16 + county_index}.0.0/16")
        t.prefixes.append(Prefix(str(county_net), agency, site, f"{name}政务外网"))
        hub_lan = list(county_net.subnets(new_prefix=24))[0]
        self.access_switch(f"{slug}-hub-sw1", site, agency, agg, hub_lan, slug)
        subnets = list(county_net.subnets(new_prefix=24))[1:]
        unit = "街道" if district else ("镇" if county_index % 2 else "乡")
        for town_index in range(p["townships"]):
            word = TOWN_WORDS[town_index % len(TOWN_WORDS)] + ("" if town_index < len(TOWN_WORDS)
                                                                else str(town_index // len(TOWN_WORDS) + 1))
            town_slug = f"{slug}-t{town_index + 1:02d}"
            town = self.region(town_slug, f"{word}{unit}", "township", region)
            town_agency = f"{town_slug}-gov"
            t.agencies.append(Agency(town_agency, f"{word}{unit}人民政府", town))
            town_site = self.site(f"{town_slug}-office", f"{word}{unit}便民服务中心", town, town_agency)
            lan = subnets[town_index]
            t.prefixes.append(Prefix(str(lan), town_agency, town_site, f"{word}{unit}办公网"))
            # A township's router: the county's vendor mostly, sometimes another.
            platform = self.vendor_pick({"huawei_vrp": 5, "hp_comware": 3, "cisco_ios": 2, "ruijie_os": 1})
            router = self.device(f"{town_slug}-ar", "access", town_site, platform, slug)
            self.link(agg, router, 100 * MBPS, "county-township", 0.08, 0.5)
            if p["agency_switches"] > 1 or town_index == 0:
                self.access_switch(f"{town_slug}-sw1", town_site, town_agency, router,
                                   list(lan.subnets(new_prefix=25))[0], slug, ports=24 if p["agency_switches"] > 1
                                   else 12)
            if villages:
                self._villages(town_slug, town, router, lan, slug, p)

    def _villages(self, town_slug, town, router, lan, county, p):
        t = self.topology
        # Village LANs are /29s carved from the top half of the township /24.
        village_nets = list(list(lan.subnets(new_prefix=25))[1].subnets(new_prefix=29))
        for v in range(p["villages"]):
            word = VILLAGE_WORDS[v % len(VILLAGE_WORDS)] + ("" if v < len(VILLAGE_WORDS) else "二")
            v_slug = f"{town_slug}-v{v + 1:02d}"
            region = self.region(v_slug, f"{word}村", "village", town)
            site = self.site(f"{v_slug}-office", f"{word}村委会", region, None)
            net = village_nets[v % len(village_nets)] if v < len(village_nets) else None
            if net is not None:
                t.prefixes.append(Prefix(str(net), None, site, f"{word}村委会"))
            # Some villages are expected but not connected yet: the coverage gaps.
            roll = self.rng.random()
            if roll < 0.08:
                continue
            platform = self.vendor_pick({"huawei_vrp": 5, "ruijie_os": 3, "hp_comware": 2})
            # A few more have their CPE ordered but not installed: planned, not yet connected.
            cpe = self.device(f"{v_slug}-cpe", "cpe", site, platform, county,
                              status="planned" if roll < 0.15 else "active")
            if cpe.status == "active":
                self.link(router, cpe, 20 * MBPS, "township-village", 0.05, 0.4)

    def _plant_faults(self):
        """Faults for compliance, egress and the collectors to find; recorded in faults.json."""
        rng = self.rng
        devices = self.topology.devices
        cli = [d for d in devices if d.platform in ("huawei_vrp", "hp_comware", "cisco_ios") and d.role != "core"]
        for fault, share in (("telnet-vty", 0.08), ("snmp-default-community", 0.05), ("no-ntp", 0.06),
                             ("no-syslog", 0.06), ("cleartext-password", 0.04), ("no-idle-timeout", 0.04)):
            for device in rng.sample(cli, max(1, int(len(cli) * share))):
                device.faults.append(fault)
        towns = [d for d in cli if d.role == "access" and d.name.endswith("-ar")]
        rng.choice(towns).faults.append("rogue-exit")  # own default route + NAT out of a 4G modem
        counties = [d for d in cli if d.role == "aggregation"]
        rng.choice(counties).faults.append("no-smb-block")
        # SNMP behaviours for the poller to cope with.
        leaf = [d for d in devices if d.role in ("cpe", "access")]
        for fault, count in (("snmp-timeout", 3), ("snmp-wrong-community", 1), ("counter32-only", 2),
                             ("reboots", 2)):
            for device in rng.sample(leaf, count):
                device.faults.append(fault)
                if fault == "snmp-wrong-community":
                    device.snmp_community = "not-the-profile-community"
        for device in rng.sample([d for d in leaf if d.platform != "ruijie_os"], 2):
            device.snmp_version = "3"


def _loopback_name(platform: str) -> str:
    return {"huawei_vrp": "LoopBack0", "hp_comware": "LoopBack0", "cisco_ios": "Loopback0",
            "ruijie_os": "Loopback 0"}[platform]


def _port_name(platform: str, role: str, index: int, speed_bps: int) -> str:
    ten = speed_bps >= 10 * GBPS
    if platform == "huawei_vrp":
        return f"{'XGigabitEthernet' if ten else 'GigabitEthernet'}0/0/{index + (0 if role == 'core' else 1)}"
    if platform == "hp_comware":
        return f"{'Ten-GigabitEthernet' if ten else 'GigabitEthernet'}1/0/{index + 1}"
    if platform == "cisco_ios":
        return f"{'TenGigabitEthernet' if ten else 'GigabitEthernet'}0/{index + 1}"
    return f"{'TenGigabitEthernet' if ten else 'GigabitEthernet'} 0/{index + 1}"  # ruijie_os


def generate(scale: str = "demo", seed: int = 1, address_base: str = "127.10.0.1") -> Topology:
    """The lab topology for a scale and seed; the same arguments always give the same network."""
    return _Builder(scale, seed, address_base).build()
