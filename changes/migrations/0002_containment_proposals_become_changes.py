"""The threat app's containment proposals (their own status and approval) become change requests awaiting
approval on the one pipeline, before threat drops its table: nothing proposed is lost. A rejected proposal
becomes a rejected change; a proposed or approved one waits for a second engineer's approval now."""

from django.db import migrations


def forwards(apps, schema_editor):
    Proposal = apps.get_model("threat", "ContainmentProposal")
    ChangeRequest = apps.get_model("changes", "ChangeRequest")
    ChangeTask = apps.get_model("changes", "ChangeTask")
    AuditEntry = apps.get_model("changes", "AuditEntry")
    User = apps.get_model("auth", "User")
    fallback = User.objects.filter(is_superuser=True).order_by("pk").first()
    for proposal in Proposal.objects.select_related("device__site__region", "alert", "created_by").order_by("pk"):
        author = proposal.created_by or fallback
        if author is None:  # no user at all to own it: nothing can approve it either
            continue
        rejected = proposal.status == "rejected"
        change = ChangeRequest.objects.create(
            title=f"Contain alert #{proposal.alert_id}: {proposal.kind} {proposal.port} on {proposal.device.name}"[:200],
            reason=f"containment proposal #{proposal.pk} ({proposal.status}), moved onto the change pipeline",
            source="containment", status="rejected" if rejected else "awaiting_approval",
            region=proposal.device.site.region, targets=f"{proposal.device.name} {proposal.port}",
            candidate={"kind": proposal.kind, "port": proposal.port, "host": proposal.alert.src, "acl": ""},
            author=author, alert=proposal.alert, confirm_timeout=300)
        ChangeTask.objects.create(change=change, device=proposal.device, lines=proposal.lines, diff=proposal.diff,
                                  batch=1, status="cancelled" if rejected else "pending")
        AuditEntry.objects.create(change=change, user=author, username=author.username, device=proposal.device,
                                  device_name=proposal.device.name, action="created", outcome="info",
                                  message=f"from containment proposal #{proposal.pk} ({proposal.status})",
                                  diff=proposal.diff)


class Migration(migrations.Migration):
    dependencies = [("changes", "0001_initial"), ("threat", "0001_initial")]
    run_before = [("threat", "0002_containment_moves_to_changes")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
