"""Shared fixtures: the demo inventory from the lab topology, and console users per role and scope."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


def corpus_path(*parts) -> Path:
    """A file of ../shared/corpus; skips when the corpus is absent unless ONENET_REQUIRE_CORPUS=1 (CI)."""
    path = CORPUS.joinpath(*parts)
    if not path.exists():
        if os.environ.get("ONENET_REQUIRE_CORPUS") == "1":
            pytest.fail(f"corpus file {path} is missing and ONENET_REQUIRE_CORPUS=1")
        pytest.skip(f"corpus file {path} is not here (../shared/corpus is read, never copied)")
    return path


@pytest.fixture
def demo_inventory(db):
    """The demo lab topology imported as the inventory; returns the Topology."""
    from inventory.services import import_document
    from lab.topology import generate

    topology = generate("demo", 1)
    import_document(topology.to_inventory(), "demo")
    return topology


@pytest.fixture
def make_user(db):
    from django.contrib.auth import get_user_model

    from inventory.models import Region
    from web.models import Profile

    def make(username, role="engineer", region=None, superuser=False):
        user = get_user_model().objects.create_user(username, password="correct-horse-battery",
                                                    is_staff=superuser, is_superuser=superuser)
        Profile.objects.create(user=user, role=role,
                               region=Region.objects.get(slug=region) if region else None)
        return user

    return make
