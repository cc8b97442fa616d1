"""Logins are throttled per user and per client address, lockouts expire, and every failure is a security event."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse

from web.models import SecurityEvent

pytestmark = pytest.mark.django_db
RIGHT = "correct-horse-battery"  # make_user's password


def _login(client, username, password, address="10.1.1.1", url=None):
    return client.post(url or reverse("login"), {"username": username, "password": password},
                       REMOTE_ADDR=address)


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def _lockout_ends():
    """Time passes: every recorded attempt is older than the lockout."""
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= settings.AXES_COOLOFF_TIME + timedelta(minutes=1)
        attempt.save(update_fields=["attempt_time"])


def test_fifty_wrong_passwords_lock_the_account_until_the_lockout_ends(client, make_user):
    make_user("county-eng", role="engineer")
    answers = [_login(client, "county-eng", f"guess-{n}", address=f"10.2.{n}.1").status_code for n in range(50)]
    assert answers[0] == 200 and answers[-1] == 429  # from fifty addresses: it is the account that locks
    assert _login(client, "county-eng", RIGHT, address="10.9.9.9").status_code == 429
    assert not _logged_in(client)
    _lockout_ends()
    response = _login(client, "county-eng", RIGHT, address="10.9.9.9")
    assert response.status_code == 302 and _logged_in(client)


def test_one_address_guessing_many_user_names_is_locked_out(client, make_user):
    make_user("victim", role="manager")
    for n in range(settings.AXES_FAILURE_LIMIT):
        _login(client, f"user-{n}", "guess", address="10.3.3.3")
    assert _login(client, "victim", RIGHT, address="10.3.3.3").status_code == 429
    assert _login(client, "victim", RIGHT, address="10.4.4.4").status_code == 302


def test_the_admin_login_is_throttled_too(client, make_user):
    make_user("root", role="admin", superuser=True)
    url = reverse("admin:login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "root", "guess", url=url)
    assert _login(client, "root", RIGHT, url=url).status_code == 429
    assert not _logged_in(client)


def test_every_failure_and_lockout_is_a_security_event_only_admins_see(client, make_user):
    make_user("victim", role="engineer")
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        _login(client, "victim", "guess", address="10.5.5.5")
    failures = SecurityEvent.objects.filter(kind="login_failed", username="victim", address="10.5.5.5")
    assert failures.count() == settings.AXES_FAILURE_LIMIT + 2
    assert SecurityEvent.objects.filter(kind="locked_out", username="victim").exists()

    events = reverse("admin:web_securityevent_changelist")
    client.force_login(make_user("root", role="admin", superuser=True))
    page = client.get(events)
    assert page.status_code == 200 and "victim" in page.content.decode()
    event = failures.first()
    assert client.post(reverse("admin:web_securityevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert SecurityEvent.objects.filter(pk=event.pk).exists()
    client.force_login(make_user("staff-eng", role="engineer"))
    assert client.get(events).status_code in (302, 403)


def test_a_session_ends_after_the_idle_timeout_and_pages_send_a_content_security_policy(client, make_user):
    assert settings.SESSION_COOKIE_AGE == 30 * 60 and settings.SESSION_SAVE_EVERY_REQUEST
    client.force_login(make_user("mgr", role="manager"))
    response = client.get(reverse("overview"))
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-eval" not in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert 0 < response.cookies["sessionid"]["max-age"] <= 30 * 60
    assert "onchange=" not in response.content.decode()  # no inline handlers: the policy would block them


def test_metrics_answer_only_loopback_without_a_token(client):
    assert client.get(reverse("metrics"), REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get(reverse("metrics"), REMOTE_ADDR="10.8.8.8").status_code == 403
