"""Formatting for the console: bit rates and ratios people read at a glance."""

from django import template

register = template.Library()

UNITS = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]


@register.filter
def bps(value):
    """1234567890 → '1.23 Gbit/s'."""
    if value is None or value == "":
        return "–"
    value = float(value)
    for size, prefix in UNITS:
        if abs(value) >= size:
            return f"{value / size:.3g} {prefix}bit/s"
    return f"{value:.0f} bit/s"


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
