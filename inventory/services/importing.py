"""Inventory import: YAML (the whole inventory) or CSV (a device list), all or nothing.

The file is validated completely before anything is written; every problem is reported with
the file, line and field, and one bad row imports nothing. Rows are matched by their natural
key (slug, name, prefix), so importing the same file twice changes nothing.

Input is bounded before it can cost much: the file's size (only MAX_FILE_BYTES + 1 bytes are ever
read), the YAML's values and nesting, the rows per section and the interfaces per device. YAML
aliases are refused outright: an inventory has no use for them, and they are what an alias bomb
(a small file that expands to billions of values) is made of.
"""

from __future__ import annotations

import csv
import datetime
import io
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.db import transaction
from django.utils import timezone

from inventory.choices import PARENT_LEVEL, CredentialKind, DeviceRole, DeviceStatus, LinkTier, Platform, RegionLevel
from inventory.models import (
    BIT_RATE_MAX,
    IF_INDEX_RANGE,
    PORT_RANGE,
    SLUG_PATTERN,
    Agency,
    Credential,
    Device,
    HostKeySource,
    Interface,
    Link,
    LinkEnd,
    Prefix,
    Region,
    Site,
    SshHostKey,
    link_tier,
    move_region_paths,
)
from platforms.hostkeys import key_line, line_fingerprint, parse_key_line
from web.errors import OneNetError
from web.tables import UNPRINTABLE  # control characters: never part of a name; harmful on terminals, in XLSX

SECTIONS = ("credentials", "regions", "agencies", "sites", "devices", "links", "prefixes")
CSV_DEVICE_COLUMNS = ("name", "address", "platform", "role", "site", "status", "vendor", "model", "os_version",
                      "snmp_credential", "ssh_credential", "ssh_host_key")
LINE = "__line__"  # a mapping's own line
FIELD_LINES = "__lines__"  # the line of each of a mapping's values

# Bounds, each a few times what the largest real inventory needs (the lab's city scale: 3,250 devices,
# 24,000 interfaces, 4.4 MB and 400,000 YAML values, which the pure-Python reader takes ~9 s and ~190 MB for).
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_YAML_NODES = 1_000_000  # each costs ~500 bytes and ~16 µs while the document is built
MAX_YAML_DEPTH = 16  # an inventory nests 6 deep (document, section, row, interfaces, interface, value)
MAX_ROWS = 50_000  # per section
MAX_INTERFACES_PER_DEVICE = 10_000
SPLIT_HINT = "split it (importing is idempotent, so the parts can be imported one after another)"
CREDENTIAL_NAME_PATTERN = r"^[-a-zA-Z0-9_]+\Z"  # Credential.name is a Django SlugField


class ImportFailed(OneNetError):
    """The file was not imported; `errors` (also the error's details) name the file, line and field of every
    problem."""

    kind = "INVENTORY_INVALID"

    def __init__(self, errors: list[str]):
        super().__init__(self.kind, f"nothing was imported; fix these {len(errors)} problem(s):\n" + "\n".join(errors))
        self.errors = self.details = errors


class InventoryTooLarge(ImportFailed):
    """The file is past one of the bounds above; nothing was imported."""

    kind = "INVENTORY_TOO_LARGE"


@dataclass
class ImportResult:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, section: str, n: int = 1):
        bucket = getattr(self, kind)
        bucket[section] = bucket.get(section, 0) + n

    def as_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


# -- reading -----------------------------------------------------------------------------------

class _Rows(list):
    """A YAML sequence that remembers the line of each item, so a bad item can be named."""

    lines: list[int]


class _LineLoader(yaml.SafeLoader):
    """A safe YAML loader that records lines (LINE, FIELD_LINES, _Rows.lines) and refuses aliases, deep
    nesting and more than MAX_YAML_NODES values while it builds the document, before they cost memory."""

    def __init__(self, text: str, path: Path):
        super().__init__(text)
        self.path, self.nodes, self.depth = path, 0, 0

    def compose_node(self, parent, index):
        mark = self.peek_event().start_mark
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "YAML aliases (*name) are not accepted in an inventory "
                                              "file; write the value out in full", mark)
        self.nodes += 1
        if self.nodes > MAX_YAML_NODES:
            raise InventoryTooLarge([f"{self.path}:{mark.line + 1}: the file holds more than {MAX_YAML_NODES} "
                                     f"values; {SPLIT_HINT}"])
        if self.depth >= MAX_YAML_DEPTH:
            raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_YAML_DEPTH} levels", mark)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as error:  # e.g. a date 2024-13-45, or a 5,000-digit number
            raise yaml.constructor.ConstructorError(None, None, f"cannot read this value ({error})",
                                                    node.start_mark) from None


