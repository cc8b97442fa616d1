"""The compliance card of the Overview (web.overview): the score of the user's scope and of each county, from the
same counts as the compliance pages (policies.services: waived failures apart, errors as failures)."""

from collections import Counter

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from policies.models import RuleResult
from policies.services import count_by, score_row, total
from web.overview import Card
from web.tables import Percent


def cards(scope) -> list[Card]:
    by_path = count_by(scope(RuleResult.objects.all()), "device__site__region__path")
    if not by_path:
        return []
    by_county: dict[str, Counter] = {}
    for path, counts in by_path.items():
        by_county.setdefault(scope.bucket(path), Counter()).update(counts)
    rows = {key: score_row(counts) for key, counts in by_county.items()}
    whole = score_row(total(by_path.values()))

    def share(row):  # the score unrounded: exact shares of the same counts as the compliance pages
        checked = row["pass"] + row["fail"]
        return Percent(row["pass"] / checked) if checked else None

    return [Card("compliance", _("Compliance score"), share(whole), {k: share(r) for k, r in rows.items()},
                 additive=False, unit="%", order=80, link=reverse("compliance:overview"),
                 lines=[_("%(p)s checks pass, %(f)s fail, %(w)s waived") % {
                     "p": whole["pass"], "f": whole["fail"], "w": whole["waived"]}],
                 counts={k: (r["pass"], r["fail"]) for k, r in rows.items()})]
