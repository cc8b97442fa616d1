"""'Collect now' sends polls for the user's part of the network to the county queues, and only there."""

import pytest
from django.urls import reverse

from web.celery import app

pytestmark = pytest.mark.django_db


@pytest.fixture
def memory_broker():
    """kombu's in-memory transport: the real publishing path, with the messages readable in the test."""
    def reset_pool():
        # celery caches its connection and producer pools; drop them so the next send uses the new URL
        app._pool = None
        app.amqp._producer_pool = None

    saved = app.conf.broker_url
    app.conf.broker_url = "memory://"
    reset_pool()
    yield
    app.conf.broker_url = saved
    reset_pool()


def queued(queue: str) -> list[dict]:
    bodies = []
    with app.connection_for_read() as connection:
        simple = connection.SimpleQueue(queue)
        while True:
            try:
                message = simple.get(block=False)
            except simple.Empty:
                break
            bodies.append(message.headers)
            message.ack()
        simple.close()
    return bodies


def test_a_county_engineer_collects_only_their_county(client, demo_inventory, make_user, memory_broker):
    client.force_login(make_user("eng", "engineer", region="nanjiang-t01"))
    response = client.post(reverse("bandwidth:collect"))
    assert response.status_code == 302
    sent = queued("county.nanjiang")
    assert [m["task"] for m in sent] == ["collectors.poll_region"]
    assert queued("county.zhongxin") == [] and queued("city") == []


def test_a_city_engineer_collects_every_county_and_the_city(client, demo_inventory, make_user, memory_broker):
    client.force_login(make_user("eng", "engineer"))
    client.post(reverse("bandwidth:collect"))
    assert len(queued("city")) == 1
    assert all(len(queued(f"county.{slug}")) == 1 for slug in ("nanjiang", "zhongxin", "yuntai"))


def test_a_manager_may_not_start_a_poll(client, demo_inventory, make_user, memory_broker):
    client.force_login(make_user("boss", "manager"))
    assert client.post(reverse("bandwidth:collect")).status_code == 403
    assert client.get(reverse("bandwidth:collect")).status_code == 405
