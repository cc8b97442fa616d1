"""Each platform masks every kind of secret in its configs the same way everywhere (platform.mask_secrets), and
the mask says whether the device stores the secret hashed: `<hashed secret:HASH>` or `<secret:HASH>`, the words
around it (kept) say what kind of secret it is."""

import re

import pytest

import platforms

# (platform, config line, the line as a non-admin sees it, hashes left out)
CASES = [
    # Huawei VRP
    ("huawei_vrp", " local-user admin password irreversible-cipher $1c$Zx9Qm$AbCdEf$",
     " local-user admin password irreversible-cipher <hashed secret>"),
    ("huawei_vrp", " local-user bob password cipher %^%#Kq1!x%^%#", " local-user bob password cipher <hashed secret>"),
    ("huawei_vrp", " local-user carol password simple Admin@2017", " local-user carol password simple <secret>"),
    ("huawei_vrp", "super password level 15 cipher %@%@Sup3r%@%@", "super password level 15 cipher <hashed secret>"),
    ("huawei_vrp", "snmp-agent community read cipher %^%#Kq1!x%^%# acl 2000",
     "snmp-agent community read cipher <hashed secret> acl 2000"),
    ("huawei_vrp", "snmp-agent community write Private1", "snmp-agent community write <secret>"),
    ("huawei_vrp", "snmp-agent community read %$%$Newer%$%$", "snmp-agent community read <hashed secret>"),
    ("huawei_vrp", "snmp-agent target-host trap address udp-domain 10.1.1.1 params securityname cipher %^%#T%^%# v2c",
     "snmp-agent target-host trap address udp-domain 10.1.1.1 params securityname cipher <hashed secret> v2c"),
    ("huawei_vrp", "snmp-agent usm-user v3 nms authentication-mode sha cipher %^%#A%^%#",
     "snmp-agent usm-user v3 nms authentication-mode sha cipher <hashed secret>"),
    ("huawei_vrp", "snmp-agent usm-user v3 nms privacy-mode aes128 cipher %^%#P%^%#",
     "snmp-agent usm-user v3 nms privacy-mode aes128 cipher <hashed secret>"),
    ("huawei_vrp", " hwtacacs-server shared-key cipher %^%#T%^%#",
     " hwtacacs-server shared-key cipher <hashed secret>"),
    ("huawei_vrp", " radius-server shared-key simple RadiusKey", " radius-server shared-key simple <secret>"),
    ("huawei_vrp", " pre-shared-key cipher %^%#Psk%^%#", " pre-shared-key cipher <hashed secret>"),
    ("huawei_vrp", "ntp-service authentication-keyid 1 authentication-mode hmac-sha256 cipher %^%#N%^%#",
     "ntp-service authentication-keyid 1 authentication-mode hmac-sha256 cipher <hashed secret>"),
    ("huawei_vrp", "snmp-agent target-host trap address udp-domain 10.1.1.1 params securityname nms v3 privacy",
     None),  # a v3 target names a user, not a community
    ("huawei_vrp", " authentication-mode password", None),
    # H3C Comware
    ("hp_comware", " password hash $h$6$Ab0123456789==", " password hash <hashed secret>"),
    ("hp_comware", " password simple Plain1", " password simple <secret>"),
    ("hp_comware", " password cipher $c$3$Loc==", " password cipher <hashed secret>"),
    ("hp_comware", "super password role network-admin hash $h$6$S==",
     "super password role network-admin hash <hashed secret>"),
    ("hp_comware", "snmp-agent community read simple public", "snmp-agent community read simple <secret>"),
    ("hp_comware", "snmp-agent community write cipher $c$3$XyZ== acl 2000",
     "snmp-agent community write cipher <hashed secret> acl 2000"),
    ("hp_comware", "snmp-agent usm-user v3 u g cipher authentication-mode sha $c$3$A== privacy-mode aes128 $c$3$P==",
     "snmp-agent usm-user v3 u g cipher authentication-mode sha <hashed secret> privacy-mode aes128 <hashed secret>"),
    ("hp_comware", " key authentication cipher $c$3$RadKey==", " key authentication cipher <hashed secret>"),
    ("hp_comware", " key accounting simple TacKey1", " key accounting simple <secret>"),
    ("hp_comware", " pre-shared-key address 10.0.0.2 255.255.255.255 key cipher $c$3$Psk==",
     " pre-shared-key address 10.0.0.2 255.255.255.255 key cipher <hashed secret>"),
    ("hp_comware", "ntp-service authentication-keyid 1 authentication-mode md5 simple NtpKey1",
     "ntp-service authentication-keyid 1 authentication-mode md5 simple <secret>"),
    ("hp_comware", " authentication-mode scheme", None),
    # Cisco IOS
    ("cisco_ios", "enable secret 5 $1$mUNS$EA8GP0//goIY0zv7gjl0E0", "enable secret 5 <hashed secret>"),
    ("cisco_ios", "enable secret 9 $9$abc$def", "enable secret 9 <hashed secret>"),
    ("cisco_ios", "enable secret 8 $8$abc$def", "enable secret 8 <hashed secret>"),
    ("cisco_ios", "enable password 7 0822455D0A16", "enable password 7 <hashed secret>"),
    ("cisco_ios", "enable password 0 cisco123", "enable password 0 <secret>"),
    ("cisco_ios", "enable password cisco123", "enable password <secret>"),
    ("cisco_ios", "username admin privilege 15 secret 9 $9$abc$def",
     "username admin privilege 15 secret 9 <hashed secret>"),
    ("cisco_ios", "username bob password 0 Cleartext1", "username bob password 0 <secret>"),
    ("cisco_ios", " password 7 0822455D0A16", " password 7 <hashed secret>"),
    ("cisco_ios", "snmp-server community public RO", "snmp-server community <secret> RO"),
    ("cisco_ios", "snmp-server community Wr1te-Me RW 99", "snmp-server community <secret> RW 99"),
    ("cisco_ios", "snmp-server host 10.1.1.1 version 2c TrapCommunity",
     "snmp-server host 10.1.1.1 version 2c <secret>"),
    ("cisco_ios", "snmp-server user u g v3 auth sha AuthPass1 priv aes 256 PrivPass1",
     "snmp-server user u g v3 auth sha <secret> priv aes 256 <secret>"),
    ("cisco_ios", "snmp-server user u g v3 encrypted auth sha 0A1B2C priv aes 128 3D4E5F",
     "snmp-server user u g v3 encrypted auth sha <hashed secret> priv aes 128 <hashed secret>"),
    ("cisco_ios", "tacacs-server host 10.0.0.1 key 7 0123ABCD", "tacacs-server host 10.0.0.1 key 7 <hashed secret>"),
    ("cisco_ios", "tacacs-server key TacPlain", "tacacs-server key <secret>"),
    ("cisco_ios", "radius-server key 7 045802150C2E", "radius-server key 7 <hashed secret>"),
    ("cisco_ios", "crypto isakmp key 0 V3ryS3cret address 0.0.0.0", "crypto isakmp key 0 <secret> address 0.0.0.0"),
    ("cisco_ios", "crypto isakmp key 6 Enc0ded address 0.0.0.0", "crypto isakmp key 6 <hashed secret> address 0.0.0.0"),
    ("cisco_ios", " pre-shared-key address 10.0.0.2 key PskKey1", " pre-shared-key address 10.0.0.2 key <secret>"),
    ("cisco_ios", "ntp authentication-key 1 md5 104D000A0618 7", "ntp authentication-key 1 md5 <hashed secret> 7"),
    ("cisco_ios", "ntp authentication-key 2 md5 NtpPlain", "ntp authentication-key 2 md5 <secret>"),
    ("cisco_ios", "service password-encryption", None),
    ("cisco_ios", " key 1", None),
    # Ruijie RGOS
    ("ruijie_os", "enable secret 5 $1$Ruij$ie0123456789", "enable secret 5 <hashed secret>"),
    ("ruijie_os", "enable password 0 Ruijie123", "enable password 0 <secret>"),
    ("ruijie_os", "username admin password 7 0822455D0A16", "username admin password 7 <hashed secret>"),
    ("ruijie_os", "username ops password Plain@1", "username ops password <secret>"),
    ("ruijie_os", "snmp-server community Ru1jie ro", "snmp-server community <secret> ro"),
    ("ruijie_os", "snmp-server user u g v3 auth md5 AuthR priv des56 PrivR",
     "snmp-server user u g v3 auth md5 <secret> priv des56 <secret>"),
    ("ruijie_os", "radius-server host 10.0.0.1 key 7 0123AB", "radius-server host 10.0.0.1 key 7 <hashed secret>"),
    ("ruijie_os", "tacacs-server key TacR", "tacacs-server key <secret>"),
    ("ruijie_os", "ntp authentication-key 1 md5 NtpR 7", "ntp authentication-key 1 md5 <hashed secret> 7"),
    ("ruijie_os", "ntp authentication-key 2 md5 NtpR2 0", "ntp authentication-key 2 md5 <secret> 0"),
]