def _construct_mapping(loader, node):
    mapping = yaml.SafeLoader.construct_mapping(loader, node)
    mapping[LINE] = node.start_mark.line + 1
    mapping[FIELD_LINES] = {k.value: v.start_mark.line + 1 for k, v in node.value
                            if isinstance(k, yaml.ScalarNode)}
    return mapping


def _construct_sequence(loader, node):
    rows = _Rows()
    rows.lines = [item.start_mark.line + 1 for item in node.value]
    yield rows
    rows.extend(loader.construct_sequence(node))


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _read_bounded(path: Path) -> bytes:
    """At most MAX_FILE_BYTES of the file; one byte more means it is too large (so /dev/zero stops here)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ImportFailed([f"{path}: cannot read the file ({error.strerror or error})"]) from None
    if len(data) > MAX_FILE_BYTES:
        raise InventoryTooLarge([f"{path}: the file is larger than {MAX_FILE_BYTES} bytes; {SPLIT_HINT}"])
    return data


def _too_many_rows(path: Path, section: str, line: int):
    raise InventoryTooLarge([f"{path}:{line}: section '{section}' has more than {MAX_ROWS} rows; split the file"])


def read_document(path: Path) -> dict:
    """The file as an inventory document; CSV files are a device list."""
    data = _read_bounded(path)
    try:
        text = data.decode("utf-8-sig")  # a BOM, as spreadsheet programs write, is not part of the text
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ImportFailed([f"{path}:{line}: not UTF-8 text ({error.reason} at byte {error.start})"]) from None
    if path.suffix.lower() == ".csv":
        return _read_csv(path, text)
    try:
        document = _LineLoader(text, path).get_single_data()
    except yaml.reader.ReaderError as error:  # a character YAML does not allow; `position` counts characters
        line = text.count("\n", 0, error.position) + 1
        raise ImportFailed([f"{path}:{line}: not valid YAML (the character {error.character!r} is not "
                            "allowed)"]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ImportFailed([f"{where}: not valid YAML ({getattr(error, 'problem', None) or error})"]) from None
    if not isinstance(document, dict):
        raise ImportFailed([f"{path}:1: expected a mapping with sections {', '.join(SECTIONS)}"])
    unknown = sorted(str(key) for key in set(document) - set(SECTIONS) - {LINE, FIELD_LINES})
    if unknown:
        raise ImportFailed([f"{path}:1: unknown section(s) {', '.join(unknown)}; expected {', '.join(SECTIONS)}"])
    for section in SECTIONS:
        rows = document.get(section)
        if isinstance(rows, _Rows) and len(rows) > MAX_ROWS:
            _too_many_rows(path, section, rows.lines[MAX_ROWS])
    return document


def _read_csv(path: Path, text: str) -> dict:
    reader = csv.DictReader(io.StringIO(text))
    rows = []
    try:
        missing = [c for c in ("name", "address", "platform", "role", "site") if c not in (reader.fieldnames or [])]
        if missing:
            raise ImportFailed([f"{path}:1: the header lacks column(s) {', '.join(missing)}; "
                                f"expected {','.join(CSV_DEVICE_COLUMNS)}"])
        for row in reader:
            if len(rows) == MAX_ROWS:  # stop reading here: the rest could be millions of lines
                _too_many_rows(path, "devices", reader.line_num)
            clean = {k: (v or "").strip() for k, v in row.items() if isinstance(k, str) and isinstance(v, str | None)}
            clean = {k: v for k, v in clean.items() if v != ""}
            clean[LINE] = reader.line_num
            rows.append(clean)
    except csv.Error as error:  # e.g. a field past csv.field_size_limit()
        raise ImportFailed([f"{path}:{reader.reader.line_num}: not a valid CSV line ({error})"]) from None
    return {"devices": rows}


# -- validating --------------------------------------------------------------------------------

def _kind(value) -> str:
    """What a value is, in the words of an error message."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple | set):
        return "a list"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, datetime.date):
        return "a date"
    return "binary data" if isinstance(value, bytes) else f"a {type(value).__name__}"


