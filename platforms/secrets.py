"""Secrets in configs: passwords, keys and SNMP communities masked for everyone but administrators.

Each vendor module lists its `secret_rules`: a regular expression whose `secret` group is the secret, and
optionally the top-level section it must sit in (an IOS `tacacs server` block's ` key X`, not a key chain's
` key 1`). A masked secret keeps a short keyed hash, `<secret:1a2b3c4d>`, so a diff still shows that it
changed (and that two devices share one) without giving it away; the hash is keyed with the Django secret
key, so a dictionary of common communities cannot reverse it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class SecretRule:
    pattern: re.Pattern
    section: re.Pattern | None = None  # the top-level line the rule applies under; None: anywhere


def rule(pattern: str, section: str | None = None) -> SecretRule:
    return SecretRule(re.compile(pattern, re.IGNORECASE), re.compile(section, re.IGNORECASE) if section else None)


def secret_hash(secret: str) -> str:
    key = hashlib.sha256(("onenet-config-secrets:" + settings.SECRET_KEY).encode()).digest()
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()[:8]


def mask_config(text: str, rules: tuple[SecretRule, ...]) -> str:
    """The config with every secret the rules find replaced by `<secret:HASH>`."""
    section = ""
    out = []
    for line in text.split("\n"):
        if line[:1] not in (" ", "\t", ""):
            section = line
        for secret_rule in rules:
            if secret_rule.section is None or secret_rule.section.match(section):
                line = secret_rule.pattern.sub(_masked, line)
        out.append(line)
    return "\n".join(out)


def _masked(match: re.Match) -> str:
    start, end = match.span("secret")
    whole = match.group(0)
    offset = match.start()
    return whole[:start - offset] + f"<secret:{secret_hash(match['secret'])}>" + whole[end - offset:]


# The IOS family (Cisco IOS, Ruijie RGOS): `password`/`secret` with an optional type digit, communities, keys.
IOS_SECRET_RULES = (
    # enable secret 5 …, username u privilege 15 secret 9 …, line password 7 …, neighbor x password …
    rule(r"\b(?:secret|password)(?: level \d+)?(?: [0-9])? (?!encryption\b)(?P<secret>\S+)"),
    rule(r"^snmp-server community (?P<secret>\S+)"),
    rule(r"^snmp-server user \S+ \S+ (?:remote \S+ )?v3 auth \S+ (?P<secret>\S+)"),
    rule(r"^snmp-server user \S+ \S+ (?:remote \S+ )?v3 .*\bpriv (?:\S+ )(?:\d+ )?(?P<secret>\S+)"),
    rule(r"^snmp-server host \S+(?: (?:traps|informs))?(?: version (?:1|2c))? (?P<secret>(?!version\b)\S+)"),
    rule(r"^(?:tacacs|radius)-server (?:host \S+ .*?)?key(?: [07])? (?P<secret>\S+)"),
    rule(r"^\s+key(?: [07])? (?P<secret>\S+)", section=r"(?:tacacs|radius) server |aaa group server "),
    rule(r"^\s*server-private \S+ .*?key(?: [07])? (?P<secret>\S+)"),
    rule(r"\bkey [07] (?P<secret>\S+)"),
    rule(r"\bkey-string(?: [07])? (?P<secret>\S+)"),
    rule(r"^crypto isakmp key(?: [06])? (?P<secret>\S+)"),
    rule(r"\bpre-shared-key(?: local| remote)?(?: [06])? (?P<secret>\S+)"),
    rule(r"\bip ospf authentication-key(?: [07])? (?P<secret>\S+)"),
    rule(r"\bmessage-digest-key \d+ md5(?: [07])? (?P<secret>\S+)"),
    rule(r"\bstandby(?: \d+)? authentication(?: md5 key-string(?: [07])?| text)? (?P<secret>(?!md5\b)\S+)"),
    rule(r"^ntp authentication-key \d+ md5 (?P<secret>\S+)"),
    rule(r"\bwpa-psk ascii(?: [07])? (?P<secret>\S+)"),
)

# VRP and Comware: `password cipher|irreversible-cipher|simple|hash X`, `community read|write [cipher] X`.
VRP_COMWARE_SECRET_RULES = (
    rule(r"\bpassword(?: level \d+| role \S+)? (?:irreversible-cipher|cipher|simple|hash|plain) (?P<secret>\S+)"),
    rule(r"^snmp-agent community (?:read|write) (?:cipher |simple |plain )?(?P<secret>\S+)"),
    rule(r"^snmp-agent usm-user .*\bauthentication-mode \S+ (?:cipher |simple |plain )?(?P<secret>\S+)"),
    rule(r"^snmp-agent usm-user .*\bprivacy-mode \S+ (?:cipher |simple |plain )?(?P<secret>\S+)"),
    rule(r"\bshared-key (?:cipher |simple |plain )?(?P<secret>\S+)"),
    rule(r"^\s*key (?:authentication|accounting|authorization) (?:cipher |simple )?(?P<secret>\S+)"),
    rule(r"\bpre-shared-key (?:cipher |simple |plain )?(?P<secret>\S+)"),
    rule(r"\bauthentication-mode (?:md5|hmac-md5|hmac-sha256|simple)(?: \d+)? (?:cipher|plain|simple) "
         r"(?P<secret>\S+)"),
    rule(r"\bauthentication-keyid \d+ authentication-mode \S+ (?:cipher |simple |plain )?(?P<secret>\S+)"),
)
