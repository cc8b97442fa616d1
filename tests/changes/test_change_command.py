"""`manage.py change apply` as DESIGN's contract gives it: one change for one device, the dry run's diff, and with
`--approve-as` the whole pipeline at once; statuses dry_run | committed | rolled_back | failed | awaiting_approval."""

import io
import json

import pytest
from django.core.management import call_command

from tests.changes.conftest import CONFIRM_S, harmless_lines, lab_devices, running_config

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]


def change(*args) -> dict:
    out = io.StringIO()
    call_command("change", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_apply_dry_runs_waits_for_approval_and_commits(lab_inventory, engineers, put_back, tmp_path):
    device = lab_devices(lab_inventory, "vrp8")[2]
    put_back(device.name)
    lines = tmp_path / "change.cfg"
    lines.write_text("\n".join(harmless_lines(device)) + "\n")
    common = ["--device", device.name, "--config-file", str(lines), "--confirm-timeout", str(CONFIRM_S)]

    dry = change("apply", *common, "--as", "alice", "--dry-run")
    assert dry["status"] == "dry_run" and [d["status"] for d in dry["devices"]] == ["dry_run"]
    assert "+ description onenet-change-test" in dry["devices"][0]["diff"]
    assert "onenet-change-test" not in running_config(device.name)

    waiting = change("apply", *common, "--as", "alice")
    assert [d["status"] for d in waiting["devices"]] == ["awaiting_approval"]
    done = change("approve", str(waiting["change"]), "--as", "bob")
    assert done["status"] == "completed" and done["devices"][0]["status"] == "confirmed"

    again = change("apply", *common, "--as", "alice", "--approve-as", "bob")
    assert [(d["device"], d["status"], d["reason"]) for d in again["devices"]] == [
        (device.name, "committed", "already in place")]

    other = lab_devices(lab_inventory, "rgos")[2]
    put_back(other.name)
    lines.write_text("\n".join(harmless_lines(other)) + "\n")
    document = change("apply", "--device", other.name, "--config-file", str(lines), "--as", "alice", "--approve-as",
                      "bob", "--reason", "a test")
    assert [(d["device"], d["status"]) for d in document["devices"]] == [(other.name, "committed")]
    assert "onenet-change-test" in running_config(other.name)
    shown = change("show", str(document["change"]))
    assert [e["action"] for e in shown["audit"]][-2:] == ["backup", "completed"]
