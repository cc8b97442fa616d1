"""collectors.snmp.identify: sysObjectID/sysDescr -> platform, vendor, model, version (table-driven)."""

import socket
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from pysnmp.proto import rfc1902

from collectors.snmp.identify import decode_text, detect_platform, identify
from collectors.snmp.probe import probe

ROOT = Path(__file__).resolve().parents[2]

VRP_5720 = ("S5720-56C-PWR-EI-AC\nHuawei Versatile Routing Platform Software \r\n VRP (R) software,Version 5.170 "
            "(S5720 V200R010C00SPC600) \r\n Copyright (C) 2007 Huawei Technologies Co., Ltd.")
VRP_AR = ("Huawei AR1220 Huawei Versatile Routing Platform Software  VRP (R) software,Version 5.120 "
          "(AR1220 V200R003C01SPC900) Copyright (C) 2011-2013 Huawei Technologies Co., Ltd")
VRP_NE = ("Huawei Versatile Routing Platform Software\r\nVRP (R) software, Version 8.180 (NE40E V800R011C00SPC200)"
          "\r\nCopyright (C) 2012-2018 Huawei Technologies Co., Ltd.\r\nHUAWEI NE40E-X8A\r\n")
COMWARE_HP = ("HP Comware Platform Software, Software Version 7.1.045, Release 2416 HP FF 5700-40XG-2QSFP  Switch "
              "Copyright (c) 2010-2014 Hewlett-Packard Development Company, L.P.")
COMWARE_H3C = ("H3C Comware Platform Software, Software Version 7.1.070, Release 3208P10\r\nH3C S5130-52S-EI\r\n"
               "Copyright (c) 2004-2019 New H3C Technologies Co., Ltd. All rights reserved.")
COMWARE_5 = ("H3C Comware Platform Software, Software Version 5.20.99, Release 1106\r\nH3C S5120-28C-EI\r\n"
             "Copyright (c) 2004-2016 Hangzhou H3C Tech. Co., Ltd. All rights reserved.")
IOS_2960X = ("Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.0(2a)EX5, RELEASE SOFTWARE "
             "(fc3)\nTechnical Support: http://www.cisco.com/techsupport\r\nCopyright (c) 1986-2015 by Cisco "
             "Systems, Inc.\r\nCompiled Mon 16-Feb-15 08:16 by prod_rel_team")
IOS_OLD = ("Cisco Internetwork Operating System Software \r\nIOS (tm) C2600 Software (C2600-IK9O3S3-M), "
           "Version 12.3(26), RELEASE SOFTWARE (fc2)")
IOS_XE = ("Cisco IOS Software [Denali], ISR Software (X86_64_LINUX_IOSD-UNIVERSALK9-M), Version 16.3.7, "
          "RELEASE SOFTWARE (fc4)")
NXOS = "Cisco NX-OS(tm) n9000, Software (n9000-dk9), Version 7.0(3)I7(6), RELEASE SOFTWARE"
RUIJIE = ("Ruijie Full 10G Routing Switch(S6220-48XS6QXS-H) By Ruijie Networks, RGOS 11.0(5)B9P32, "
          "Release(06192909)")


@pytest.mark.parametrize(
    "oid, descr, platform, vendor, model, version",
    [
        (".1.3.6.1.4.1.2011.2.23.291", VRP_5720, "huawei_vrp", "Huawei", "S5720-56C-PWR-EI-AC",
         "5.170 (V200R010C00SPC600)"),
        ("1.3.6.1.4.1.2011.2.224.1", VRP_AR, "huawei_vrp", "Huawei", "AR1220", "5.120 (V200R003C01SPC900)"),
        ("1.3.6.1.4.1.2011.2.62.2.9", VRP_NE, "huawei_vrp", "Huawei", "NE40E", "8.180 (V800R011C00SPC200)"),
        (".1.3.6.1.4.1.25506.11.1.172", COMWARE_HP, "hp_comware", "HP", "FF 5700-40XG-2QSFP", "7.1.045"),
        ("1.3.6.1.4.1.25506.11.1.239", COMWARE_H3C, "hp_comware", "H3C", "S5130-52S-EI", "7.1.070"),
        ("1.3.6.1.4.1.25506.11.1.82", COMWARE_5, "hp_comware", "H3C", "S5120-28C-EI", "5.20.99"),
        (".1.3.6.1.4.1.9.1.1208", IOS_2960X, "cisco_ios", "Cisco", "C2960X", "15.0(2a)EX5"),
        ("1.3.6.1.4.1.9.1.209", IOS_OLD, "cisco_ios", "Cisco", "C2600", "12.3(26)"),
        ("1.3.6.1.4.1.9.1.2068", IOS_XE, "cisco_ios", "Cisco", "ISR", "16.3.7"),
        ("1.3.6.1.4.1.9.12.3.1.3.1812", NXOS, None, "Cisco", None, None),
        ("1.3.6.1.4.1.4881.1.1.10.1.287", RUIJIE, "ruijie_os", "Ruijie", "S6220-48XS6QXS-H", "11.0(5)B9P32"),
        # sysObjectID missing or foreign: sysDescr alone
        (None, VRP_5720, "huawei_vrp", "Huawei", "S5720-56C-PWR-EI-AC", "5.170 (V200R010C00SPC600)"),
        ("", COMWARE_H3C, "hp_comware", "H3C", "S5130-52S-EI", "7.1.070"),
        ("1.3.6.1.4.1.8072.3.2.10", IOS_2960X, "cisco_ios", "Cisco", "C2960X", "15.0(2a)EX5"),
        # unknown devices
        ("1.3.6.1.4.1.8072.3.2.10", "Linux gw 5.10.0-21-amd64 #1 SMP x86_64", None, None, None, None),
        (None, None, None, None, None, None),
        ("garbage!", "\x00\x01\x02", None, None, None, None),
    ],
)
def test_identify(oid, descr, platform, vendor, model, version):
    ident = identify(oid, descr)
    assert (ident.platform, ident.vendor, ident.model, ident.os_version) == (platform, vendor, model, version)


