"""Formatting for the console: bit rates and ratios people read at a glance."""

from django import template

from web.templatetags.units import format_bps

register = template.Library()


@register.filter
def bps(value):
    """1234567890 → '1.23 Gbit/s' (web.templatetags.units formats every rate, speed and capacity)."""
    return format_bps(value)


@register.filter
def percent(value):
    """0.8734 → '87.3%'."""
    if value is None or value == "":
        return "–"
    return f"{float(value) * 100:.1f}%"


@register.filter
def minutes(value):
    """timedelta(minutes=15) → 15 (lockout and idle times are read in whole minutes)."""
    return "" if value is None else max(1, round(value.total_seconds() / 60))