def _is_scalar(value) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


class _Checker:
    """Collects every problem of a document, with file, line and field."""

    def __init__(self, path: Path, document: dict):
        self.path = path
        self.document = document
        self.errors: list[str] = []

    def rows(self, section: str) -> list[dict]:
        rows = self.document.get(section)
        if rows is None:
            return []
        if not isinstance(rows, list):
            line = self.document.get(FIELD_LINES, {}).get(section)
            where = f"{self.path}:{line}" if line else str(self.path)
            self.errors.append(f"{where}: section '{section}' must be a list of mappings, not {_kind(rows)}")
            return []
        good = []
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                line = rows.lines[index] if isinstance(rows, _Rows) else 0
                self.errors.append(f"{self.path}:{line}: {section}[{index}]: must be a mapping, not {_kind(row)}")
                continue
            row.setdefault(LINE, 0)
            row["__index__"] = index
            good.append(row)
        return good

    def where(self, section: str, row: dict, field_name: str, line: int | None = None) -> str:
        """"FILE:LINE: devices[3] (name) field 'snmp_port'": the line of the field itself where it is known."""
        key = next((str(v).strip() for v in (row.get("slug"), row.get("name"), row.get("prefix"))
                    if _is_scalar(v) and str(v).strip()), "")
        label = f"{section}[{row['__index__']}]" + (f" ({key})" if key else "")
        line = line or row.get(FIELD_LINES, {}).get(field_name) or row[LINE]
        return f"{self.path}:{line}: {label} field '{field_name}'"

    def fail(self, section: str, row: dict, field_name: str, message: str, line: int | None = None):
        self.errors.append(f"{self.where(section, row, field_name, line)}: {message}")

    def text(self, section, row, name, required=True, max_length=200, strip=True) -> str | None:
        """A single value as text; None when it is missing or wrong (and then the problem is recorded)."""
        value = row.get(name)
        if isinstance(value, bool):  # YAML reads yes/no/on/off unquoted as true/false
            self.fail(section, row, name, "must be text, not true/false (quote it)")
            return None
        if value is not None and not _is_scalar(value):
            self.fail(section, row, name, f"must be a single value, not {_kind(value)}")
            return None
        value = "" if value is None else str(value).strip() if strip else str(value)
        if value.strip() == "":
            if required:
                self.fail(section, row, name, "is required")
            return None
        if len(value) > max_length:
            self.fail(section, row, name, f"is longer than {max_length} characters")
            return None
        if UNPRINTABLE.search(value):
            self.fail(section, row, name, "contains control characters or unpaired surrogates; remove them")
            return None
        return value

    def slug(self, section, row, name, max_length, pattern=SLUG_PATTERN) -> str | None:
        value = self.text(section, row, name, max_length=max_length)
        if value is not None and not re.match(pattern, value):
            self.fail(section, row, name, "is not a slug: use lowercase letters, digits, hyphens or underscores"
                      if pattern == SLUG_PATTERN else "is not a slug: use letters, digits, hyphens or underscores")
            return None
        return value

    def choice(self, section, row, name, choices, required=True, default=None) -> str | None:
        value = self.text(section, row, name, required=required and default is None)
        if value is None:
            return default
        if value not in choices.values:
            self.fail(section, row, name, f"unknown value {value!r}; expected one of {', '.join(choices.values)}")
        return value

    def integer(self, section, row, name, bounds: tuple[int, int], required=False) -> int | None:
        """A whole number within `bounds` (inclusive); None when it is missing or wrong."""
        value = row.get(name)
        if value is None or value == "":
            if required:
                self.fail(section, row, name, "is required")
            return None
        if isinstance(value, bool):
            self.fail(section, row, name, "must be a whole number, not true/false")
            return None
        if isinstance(value, dict | list):
            self.fail(section, row, name, f"must be a single value, not {_kind(value)}")
            return None
        try:
            number = None if isinstance(value, float) and not value.is_integer() else int(value)
        except (TypeError, ValueError, OverflowError):
            number = None
        if number is None:
            self.fail(section, row, name, f"{value!r} is not a whole number")
            return None
        low, high = bounds
        if not low <= number <= high:
            self.fail(section, row, name, f"must be between {low} and {high}")
            return None
        return number

    def boolean(self, section, row, name, default: bool) -> bool:
        value = row.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if not isinstance(value, str | int):
            self.fail(section, row, name, f"must be true/false, not {_kind(value)}")
            return default
        word = str(value).strip().lower()  # a CSV file has only words
        if word in ("true", "yes", "1"):
            return True
        if word in ("false", "no", "0"):
            return False
        self.fail(section, row, name, f"{value!r} is not true/false")
        return default

    def unique(self, section, rows, key):
        seen: dict[str, int] = {}
        for row in rows:
            value = row.get(key)
            if not _is_scalar(value):
                continue  # missing or not a single value: text() reports it
            if value in seen:
                self.fail(section, row, key, f"duplicate {key} {value!r} (also on line {seen[value]})")
            else:
                seen[value] = row.get(FIELD_LINES, {}).get(key) or row[LINE]


