"""Built-in change templates (changes/change_templates.yaml): the "New change" form can start from one.

A template has a key, an English and a Chinese title and reason, and per platform slug the config-file lines in
that platform's syntax. The file is read and checked once, at start-up: a mistake is an ImproperlyConfigured that
names the file, the template and the field, and no template is ever half-valid later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from django.core.exceptions import ImproperlyConfigured

from inventory.choices import Platform
from web.errors import OneNetError

TEMPLATES_FILE = Path(__file__).resolve().parent.parent / "change_templates.yaml"
KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")
FIELDS = {"key", "title", "title_zh", "reason", "reason_zh", "platforms"}
MAX_BYTES = 256 * 1024


@dataclass(frozen=True)
class ChangeTemplate:
    key: str
    title: str
    title_zh: str
    reason: str
    reason_zh: str
    platforms: dict[str, str]  # platform slug → config-file lines (text)

    def _shown(self, english: str, chinese: str) -> str:
        from django.utils.translation import get_language

        return chinese if (get_language() or "").startswith("zh") and chinese else english

    @property
    def shown_title(self) -> str:
        return self._shown(self.title, self.title_zh)

    @property
    def shown_reason(self) -> str:
        return self._shown(self.reason, self.reason_zh)


def load(path: Path = TEMPLATES_FILE) -> dict[str, ChangeTemplate]:
    """The templates of `path` by key, in file order; every mistake of the file in one ImproperlyConfigured."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ImproperlyConfigured(f"{path}: cannot read the change templates ({error.strerror or error}).") from None
    if len(data) > MAX_BYTES:
        raise ImproperlyConfigured(f"{path}: larger than {MAX_BYTES} bytes; a template file is a few kilobytes.")
    try:
        document = yaml.safe_load(data.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ImproperlyConfigured(f"{path}: not valid UTF-8 YAML ({error}).") from None
    if not isinstance(document, dict) or set(document) != {"templates"} or not isinstance(document["templates"],
                                                                                          list):
        raise ImproperlyConfigured(f"{path}: expected one key, 'templates', holding a list of templates.")
    errors: list[str] = []
    found: dict[str, ChangeTemplate] = {}
    for index, item in enumerate(document["templates"]):
        template = _template(item, f"{path}: templates[{index}]", errors)
        if template is None:
            continue
        if template.key in found:
            errors.append(f"{path}: templates[{index}] ({template.key}): the key is used twice; give each its own.")
            continue
        found[template.key] = template
    if errors:
        raise ImproperlyConfigured("The change templates are not valid:\n" + "\n".join(errors))
    return found


def _template(item, where: str, errors: list[str]) -> ChangeTemplate | None:
    from changes.services.requests import check_lines

    if not isinstance(item, dict):
        errors.append(f"{where}: expected a mapping ({', '.join(sorted(FIELDS))}).")
        return None
    key = item.get("key")
    if isinstance(key, str):
        where = f"{where} ({key})"
    before = len(errors)
    unknown = set(item) - FIELDS
    if unknown:
        errors.append(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}; expected "
                      f"{', '.join(sorted(FIELDS))}.")
    if not isinstance(key, str) or not KEY.match(key):
        errors.append(f"{where} field 'key': expected lowercase letters, digits and dashes (such as ntp-servers).")
    for name in ("title", "title_zh", "reason", "reason_zh"):
        value = item.get(name)
        if not isinstance(value, str) or not value.strip():
            errors.append(f"{where} field '{name}': is required (text, English and Chinese).")
        elif len(value) > (200 if name.startswith("title") else 4000):
            errors.append(f"{where} field '{name}': too long.")
    texts = item.get("platforms")
    if not isinstance(texts, dict) or not texts:
        errors.append(f"{where} field 'platforms': expected a mapping of platform slug to config lines.")
        texts = {}
    for slug, text in texts.items():
        if slug not in Platform.values:
            errors.append(f"{where} field 'platforms.{slug}': unknown platform; use one of "
                          f"{', '.join(Platform.values)}.")
        elif not isinstance(text, str):
            errors.append(f"{where} field 'platforms.{slug}': expected config lines (text).")
        else:
            try:
                check_lines(text.splitlines(), f"the {slug} lines")
            except OneNetError as error:
                errors.append(f"{where} field 'platforms.{slug}': {error.message}")
    if len(errors) > before:
        return None
    return ChangeTemplate(key, item["title"].strip(), item["title_zh"].strip(), item["reason"].strip(),
                          item["reason_zh"].strip(), {slug: text.strip("\n") for slug, text in texts.items()})


@cache
def templates() -> dict[str, ChangeTemplate]:
    """The built-in templates, read once."""
    return load()
