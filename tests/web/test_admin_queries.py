"""Every Django admin list page makes the same number of queries for a page of many rows as for a few: related
objects shown in a column are joined (`list_select_related`), never fetched one query per row."""

import datetime
import itertools

import pytest
from django.contrib import admin
from django.db import IntegrityError, connection, models, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from web.admin import ADMIN_TITLE

MANY = 30
# Optional references a row must leave empty (the model allows one of them only).
LEFT_EMPTY = {"policies.Waiver": ("region",),
              "django_celery_beat.PeriodicTask": ("clocked", "crontab", "solar")}
_counter = itertools.count(1)


def _value(field):
    """A valid value for a required field, unique across calls (unique fields and unique_together hold)."""
    n = next(_counter)
    if field.choices:
        return field.choices[n % len(field.choices)][0]
    if isinstance(field, models.DateTimeField):
        return timezone.now() - datetime.timedelta(minutes=n)
    if isinstance(field, models.DateField):
        return timezone.localdate() - datetime.timedelta(days=n)
    if isinstance(field, models.GenericIPAddressField):
        return f"10.250.{n // 250}.{n % 250 + 1}"
    if isinstance(field, models.DecimalField | models.IntegerField | models.FloatField):
        return n % 90
    if isinstance(field, models.BinaryField):
        return b"x"
    if isinstance(field, models.CharField | models.TextField):
        return f"x{n}"[:field.max_length or 50]
    raise AssertionError(f"no value for {field.model.__name__}.{field.name} ({type(field).__name__})")


def make_row(model, making=()):
    """One row of `model` with every required field and every foreign key filled (related rows made when none
    exists), so a column showing a related object has one to show. A clash with a unique constraint (two random
    references that must differ) tries again."""
    for attempt in range(20):
        try:
            with transaction.atomic():
                return model._default_manager.create(**_values(model, (*making, model)))
        except IntegrityError:
            if attempt == 19:
                raise
    return None


def _values(model, making) -> dict:
    values = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            continue
        if field.is_relation:
            related = field.related_model
            if field.one_to_one:  # a row of its own, when one is required
                values[field.name] = None if field.null else make_row(related, making)
            elif field.name not in LEFT_EMPTY.get(model._meta.label, ()):
                existing = related._default_manager.order_by("?").first()
                # an optional reference back into the rows being made stays empty (it would never end)
                values[field.name] = existing or (None if related in making and field.null
                                                  else make_row(related, making))
        elif not (field.null or field.blank or field.has_default()):
            values[field.name] = _value(field)
    return values


def changelist_queries(client, model, pks=None) -> tuple[int, int]:
    """(queries, rows shown) of the model's admin list page, filtered to `pks` when given."""
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    if pks is not None:
        url += "?pk__in=" + ",".join(str(pk) for pk in pks)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries), response.context["cl"].result_count


MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)


@pytest.mark.parametrize("model", MODELS, ids=[m._meta.label for m in MODELS])
def test_an_admin_list_page_makes_as_many_queries_for_many_rows_as_for_a_few(client, make_user, demo_inventory, model):
    client.force_login(make_user("root", role="admin", superuser=True))
    for _ in range(max(0, MANY - model._default_manager.count())):
        make_row(model)
    pks = list(model._default_manager.order_by("pk").values_list("pk", flat=True))
    few, shown_few = changelist_queries(client, model, pks[:2])
    many, shown_many = changelist_queries(client, model, pks[:MANY])
    assert (shown_few, shown_many) == (2, MANY)
    assert many == few, f"{model._meta.label}: {few} queries for 2 rows, {many} for {MANY}"


def test_the_admin_is_branded_onenet(client, make_user):
    client.force_login(make_user("root", role="admin", superuser=True))
    page = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert page.count("OneNet 一张网") >= 2 and "Django" not in page  # the <title> and the header
    with translation.override("zh-hans"):
        assert str(ADMIN_TITLE) == "OneNet 一张网"