def validate(path: Path, document: dict) -> dict:
    """Check the whole document against itself and the database; the cleaned rows per section."""
    check = _Checker(path, document)
    clean: dict[str, list[dict]] = {section: [] for section in SECTIONS}

    credentials = {c.name: c.kind for c in Credential.objects.all()}
    rows = check.rows("credentials")
    check.unique("credentials", rows, "name")
    existing_credentials = set(credentials)
    for row in rows:
        item = {"name": check.slug("credentials", row, "name", 64, CREDENTIAL_NAME_PATTERN),
                "kind": check.choice("credentials", row, "kind", CredentialKind),
                "username": check.text("credentials", row, "username", required=False, max_length=64) or "",
                "snmp_version": check.text("credentials", row, "snmp_version", required=False, max_length=2) or "2c",
                "secret": check.text("credentials", row, "secret", required=False, max_length=1024, strip=False)}
        if item["snmp_version"] not in ("2c", "3"):
            check.fail("credentials", row, "snmp_version", f"unknown SNMP version {item['snmp_version']!r}; "
                       "expected 2c or 3")
        if item["secret"] is None and item["name"] and item["name"] not in existing_credentials:
            check.fail("credentials", row, "secret", "is required for a new credential")
        if item["name"]:
            credentials[item["name"]] = item["kind"]
        clean["credentials"].append(item)

    regions = {r.slug: r.level for r in Region.objects.all()}
    region_parents = dict(Region.objects.values_list("slug", "parent__slug"))
    rows = check.rows("regions")
    check.unique("regions", rows, "slug")
    for row in rows:
        item = {"slug": check.slug("regions", row, "slug", 64),
                "name": check.text("regions", row, "name", max_length=100),
                "level": check.choice("regions", row, "level", RegionLevel),
                "parent": check.text("regions", row, "parent", required=False, max_length=64), LINE: row[LINE],
                FIELD_LINES: row.get(FIELD_LINES, {}), "__index__": row["__index__"]}
        if item["slug"]:
            regions[item["slug"]] = item["level"]
            region_parents[item["slug"]] = item["parent"]
        clean["regions"].append(item)
    for item in clean["regions"]:
        parent = item["parent"]
        if parent and parent not in regions:
            check.fail("regions", item, "parent", f"region {parent!r} does not exist")
        elif item["level"] in PARENT_LEVEL:
            expected = PARENT_LEVEL[item["level"]]
            actual = regions.get(parent) if parent else None
            if actual != expected:
                check.fail("regions", item, "parent", f"a {item['level']} region needs a "
                           f"{expected or 'missing'} parent, not {actual or 'none'}")
        # Walk up from each region; coming back to it is a cycle.
        seen, cursor = {item["slug"]}, parent
        while cursor:
            if cursor in seen:
                check.fail("regions", item, "parent", f"the region tree has a cycle through {cursor!r}")
                break
            seen.add(cursor)
            cursor = region_parents.get(cursor)

    agencies = set(Agency.objects.values_list("slug", flat=True))
    rows = check.rows("agencies")
    check.unique("agencies", rows, "slug")
    for row in rows:
        item = {"slug": check.slug("agencies", row, "slug", 64),
                "name": check.text("agencies", row, "name", max_length=120),
                "region": check.text("agencies", row, "region", max_length=64)}
        if item["region"] and item["region"] not in regions:
            check.fail("agencies", row, "region", f"region {item['region']!r} does not exist")
        agencies.add(item["slug"])
        clean["agencies"].append(item)

    sites = set(Site.objects.values_list("slug", flat=True))
    rows = check.rows("sites")
    check.unique("sites", rows, "slug")
    for row in rows:
        item = {"slug": check.slug("sites", row, "slug", 80),
                "name": check.text("sites", row, "name", max_length=120),
                "region": check.text("sites", row, "region", max_length=64),
                "agency": check.text("sites", row, "agency", required=False, max_length=64),
                "expected": check.boolean("sites", row, "expected", True)}
        if item["region"] and item["region"] not in regions:
            check.fail("sites", row, "region", f"region {item['region']!r} does not exist")
        if item["agency"] and item["agency"] not in agencies:
            check.fail("sites", row, "agency", f"agency {item['agency']!r} does not exist")
        sites.add(item["slug"])
        clean["sites"].append(item)

    interfaces = {f"{d}:{i}" for d, i in Interface.objects.values_list("device__name", "name")}
    rows = check.rows("devices")
    check.unique("devices", rows, "name")
    for row in rows:
        item = {"name": check.text("devices", row, "name", max_length=80),
                "address": check.text("devices", row, "address", max_length=45),
                "platform": check.choice("devices", row, "platform", Platform),
                "role": check.choice("devices", row, "role", DeviceRole),
                "site": check.text("devices", row, "site", max_length=80),
                "status": check.choice("devices", row, "status", DeviceStatus, default=DeviceStatus.ACTIVE),
                "vendor": check.text("devices", row, "vendor", required=False, max_length=40) or "",
                "model": check.text("devices", row, "model", required=False, max_length=60) or "",
                "os_version": check.text("devices", row, "os_version", required=False, max_length=60) or "",
                "snmp_credential": check.text("devices", row, "snmp_credential", required=False, max_length=64),
                "ssh_credential": check.text("devices", row, "ssh_credential", required=False, max_length=64),
                "snmp_port": check.integer("devices", row, "snmp_port", PORT_RANGE) or 161,
                "ssh_port": check.integer("devices", row, "ssh_port", PORT_RANGE) or 22,
                "expect_polling": check.boolean("devices", row, "expect_polling", True),
                "expect_backup": check.boolean("devices", row, "expect_backup", True),
                "ssh_host_key": check.text("devices", row, "ssh_host_key", required=False, max_length=16384),
                "interfaces": []}
        if item["ssh_host_key"]:
            try:
                item["ssh_host_key"] = key_line(parse_key_line(item["ssh_host_key"]))  # without a comment
            except ValueError as error:
                check.fail("devices", row, "ssh_host_key", str(error))
        if item["address"]:
            try:
                item["address"] = str(ipaddress.ip_address(item["address"]))
            except ValueError:
                check.fail("devices", row, "address", f"{item['address']!r} is not an IP address")
        if item["site"] and item["site"] not in sites:
            check.fail("devices", row, "site", f"site {item['site']!r} does not exist")
        for key, kind in (("snmp_credential", "snmp"), ("ssh_credential", "ssh")):
            name = item[key]
            if name and credentials.get(name) != kind:
                check.fail("devices", row, key, f"no {kind} credential named {name!r}" if name not in credentials
                           else f"credential {name!r} is {credentials[name]}, not {kind}")
        listed = row.get("interfaces")
        if listed is not None and not isinstance(listed, list):
            check.fail("devices", row, "interfaces", f"must be a list of mappings, not {_kind(listed)}")
            listed = None
        if listed and len(listed) > MAX_INTERFACES_PER_DEVICE:
            raise InventoryTooLarge([f"{check.where('devices', row, 'interfaces')}: more than "
                                     f"{MAX_INTERFACES_PER_DEVICE} interfaces; {SPLIT_HINT}"])
        names = set()
        for i_index, interface in enumerate(listed or []):
            if not isinstance(interface, dict):
                check.fail("devices", row, f"interfaces[{i_index}]", f"must be a mapping, not {_kind(interface)}",
                           line=listed.lines[i_index] if isinstance(listed, _Rows) else None)
                continue
            # The interface's fields under their full names, so errors read "interfaces[2].if_index".
            prefix = f"interfaces[{i_index}]."
            sub = {**{prefix + k: v for k, v in interface.items() if k not in (LINE, FIELD_LINES)},
                   FIELD_LINES: {prefix + k: line for k, line in interface.get(FIELD_LINES, {}).items()},
                   "name": item["name"], "__index__": row["__index__"], LINE: interface.get(LINE, row[LINE])}
            i_name = check.text("devices", sub, prefix + "name", max_length=64)
            if i_name is None:
                continue
            if i_name in names:
                check.fail("devices", sub, prefix + "name", f"duplicate interface {i_name!r}")
            names.add(i_name)
            item["interfaces"].append({
                "name": i_name,
                "if_index": check.integer("devices", sub, prefix + "if_index", IF_INDEX_RANGE),
                "description": check.text("devices", sub, prefix + "description", required=False,
                                          max_length=255) or "",
                "speed_bps": check.integer("devices", sub, prefix + "speed_bps", (0, BIT_RATE_MAX)) or 0})
            interfaces.add(f"{item['name']}:{i_name}")
        clean["devices"].append(item)

    rows = check.rows("links")
    for row in rows:
        item = {"a": check.text("links", row, "a", max_length=150), "b": check.text("links", row, "b", max_length=150),
                "capacity_bps": check.integer("links", row, "capacity_bps", (1, BIT_RATE_MAX), required=True),
                "tier": check.choice("links", row, "tier", LinkTier)}
        for end in ("a", "b"):
            if item[end] and item[end] not in interfaces:
                check.fail("links", row, end, f"interface {item[end]!r} does not exist (expected DEVICE:INTERFACE)")
        clean["links"].append(item)

    rows = check.rows("prefixes")
    check.unique("prefixes", rows, "prefix")
    for row in rows:
        item = {"prefix": check.text("prefixes", row, "prefix", max_length=49),
                "agency": check.text("prefixes", row, "agency", required=False, max_length=64),
                "site": check.text("prefixes", row, "site", required=False, max_length=80),
                "description": check.text("prefixes", row, "description", required=False) or ""}
        if item["prefix"]:
            try:
                item["prefix"] = str(ipaddress.ip_network(item["prefix"], strict=True))
            except ValueError as error:
                check.fail("prefixes", row, "prefix", f"not a network prefix ({error})")
        if item["agency"] and item["agency"] not in agencies:
            check.fail("prefixes", row, "agency", f"agency {item['agency']!r} does not exist")
        if item["site"] and item["site"] not in sites:
            check.fail("prefixes", row, "site", f"site {item['site']!r} does not exist")
        clean["prefixes"].append(item)

    if check.errors:
        raise ImportFailed(check.errors)
    return clean