def test_cisco_model_from_entity_mib():
    ident = identify("1.3.6.1.4.1.9.1.1208", IOS_2960X, ["", "WS-C2960X-48FPS-L"])
    assert ident.model == "WS-C2960X-48FPS-L"


@pytest.mark.parametrize(
    "value, expected",
    [
        # what a .snmprec "4x" value turns into on the wire: bytes with CR/LF inside
        (rfc1902.OctetString(hexValue="53353732300a48756177656920565250200d0a"), "S5720\nHuawei VRP \r\n"),
        (b"S5720\r\nVRP", "S5720\r\nVRP"),
        ("0x53353732300d0a565250", "S5720\r\nVRP"),  # pysnmp prettyPrint of a non-printable string
        (b"caf\xe9 \xff", "caf\ufffd \ufffd"),  # not UTF-8: replacement, never an exception
        (b"a\x00b", "ab"),
        (None, None),
        ("plain", "plain"),
    ],
)
def test_decode_text(value, expected):
    assert decode_text(value) == expected


def test_decode_text_caps_length():
    assert len(decode_text(b"x" * 100_000, 255)) == 255


def test_hex_sysdescr_identifies():
    hexed = rfc1902.OctetString(VRP_5720.encode())
    assert detect_platform("1.3.6.1.4.1.2011.2.23.291", hexed) == ("huawei_vrp", "Huawei")


# -- recordings of OEM and brand variants, served by the lab's SNMP responder and read by the probe ----------
# Each .snmprec under tests/collectors/snmprec/ is written for OneNet from the public OS-detection rules of
# LibreNMS (sysObjectID arcs and sysDescr forms of Huawei VRP, H3C/HPE Comware, Cisco IOS and Ruijie RGOS,
# including their OEM builds); none is a copy of LibreNMS's own test data.

RECORDINGS = Path(__file__).parent / "snmprec"


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving_recordings(paths):
    """The lab's SNMP responder serving `paths` on 127.0.0.1:<free port> (community = file stem); yields the port."""
    port = _free_udp_port()
    responder = subprocess.Popen([sys.executable, "-m", "lab.snmp", "--snmprec", *map(str, paths),
                                  "--address", "127.0.0.1", "--port", str(port)], cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = responder.stdout.readline()
        assert line.startswith("ready"), f"the SNMP responder did not start: {line}{responder.stderr.read()}"
        yield port
    finally:
        responder.terminate()
        try:
            responder.wait(10)
        except subprocess.TimeoutExpired:
            responder.kill()
            responder.wait(10)


@pytest.fixture(scope="module")
def recordings():
    paths = sorted(RECORDINGS.glob("*.snmprec"))
    with serving_recordings(paths) as port:
        yield port


@pytest.mark.parametrize("recording, platform, vendor, model, version", [
    # FS.COM's campus switches run Ruijie's RGOS under FS's enterprise number; the version is in FS-SYSTEM-MIB
    ("fs_s3410_rgos", "ruijie_os", "FS.COM", "S3410-24TS-P", "S3410_FSOS 11.4(1)B74T3"),
    # Ruijie's own switches whose sysDescr names no version: RUIJIE-SYSTEM-MIB has it
    ("ruijie_s6220_sysdescr_without_version", "ruijie_os", "Ruijie", "S6220-48XS4QXS", "S6220_RGOS 11.0(5)B9P32"),
    # FS's other switches (not RGOS) are no Ruijie, whatever their enterprise number shares with the RGOS ones
    ("fs_s3900_not_rgos", None, None, None, None),
    # Comware 5 on HP's V1910, whose sysDescr never says "Comware": H3C's enterprise number is enough
    ("hp_v1910_comware_without_the_word", "hp_comware", "HP", "V1910-24G-PoE (365W)", "5.20"),
    # Comware 7 branded HPE, and Comware 5 on an HP A-series that carries HP's own enterprise number
    ("hpe_5130_comware7", "hp_comware", "HPE", "5130-24G-4SFP+ EI", "7.1.070"),
    ("hp_a5120_comware_on_hp_arc", "hp_comware", "HP", "A5120-48G EI", "5.20.99"),
    # VRP on Huawei's older Quidway brand
    ("quidway_s5700_vrp", "huawei_vrp", "Huawei", "S5700-28C-EI", "5.70 (V100R005C01SPC100)"),
    # VRP 3 on a Quidway router, whose sysDescr says "Software Version VRP 3.40" and names the model on its own line
    ("quidway_ar28_vrp3", "huawei_vrp", "Huawei", "AR28-31", "3.40"),
    # Cisco's IE1000 is listed with IOS by sysObjectID, but runs no IOS CLI: Cisco, no platform to push to
    ("cisco_ie1000_not_ios", None, "Cisco", None, None),
    # IOS on a classic image with the "IOS (tm)" banner
    ("cisco_ios_tm_c3550", "cisco_ios", "Cisco", "C3550", "12.2(44)SE6"),
])
def test_oem_and_brand_variants_are_identified_from_their_recordings(recordings, recording, platform, vendor, model,
                                                                      version):
    system = probe("127.0.0.1", recordings, recording, timeout=2, retries=1)["system"]
    assert (system["platform"], system["vendor"], system["model"], system["os_version"]) == (
        platform, vendor, model, version)
