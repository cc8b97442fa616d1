"""The lab's SSH devices behave like the real ones for netmiko's stock drivers and ntc-templates."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
from netmiko import ConnectHandler, NetmikoAuthenticationException
from ntc_templates.parse import parse_output

import platforms
from lab.ssh.configs import LabIndex, expected_faults, generate_config
from lab.ssh.server import host_key, serve
from lab.topology import SSH_PASSWORD, SSH_USERNAME, generate

PORT = 20022
ADDRESS_BASE = "127.78.0.1"
DRIVER = {"huawei_vrp": "huawei", "hp_comware": "hp_comware", "cisco_ios": "cisco_ios", "ruijie_os": "ruijie_os"}
SHOW_CONFIG = {"huawei_vrp": "display current-configuration", "hp_comware": "display current-configuration",
               "cisco_ios": "show running-config", "ruijie_os": "show running-config"}


@pytest.fixture(scope="module")
def topology():
    return generate("demo", 1, address_base=ADDRESS_BASE)


@pytest.fixture(scope="module")
def lab(topology, tmp_path_factory):
    """`serve` on 127.78.0.0/16:20022 in a background event loop for the module, stopped afterwards."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="lab-ssh", daemon=True)
    thread.start()
    state_dir = tmp_path_factory.mktemp("lab-ssh")
    future = asyncio.run_coroutine_threadsafe(serve(topology, PORT, state_dir=state_dir), loop)
    last = topology.devices[-1].address
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection((last, PORT), timeout=1).close()
            break
        except OSError:
            if future.done() or time.monotonic() > deadline:
                future.result(timeout=0)  # surfaces the start-up error
                raise
            time.sleep(0.05)
    yield topology
    future.cancel()
    asyncio.run_coroutine_threadsafe(_cancel_the_rest(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()


async def _cancel_the_rest():
    await asyncio.sleep(0.1)  # let serve() close its listeners and sessions
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@pytest.fixture(scope="module")
def session(lab):
    """Read-only sessions shared by the tests of this module, one per device, dropped at the end (closing
    them the polite way costs netmiko two seconds each on Huawei and Ruijie)."""
    sessions = {}

    def open_session(device):
        if device.name not in sessions:
            sessions[device.name] = connect(device)
        return sessions[device.name]

    yield open_session
    for conn in sessions.values():
        conn.paramiko_cleanup()


def connect(device, device_type=None, password=SSH_PASSWORD):
    return ConnectHandler(device_type=device_type or DRIVER[device.platform], host=device.address, port=PORT,
                          username=SSH_USERNAME, password=password, timeout=10, conn_timeout=10,
                          auth_timeout=10, banner_timeout=10, allow_agent=False, use_keys=False)


def pick(topology, platform, role=None, switch=None, two_stage=None):
    for device in topology.devices:
        if device.platform != platform or (role and device.role != role):
            continue
        if switch is not None and device.name.split("-")[-1].startswith("sw") != switch:
            continue
        if two_stage is not None and (device.role in ("core", "egress", "aggregation")) != two_stage:
            continue
        return device
    raise LookupError(f"no {platform} {role} device in the demo topology")


def first_port(device):
    return next(i.name for i in device.interfaces if i.kind == "ethernet")


@pytest.mark.lab
@pytest.mark.parametrize("platform", sorted(DRIVER))
def test_stock_netmiko_driver_logs_in_and_reads_the_config(lab, platform):
    device = pick(lab, platform, switch=False)
    with connect(device) as conn:
        config = conn.send_command(SHOW_CONFIG[platform])
        version = conn.send_command(platforms.driver_for(platform).version_command)
    assert device.name in config
    hostname_line = "sysname " if platform in ("huawei_vrp", "hp_comware") else "hostname "
    assert f"{hostname_line}{device.name}" in config
    assert device.model in version


@pytest.mark.lab
def test_wrong_password_is_refused(lab):
    device = lab.devices[0]
    with pytest.raises(NetmikoAuthenticationException):
        connect(device, password="not-the-password")


@pytest.mark.lab
@pytest.mark.parametrize("platform", sorted(DRIVER))
def test_unknown_command_gives_the_vendor_error_marker(lab, session, platform):
    marker = {"huawei_vrp": "Error: Unrecognized command found at '^' position.",
              "hp_comware": "% Unrecognized command found at '^' position.",
              "cisco_ios": "% Invalid input detected at '^' marker.",
              "ruijie_os": "% Invalid input detected at '^' marker."}[platform]
    output = session(pick(lab, platform)).send_command("frobnicate the network")
    assert marker in output
    assert "^" in output.splitlines()[0]


@pytest.mark.lab
def test_huawei_config_change_shows_in_the_config_and_rollback_last_restores_it(lab):
    device = pick(lab, "huawei_vrp", role="cpe")
    port = first_port(device)
    with connect(device) as conn:
        conn.send_config_set([f"interface {port}", "description changed-by-test"])
        assert "description changed-by-test" in conn.send_command("display current-configuration")
        conn.send_command("rollback configuration last 1")
        config = conn.send_command("display current-configuration")
    assert "changed-by-test" not in config
    assert f"description {device.interface(port).description}" in config


@pytest.mark.lab
def test_vrp8_candidate_is_invisible_until_commit_and_rolls_back_to_a_commit_id(lab):
    device = pick(lab, "huawei_vrp", role="core")
    port = first_port(device)
    with connect(device, "huawei_vrpv8") as conn:
        first_commit = conn.send_command("display configuration commit list").splitlines()[3].split()[1]
        output = conn.send_config_set([f"interface {port}", "description candidate-only"])
        assert f"[*{device.name}-{port}]" in output
        assert "candidate-only" not in conn.send_command("display current-configuration")
        conn.commit()
        assert "description candidate-only" in conn.send_command("display current-configuration")
        assert "Succeeded" in conn.send_command(f"rollback configuration to commit-id {first_commit}")
        assert "candidate-only" not in conn.send_command("display current-configuration")
        saved = conn.save_config()
    assert "saved successfully" in saved


@pytest.mark.lab
def test_comware_change_and_configuration_replace_rolls_back(lab):
    device = pick(lab, "hp_comware", role="cpe")
    port = first_port(device)
    with connect(device) as conn:
        conn.send_command("save flash:/before-test.cfg")
        conn.send_config_set([f"interface {port}", "description changed-by-test", "undo ntp-service enable"])
        config = conn.send_command("display current-configuration")
        assert "description changed-by-test" in config and "ntp-service enable" not in config
        conn.send_config_set(["configuration replace file flash:/before-test.cfg"])
        config = conn.send_command("display current-configuration")
    assert "changed-by-test" not in config and "ntp-service enable" in config


@pytest.mark.lab
@pytest.mark.parametrize("platform", ["cisco_ios"])  # ruijie_os shares the engine; its driver is slow here
def test_ios_change_and_configure_replace_from_archive_rolls_back(lab, platform):
    device = pick(lab, platform, role="cpe")
    port = first_port(device)
    with connect(device) as conn:
        conn.send_command("archive config")
        conn.send_config_set([f"interface {port}", "description changed-by-test", "no logging host 10.0.250.10"])
        config = conn.send_command("show running-config")
        assert "description changed-by-test" in config and "logging host" not in config
        assert "Rollback Done" in conn.send_command("configure replace flash:checkpoint force")
        config = conn.send_command("show running-config")
        assert "[OK]" in conn.save_config()
    assert "changed-by-test" not in config and "logging host 10.0.250.10" in config


ARP = {"huawei_vrp": ("display arp all", "huawei_vrp"), "hp_comware": ("display arp", "hp_comware"),
       "cisco_ios": ("show ip arp", "cisco_ios")}


@pytest.mark.lab
@pytest.mark.parametrize("platform", sorted(ARP))
def test_gateway_arp_parses_with_ntc_templates_and_holds_its_hosts(lab, session, platform):
    host = next(h for h in lab.hosts if lab.device(h.gateway).platform == platform)
    gateway = lab.device(host.gateway)
    command, template = ARP[platform]
    output = session(gateway).send_command(command)
    rows = parse_output(platform=template, command=command, data=output)
    by_ip = {row["ip_address"]: row for row in rows}
    assert host.ip in by_ip
    assert _mac(by_ip[host.ip]["mac_address"]) == _mac(host.mac)


MAC = {"huawei_vrp": ("display mac-address", "destination_address", "destination_port"),
       "hp_comware": ("display mac-address", "mac_address", "interface"),
       "cisco_ios": ("show mac address-table", "destination_address", "destination_port")}


@pytest.mark.lab
@pytest.mark.parametrize("platform", sorted(MAC))
def test_access_switch_mac_table_shows_a_host_on_its_port(lab, session, platform):
    host = next(h for h in lab.hosts if lab.device(h.switch).platform == platform)
    switch = lab.device(host.switch)
    command, mac_key, port_key = MAC[platform]
    output = session(switch).send_command(command)
    rows = parse_output(platform=platform, command=command, data=output)
    ports = {_mac(row[mac_key]): row[port_key] for row in rows}
    port = ports[_mac(host.mac)]
    port = port[0] if isinstance(port, list) else port
    assert platforms.get(platform).expand_interface(port) == host.port


LLDP = {"huawei_vrp": ("display lldp neighbor", "neighbor_name", "local_interface"),
        "hp_comware": ("display lldp neighbor-information list", "neighbor_name", "local_interface"),
        "cisco_ios": ("show lldp neighbors", "neighbor_name", "local_interface")}


@pytest.mark.lab
@pytest.mark.parametrize("platform", sorted(LLDP))
def test_lldp_neighbours_parse_and_match_the_topology_links(lab, session, platform):
    device = pick(lab, platform, role="aggregation")
    command, name_key, local_key = LLDP[platform]
    output = session(device).send_command(command)
    rows = parse_output(platform=platform, command=command, data=output)
    seen = {(platforms.get(platform).expand_interface(row[local_key]), row[name_key]) for row in rows}
    expected = set()
    for link in lab.links:
        if link.a_device == device.name:
            expected.add((link.a_interface, link.b_device[:20] if platform == "cisco_ios" else link.b_device))
        if link.b_device == device.name:
            expected.add((link.b_interface, link.a_device[:20] if platform == "cisco_ios" else link.a_device))
    assert expected and seen == expected


def _mac(text):
    return "".join(c for c in text.lower() if c in "0123456789abcdef")


# -- without SSH -------------------------------------------------------------------------------------
def test_host_key_is_kept_across_restarts(tmp_path):
    first = host_key(tmp_path).export_public_key()
    assert host_key(tmp_path).export_public_key() == first


def test_undo_and_no_remove_lines_and_sections():
    config = platforms.get("huawei_vrp").parse("sysname a\n#\ninterface GigabitEthernet0/0/1\n description x\n"
                                               " ip address 10.0.0.1 255.255.255.0\n#\nacl number 3000\n"
                                               " rule 5 deny ip\n")
    interface = config.section("interface GigabitEthernet0/0/1")
    config.apply("description y", interface)
    config.remove("ip address", interface)
    config.remove("acl number 3000")
    assert config.lines() == ["sysname a", "interface GigabitEthernet0/0/1", " description y"]


def test_every_planted_config_fault_names_a_baseline_rule():
    topology = generate("demo", 1)
    faults = expected_faults(topology)
    rules = {f["rule"] for f in faults}
    assert rules <= {"mgmt.ssh-only", "mgmt.idle-timeout", "mgmt.login-banner", "aaa.no-cleartext-passwords",
                     "snmp.no-default-community", "snmp.no-unrestricted-write", "logging.remote-syslog",
                     "ntp.configured", "egress.smb-blocked", "egress.no-rogue-default-route", "egress.no-rogue-nat"}
    assert {"mgmt.ssh-only", "egress.no-rogue-default-route", "egress.smb-blocked"} <= rules


def test_generated_configs_carry_the_baseline_and_the_planted_faults():
    topology = generate("demo", 1)
    index = LabIndex.build(topology)
    egress = next(d for d in topology.devices if d.role == "egress")
    config = generate_config(egress, index)
    assert "rule 15 deny tcp destination-port eq 445" in config
    assert config.count("traffic-filter inbound acl 3100") == sum(1 for link in topology.links
                                                                  if link.tier == "internet")
    assert "nat outbound 3001" in config
    for device in topology.devices:
        text = generate_config(device, index)
        platforms.get(device.platform).parse(text)
        if "telnet-vty" in device.faults:
            assert "telnet" in text
        if "no-ntp" in device.faults:
            assert "ntp" not in text.replace("ntp-service enable", "")
        if "rogue-exit" in device.faults:
            assert "Cellular" in text and "0.0.0.0" in text
        if device.role == "aggregation" and device.platform != "ruijie_os":
            assert ("445" in text) == ("no-smb-block" not in device.faults)