# -- writing -----------------------------------------------------------------------------------

def _upsert(model, key: str, rows: list[dict], result: ImportResult, section: str, fields: list[str]):
    """Create missing rows and update changed ones, in bulk; unchanged rows are not touched."""
    existing = {getattr(o, key): o for o in model.objects.filter(**{f"{key}__in": [r[key] for r in rows]})}
    to_create, to_update = [], []
    for row in rows:
        values = {f: row[f] for f in fields}
        obj = existing.get(row[key])
        if obj is None:
            to_create.append(model(**{key: row[key]}, **values))
        elif any(getattr(obj, f) != v for f, v in values.items()):
            for f, v in values.items():
                setattr(obj, f, v)
            to_update.append(obj)
        else:
            result.count("unchanged", section)
    model.objects.bulk_create(to_create, batch_size=500)
    if to_update:
        model.objects.bulk_update(to_update, fields, batch_size=500)
    result.count("created", section, len(to_create)) if to_create else None
    result.count("updated", section, len(to_update)) if to_update else None


def _write(clean: dict, result: ImportResult):
    for row in clean["credentials"]:
        credential = Credential.objects.filter(name=row["name"]).first()
        if credential is None:
            credential = Credential(name=row["name"], kind=row["kind"], username=row["username"],
                                    snmp_version=row["snmp_version"])
            credential.secret = row["secret"]
            credential.save()
            result.count("created", "credentials")
        elif (credential.kind, credential.username, credential.snmp_version) != (
                row["kind"], row["username"], row["snmp_version"]) or (
                row["secret"] is not None and not credential.has_secret(row["secret"])):
            credential.kind, credential.username = row["kind"], row["username"]
            credential.snmp_version = row["snmp_version"]
            if row["secret"] is not None:
                credential.secret = row["secret"]
            credential.save()
            result.count("updated", "credentials")
        else:
            result.count("unchanged", "credentials")

    # Regions level by level, so every parent exists (with its path) before its children. A region that moves
    # takes its whole subtree along, through the one function Region.save (the admin) uses too.
    for level in RegionLevel.values:
        rows = [r for r in clean["regions"] if r["level"] == level]
        if not rows:
            continue
        by_slug = {r.slug: r for r in Region.objects.filter(slug__in={r["parent"] for r in rows if r["parent"]})}
        old_paths = dict(Region.objects.filter(slug__in=[r["slug"] for r in rows]).values_list("slug", "path"))
        for row in rows:
            parent = by_slug.get(row["parent"])
            row["parent_id"] = parent.pk if parent else None
            row["path"] = (parent.path if parent else "/") + row["slug"] + "/"
        _upsert(Region, "slug", rows, result, "regions", ["name", "level", "parent_id", "path"])
        for row in rows:
            old_path = old_paths.get(row["slug"])
            if old_path and old_path != row["path"]:
                move_region_paths(old_path, row["path"])

    region_ids = dict(Region.objects.values_list("slug", "pk"))
    for row in clean["agencies"]:
        row["region_id"] = region_ids[row["region"]]
    _upsert(Agency, "slug", clean["agencies"], result, "agencies", ["name", "region_id"])

    agency_ids = dict(Agency.objects.values_list("slug", "pk"))
    for row in clean["sites"]:
        row["region_id"] = region_ids[row["region"]]
        row["agency_id"] = agency_ids.get(row["agency"])
    _upsert(Site, "slug", clean["sites"], result, "sites", ["name", "region_id", "agency_id", "expected"])

    site_ids = dict(Site.objects.values_list("slug", "pk"))
    credential_ids = dict(Credential.objects.values_list("name", "pk"))
    device_fields = ["address", "platform", "role", "site_id", "status", "vendor", "model", "os_version",
                     "snmp_credential_id", "ssh_credential_id", "snmp_port", "ssh_port", "expect_polling",
                     "expect_backup"]
    for row in clean["devices"]:
        row["site_id"] = site_ids[row["site"]]
        row["snmp_credential_id"] = credential_ids.get(row["snmp_credential"])
        row["ssh_credential_id"] = credential_ids.get(row["ssh_credential"])
    _upsert(Device, "name", clean["devices"], result, "devices", device_fields)

    _write_host_keys(clean["devices"], result)
    _write_interfaces(clean["devices"], result)
    _write_links(clean["links"], result)

    for row in clean["prefixes"]:
        _write_prefix(row, region_ids, agency_ids, site_ids, result)


