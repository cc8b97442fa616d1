"""Bit rates, speeds and capacities as people read them: 1 Gbit/s, 100 Mbit/s, 2.048 Mbit/s, never 1000000000.

The one place the console formats them: the `bps` filter (web.templatetags.onenet) and the `speed` filter here
both call `format_bps`; lists use `web.tables.SpeedColumn`, which exports write as the raw number (bit/s).
"""

from django import template

register = template.Library()

UNITS = [(10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k")]


def format_bps(value, digits: int = 3) -> str:
    """1234567890 → '1.23 Gbit/s' (rates: `digits` significant digits); speeds use more digits so that
    2048000 → '2.048 Mbit/s' and 10**10 → '10 Gbit/s'. None or '' → '–'."""
    if value is None or value == "":
        return "–"
    try:
        value = float(value)
    except (TypeError, ValueError):
        return "–"
    for size, prefix in UNITS:
        if abs(value) >= size:
            return f"{value / size:.{digits}g} {prefix}bit/s"
    return f"{value:.0f} bit/s"


@register.filter
def speed(value):
    """An interface speed or a link capacity: exact to four significant digits (155.5 Mbit/s, 2.048 Mbit/s);
    0 is a speed the device does not report ('–')."""
    return "–" if value == 0 else format_bps(value, 4)
