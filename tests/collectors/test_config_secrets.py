"""Secrets in stored configs are masked per platform for every role but admin, in pages, diffs and downloads."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

import platforms
from collectors.models import ConfigVersion
from inventory.models import Device

# (platform, config line, the secret it holds or None when the line holds none)
LINES = [
    ("huawei_vrp", " local-user admin password irreversible-cipher $1c$Zx9Qm$AbCdEf$", "$1c$Zx9Qm$AbCdEf$"),
    ("huawei_vrp", " local-user admin password simple Admin@2017", "Admin@2017"),
    ("huawei_vrp", "snmp-agent community read cipher %^%#Kq1!x%^%# acl 2000", "%^%#Kq1!x%^%#"),
    ("huawei_vrp", "snmp-agent community write private", "private"),
    ("huawei_vrp", " set authentication password cipher Password123", "Password123"),
    ("huawei_vrp", "super password level 15 cipher Sup3rS3cret", "Sup3rS3cret"),
    ("huawei_vrp", " radius-server shared-key cipher RadiusSecret123", "RadiusSecret123"),
    ("huawei_vrp", " hwtacacs-server shared-key cipher TacacsSecret456", "TacacsSecret456"),
    ("huawei_vrp", " ospf authentication-mode md5 1 cipher OspfKey789", "OspfKey789"),
    ("huawei_vrp", "snmp-agent usm-user v3 nms authentication-mode sha cipher Auth%Pass", "Auth%Pass"),
    ("huawei_vrp", " authentication-mode password", None),
    ("huawei_vrp", "ssh user admin authentication-type password", None),
    ("huawei_vrp", "snmp-agent sys-info version v2c v3", None),
    ("hp_comware", " password hash $h$6$Ab0123456789==", "$h$6$Ab0123456789=="),
    ("hp_comware", "snmp-agent community read simple public", "public"),
    ("hp_comware", "snmp-agent community read cipher $c$3$XyZ== acl 2000", "$c$3$XyZ=="),
    ("hp_comware", " key authentication cipher $c$3$RadKey==", "$c$3$RadKey=="),
    ("hp_comware", "super password role network-admin hash $h$6$SuperHash==", "$h$6$SuperHash=="),
    ("hp_comware", " authentication-mode scheme", None),
    ("cisco_ios", "enable secret 5 $1$mUNS$EA8GP0//goIY0zv7gjl0E0", "$1$mUNS$EA8GP0//goIY0zv7gjl0E0"),
    ("cisco_ios", "username faddr privilege 15 secret 9 $9$abc$def", "$9$abc$def"),
    ("cisco_ios", "username admin privilege 15 password 0 Admin@2017", "Admin@2017"),
    ("cisco_ios", " password 7 0822455D0A16", "0822455D0A16"),
    ("cisco_ios", "enable password cisco123", "cisco123"),
    ("cisco_ios", "snmp-server community public RO", "public"),
    ("cisco_ios", "snmp-server community Wr1te-Me RW 99", "Wr1te-Me"),
    ("cisco_ios", "snmp-server user snmpuser SNMPV3-RO v3 auth sha AuthPassword123 priv aes 256 PrivPassword123",
     "AuthPassword123"),
    ("cisco_ios", "snmp-server user snmpuser SNMPV3-RO v3 auth sha AuthPassword123 priv aes 256 PrivPassword123",
     "PrivPassword123"),
    ("cisco_ios", "snmp-server host 10.1.1.1 version 2c TrapCommunity", "TrapCommunity"),
    ("cisco_ios", " key 7 TACACS-KEY-ENCRYPTED", "TACACS-KEY-ENCRYPTED"),
    ("cisco_ios", "tacacs-server key 7 0123ABCD", "0123ABCD"),
    ("cisco_ios", "  key-string EIGRP-SECRET", "EIGRP-SECRET"),
    ("cisco_ios", "crypto isakmp key V3ryS3cret address 0.0.0.0", "V3ryS3cret"),
    ("cisco_ios", " ip ospf message-digest-key 1 md5 7 070C285F4D06", "070C285F4D06"),
    ("cisco_ios", "ntp authentication-key 1 md5 NtpKey", "NtpKey"),
    ("cisco_ios", "service password-encryption", None),
    ("cisco_ios", "ip ssh authentication-type default password", None),
    ("cisco_ios", "security passwords min-length 10", None),
    ("cisco_ios", " key 1", None),  # a key chain's key id, not a secret
    ("ruijie_os", "enable secret 5 $1$Ruij$ie0123456789", "$1$Ruij$ie0123456789"),
    ("ruijie_os", "snmp-server community Ru1jie ro", "Ru1jie"),
]


@pytest.mark.parametrize("platform, line, secret", LINES, ids=[f"{p}:{line.strip()[:40]}" for p, line, _ in LINES])
def test_each_platform_masks_its_secrets_and_nothing_else(platform, line, secret):
    masked = platforms.get(platform).mask_secrets(line)
    if secret is None:
        assert masked == line
    else:
        assert secret not in masked and re.search(r"<(?:hashed )?secret:[0-9a-f]{8}>", masked), masked


def test_a_secret_in_a_server_block_is_masked_and_a_key_chain_id_is_not():
    config = "tacacs server TAC1\n address ipv4 10.0.0.5\n key Plain-Tacacs-Key\nkey chain EIGRP\n key 1\n"
    masked = platforms.get("cisco_ios").mask_secrets(config)
    assert "Plain-Tacacs-Key" not in masked and "\n key 1\n" in masked


def test_the_same_secret_gives_the_same_hash_and_another_secret_another():
    mask = platforms.get("cisco_ios").mask_secrets
    assert mask("snmp-server community alpha RO") == mask("snmp-server community alpha RO")
    assert mask("snmp-server community alpha RO") != mask("snmp-server community bravo RO")


@pytest.fixture
def two_versions(demo_inventory):
    device = Device.objects.filter(platform="cisco_ios", site__region__path__startswith="/city/nanjiang/").first()
    base = "hostname r1\nsnmp-server community Old-Community RO\nusername admin privilege 15 password 0 Admin@2017\n"
    first = ConfigVersion.objects.create(device=device, fetched_at=timezone.now() - timezone.timedelta(hours=1),
                                         sha256="a", text=base)
    text = base.replace("Old-Community", "New-Community")
    diff = "--- a\n+++ b\n@@ -2 +2 @@\n-snmp-server community Old-Community RO\n+snmp-server community New-Community RO"
    second = ConfigVersion.objects.create(device=device, fetched_at=timezone.now(), sha256="b", text=text, diff=diff)
    return first, second


@pytest.mark.parametrize("role", ["engineer", "security", "manager"])
def test_only_an_admin_sees_secrets_in_config_pages_diffs_and_downloads(client, make_user, two_versions, role):
    _first, second = two_versions
    client.force_login(make_user(f"u-{role}", role=role))
    page = client.get(reverse("config_version", args=[second.pk])).content.decode()
    download = client.get(reverse("config_version", args=[second.pk]) + "?download=config").content.decode()
    for secret in ("Old-Community", "New-Community", "Admin@2017"):
        assert secret not in page and secret not in download
    changed = [line for line in page.splitlines() if "snmp-server community &lt;secret:" in line
               or "snmp-server community <secret:" in line]
    assert len({re.search(r"secret:([0-9a-f]{8})", line)[1] for line in changed}) == 2  # the diff shows the change

    client.force_login(make_user("root", role="admin", superuser=True))
    page = client.get(reverse("config_version", args=[second.pk])).content.decode()
    assert "New-Community" in page and "Old-Community" in page