def _write_host_keys(devices: list[dict], result: ImportResult):
    """Pin the SSH host keys the file names; a device without one keeps what it has (first use or accepted)."""
    wanted = {d["name"]: d["ssh_host_key"] for d in devices if d["ssh_host_key"]}
    if not wanted:
        return
    device_ids = dict(Device.objects.filter(name__in=wanted).values_list("name", "pk"))
    existing = {k.device_id: k for k in SshHostKey.objects.filter(device_id__in=device_ids.values())}
    now = timezone.now()
    for name, key in wanted.items():
        row = existing.get(device_ids[name]) or SshHostKey(device_id=device_ids[name])
        if row.key == key:
            result.count("unchanged", "ssh_host_keys")
            continue
        result.count("updated" if row.key else "created", "ssh_host_keys")
        row.key, row.fingerprint, row.source, row.pinned_at, row.pinned_by = (
            key, line_fingerprint(key), HostKeySource.INVENTORY, now, "")
        if row.offered_key == key:  # the key a device offered is now the one the inventory vouches for
            row.offered_key, row.offered_fingerprint, row.offered_at = "", "", None
        row.save()


def _write_interfaces(devices: list[dict], result: ImportResult):
    device_ids = dict(Device.objects.filter(name__in=[d["name"] for d in devices]).values_list("name", "pk"))
    existing = {(i.device_id, i.name): i for i in Interface.objects.filter(device_id__in=device_ids.values())}
    fields = ["if_index", "description", "speed_bps"]
    to_create, to_update = [], []
    for device in devices:
        device_id = device_ids[device["name"]]
        for row in device["interfaces"]:
            obj = existing.get((device_id, row["name"]))
            if obj is None:
                to_create.append(Interface(device_id=device_id, name=row["name"], **{f: row[f] for f in fields}))
            elif any(getattr(obj, f) != row[f] for f in fields):
                for f in fields:
                    setattr(obj, f, row[f])
                to_update.append(obj)
            else:
                result.count("unchanged", "interfaces")
    Interface.objects.bulk_create(to_create, batch_size=1000)
    Interface.objects.bulk_update(to_update, fields, batch_size=1000)
    if to_create:
        result.count("created", "interfaces", len(to_create))
    if to_update:
        result.count("updated", "interfaces", len(to_update))