HASH = re.compile(r"<((?:hashed )?secret):[0-9a-f]{8}>")


@pytest.mark.parametrize("platform, line, expected", CASES, ids=[f"{p}:{line.strip()[:48]}" for p, line, _ in CASES])
def test_a_secret_is_masked_saying_whether_the_device_stores_it_hashed(platform, line, expected):
    masked = platforms.get(platform).mask_secrets(line)
    assert HASH.sub(r"<\1>", masked) == (line if expected is None else expected)


def test_every_platform_has_a_case_for_each_kind_of_secret():
    for slug in ("huawei_vrp", "hp_comware", "cisco_ios", "ruijie_os"):
        lines = " ".join(line for p, line, expected in CASES if p == slug and expected)
        for kind in ("password", "community", "auth", "priv", "key", "ntp"):
            assert kind in lines, (slug, kind)
    assert {p for p, *_ in CASES} == {p.slug for p in platforms.all_platforms()}


def test_the_hash_shows_a_changed_secret_and_keeps_the_secret_out():
    mask = platforms.get("huawei_vrp").mask_secrets
    before = mask("snmp-agent community read cipher %^%#Old%^%#")
    after = mask("snmp-agent community read cipher %^%#New%^%#")
    assert before != after and "Old" not in before and "New" not in after
    assert mask(before) == before  # masking a masked config changes nothing
