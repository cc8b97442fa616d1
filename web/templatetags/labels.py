"""The display label of a stored choice value, for fields that keep a value without declaring its choices (a
timeline's from/to status): `{% load labels %}{{ event.from_status|label:"threat.choices.AlertStatus" }}`. A value
the vocabulary does not know (an old slug) shows as it is, never as an error."""

from functools import cache

from django import template
from django.utils.module_loading import import_string

register = template.Library()


@cache
def _labels(vocabulary: str) -> dict:
    return dict(import_string(vocabulary).choices)


@register.filter
def label(value, vocabulary: str):
    if value in (None, ""):
        return ""
    return _labels(vocabulary).get(value, value)