def _write_links(rows: list[dict], result: ImportResult):
    if not rows:
        return
    interface_ids, ends = {}, {}
    for pk, device, name, role, path in Interface.objects.values_list(
            "pk", "device__name", "name", "device__role", "device__site__region__path"):
        interface_ids[f"{device}:{name}"] = pk
        ends[pk] = LinkEnd(role, path)
    existing = {(link.a_interface_id, link.b_interface_id): link for link in Link.objects.all()}
    to_create, to_update = [], []
    for row in rows:
        key = (interface_ids[row["a"]], interface_ids[row["b"]])
        tier = link_tier(row["tier"], ends[key[0]], ends[key[1]])  # from the roles at both ends, where they tell
        link = existing.get(key)
        if link is None:
            to_create.append(Link(a_interface_id=key[0], b_interface_id=key[1], capacity_bps=row["capacity_bps"],
                                  tier=tier))
        elif (link.capacity_bps, link.tier) != (row["capacity_bps"], tier):
            link.capacity_bps, link.tier = row["capacity_bps"], tier
            to_update.append(link)
        else:
            result.count("unchanged", "links")
    Link.objects.bulk_create(to_create, batch_size=1000)
    Link.objects.bulk_update(to_update, ["capacity_bps", "tier"], batch_size=1000)
    if to_create:
        result.count("created", "links", len(to_create))
    if to_update:
        result.count("updated", "links", len(to_update))


