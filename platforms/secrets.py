"""Secrets in configs: passwords, keys and SNMP communities masked for everyone but administrators.

Each vendor module lists its `secret_rules`: a regular expression whose `secret` group is the secret, and
optionally the top-level section it must sit in (an IOS `tacacs server` block's ` key X`, not a key chain's
` key 1`). A masked secret keeps a short keyed hash, `<secret:1a2b3c4d>`, so a diff still shows that it
changed (and that two devices share one) without giving it away; the hash is keyed with the Django secret
key, so a dictionary of common communities cannot reverse it. A secret the device stores hashed or encrypted
(IOS types 5/6/7/8/9, `cipher`, `irreversible-cipher`, `hash`) reads `<hashed secret:1a2b3c4d>`, so an engineer
sees which ones are still in clear text; the words kept around it say what kind of secret it is.
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
    """The config with every secret the rules find replaced by `<secret:HASH>`, or `<hashed secret:HASH>` when the
    device stores it hashed or encrypted (the words around it, kept, say what kind of secret it is)."""
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


# The word before a secret (or a rule's `kind` group) that says how the device stores it: IOS's type digits
# (0 clear; 5, 8, 9 hashed; 6, 7 encrypted), VRP's and Comware's cipher / irreversible-cipher / hash / simple.
HASHED_KINDS = {"5", "6", "7", "8", "9", "cipher", "irreversible-cipher", "hash", "encrypted"}
CLEAR_KINDS = {"0", "simple", "plain"}
# Stored forms that say so themselves when no word does: VRP's %^%#…%^%# / %@%@…%@%@ / $1a$…, Comware's $c$…
# and $h$…, crypt's $1$ / $8$ / $9$ …
HASHED_FORM = re.compile(r"^(?:%\^%#|%@%@|%\$%\$|@%@%|\$(?:\d|[a-z]|\d[a-z])\$)", re.IGNORECASE)


MASKS = ("<secret:", "<hashed secret:")


def is_hashed(match: re.Match) -> bool:
    kind = (match.groupdict().get("kind") or "").strip().lower()
    if not kind:
        before = match.group(0)[:match.start("secret") - match.start()].split()
        kind = before[-1].lower() if before else ""
    if kind in HASHED_KINDS:
        return True
    if kind in CLEAR_KINDS:
        return False
    return bool(HASHED_FORM.match(match["secret"]))


def _masked(match: re.Match) -> str:
    start, end = match.span("secret")
    whole = match.group(0)
    if match.string.startswith(MASKS, start):  # masked already by another rule of the same line
        return whole
    offset = match.start()
    label = "hashed secret" if is_hashed(match) else "secret"
    return whole[:start - offset] + f"<{label}:{secret_hash(match['secret'])}>" + whole[end - offset:]


# The IOS family (Cisco IOS, Ruijie RGOS): `password`/`secret` with an optional type digit, communities, keys.
IOS_SECRET_RULES = (
    # enable secret 5 …, username u privilege 15 secret 9 …, line password 7 …, neighbor x password …
    rule(r"\b(?:secret|password)(?: level \d+)?(?: [0-9])? (?!encryption\b)(?P<secret>\S+)"),
    rule(r"^snmp-server community (?P<secret>\S+)"),
    # SNMPv3: `encrypted` means the keys shown are localized (hashed) ones.
    rule(r"^snmp-server user \S+ \S+ (?:remote \S+ (?:udp-port \d+ )?)?v3 (?:(?P<kind>encrypted) )?auth \S+ "
         r"(?P<secret>\S+)"),
    rule(r"^snmp-server user \S+ \S+ (?:remote \S+ (?:udp-port \d+ )?)?v3 (?:(?P<kind>encrypted) )?.*?\bpriv "
         r"(?:\S+ )(?:\d+ )?(?P<secret>\S+)"),
    rule(r"^snmp-server host \S+(?: vrf \S+)?(?: (?:traps|informs))?(?: version (?:1|2c))? "
         r"(?P<secret>(?!version\b)\S+)"),
    rule(r"^(?:tacacs|radius)-server (?:host \S+ .*?)?key(?: [07])? (?P<secret>\S+)"),
    rule(r"^\s+key(?: [07])? (?P<secret>\S+)", section=r"(?:tacacs|radius) server |aaa group server "),
    rule(r"^\s*server-private \S+ .*?key(?: [07])? (?P<secret>\S+)"),
    rule(r"\bkey [07] (?P<secret>\S+)"),
    rule(r"\bkey-string(?: [07])? (?P<secret>\S+)"),
    rule(r"^crypto isakmp key(?: [06])? (?P<secret>\S+)"),
    rule(r"\bpre-shared-key(?: local| remote)?(?: [06])? (?P<secret>(?!address\b|hostname\b)\S+)"),
    rule(r"\bpre-shared-key (?:address (?:ipv6 )?\S+(?: \d+\.\d+\.\d+\.\d+)?|hostname \S+) key(?: [06])? "
         r"(?P<secret>\S+)"),
    rule(r"\bip ospf authentication-key(?: [07])? (?P<secret>\S+)"),
    rule(r"\bmessage-digest-key \d+ md5(?: [07])? (?P<secret>\S+)"),
    rule(r"\bstandby(?: \d+)? authentication(?: md5 key-string(?: [07])?| text)? (?P<secret>(?!md5\b)\S+)"),
    # the type digit follows the key here: `ntp authentication-key 1 md5 0822455D0A16 7`
    rule(r"^ntp authentication-key \d+ (?:md5|sha1|sha2|hmac-sha256|cmac-aes-128) (?P<secret>\S+)(?: (?P<kind>\d))?"),
    rule(r"\bwpa-psk ascii(?: [07])? (?P<secret>\S+)"),
)

# VRP and Comware: `password cipher|irreversible-cipher|simple|hash X`, `community read|write [cipher] X`.
VRP_COMWARE_SECRET_RULES = (
    rule(r"\bpassword(?: level \d+| role \S+)? (?:irreversible-cipher|cipher|simple|hash|plain) (?P<secret>\S+)"),
    rule(r"^snmp-agent community (?:(?:read|write) )?(?:cipher |simple |plain )?(?P<secret>\S+)"),
    # v1/v2c trap targets name their community as the security name (a v3 one names a user)
    rule(r"^snmp-agent target-host (?!.*\bv3\b).*?\bsecurityname (?:cipher |simple |plain )?(?P<secret>\S+)"),
    rule(r"^snmp-agent usm-user .*\bauthentication-mode \S+ (?:cipher |simple |plain )?(?P<secret>\S+)"),
    rule(r"^snmp-agent usm-user .*\bprivacy-mode \S+ (?:cipher |simple |plain )?(?P<secret>\S+)"),
    rule(r"(?<!pre-)\bshared-key (?:cipher |simple |plain )?(?P<secret>\S+)"),
    rule(r"^\s*key (?:authentication|accounting|authorization) (?:cipher |simple )?(?P<secret>\S+)"),
    rule(r"\bpre-shared-key (?:(?:address (?:ipv6 )?\S+(?: \d+\.\d+\.\d+\.\d+)?|hostname \S+) key )?"
         r"(?:cipher |simple |plain )?(?P<secret>\S+)"),
    rule(r"\bauthentication-mode (?:md5|hmac-md5|hmac-sha256|simple)(?: \d+)? (?:cipher|plain|simple) "
         r"(?P<secret>\S+)"),
    rule(r"\bauthentication-keyid \d+ authentication-mode \S+ (?:cipher |simple |plain )?(?P<secret>\S+)"),
)