def _write_prefix(row, region_ids, agency_ids, site_ids, result: ImportResult):
    site = Site.objects.filter(pk=site_ids.get(row["site"])).first() if row["site"] else None
    agency = Agency.objects.filter(pk=agency_ids.get(row["agency"])).first() if row["agency"] else None
    # A prefix belongs where its site or agency is; one with neither belongs to the whole network.
    region_id = site.region_id if site else agency.region_id if agency else Region.objects.filter(
        parent__isnull=True).order_by("pk").values_list("pk", flat=True).first()
    if region_id is None:
        raise ImportFailed([f"prefix {row['prefix']}: no region to attach it to; import a city region first"])
    values = {"agency_id": agency.pk if agency else None, "site_id": site.pk if site else None,
              "region_id": region_id, "description": row["description"]}
    prefix = Prefix.objects.filter(prefix=row["prefix"]).first()
    if prefix is None:
        Prefix(prefix=row["prefix"], **values).save()
        result.count("created", "prefixes")
    elif any(getattr(prefix, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(prefix, k, v)
        prefix.save()
        result.count("updated", "prefixes")
    else:
        result.count("unchanged", "prefixes")


def import_document(document: dict, source: str = "<document>") -> ImportResult:
    """Validate and write an inventory document in one transaction."""
    clean = validate(Path(source), document)
    result = ImportResult()
    with transaction.atomic():
        _write(clean, result)
    return result


def import_file(path: str | Path) -> ImportResult:
    path = Path(path)
    return import_document(read_document(path), str(path))
