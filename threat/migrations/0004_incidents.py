"""Incidents: one per infected host. Existing alerts are grouped: per source address, its open alerts make one
open incident, its closed alerts (resolved, false positive) one resolved incident. Containment proposals (of
incidents) follow their change requests."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


RANK = {"low": 1, "medium": 2, "high": 3, "critical": 4}
OPEN = ("new", "acknowledged", "contained")


def group_alerts(apps, schema_editor):
    Alert, Incident, IncidentEvent = (apps.get_model("threat", "Alert"), apps.get_model("threat", "Incident"),
                                      apps.get_model("threat", "IncidentEvent"))
    Region = apps.get_model("inventory", "Region")
    groups = {}
    for alert in Alert.objects.filter(incident__isnull=True).order_by("received_at", "pk").iterator():
        groups.setdefault((alert.src, alert.status in OPEN), []).append(alert)
    for (src, is_open), alerts in groups.items():
        statuses = {a.status for a in alerts}
        if not is_open:
            status = "resolved"
        elif "new" in statuses:
            status = "open"
        elif "acknowledged" in statuses:
            status = "acknowledged"
        else:
            status = "contained"
        first = alerts[0]
        top = max(alerts, key=lambda a: a.severity_rank)
        located = [a for a in alerts if a.switch_id is not None]
        county = None
        if first.region_id is not None:
            slugs = [s for s in Region.objects.get(pk=first.region_id).path.strip("/").split("/") if s]
            county = Region.objects.filter(slug__in=slugs, level="county").first()
        incident = Incident.objects.create(
            src=src, status=status, severity=top.severity, severity_rank=RANK.get(top.severity, 1),
            kinds=" ".join(sorted({a.kind for a in alerts}))[:200], alert_count=len(alerts),
            first_seen=min(a.first_seen for a in alerts), last_seen=max(a.last_seen for a in alerts),
            received_at=first.received_at, region_id=first.region_id, county=county, agency_id=first.agency_id,
            site_id=first.site_id, mac=located[-1].mac if located else "",
            switch_id=located[-1].switch_id if located else None,
            switch_port=located[-1].switch_port if located else "",
            assignee_id=next((a.assignee_id for a in alerts if a.assignee_id), None))
        Alert.objects.filter(pk__in=[a.pk for a in alerts]).update(incident=incident)
        IncidentEvent.objects.create(incident=incident, kind="opened", text=f"{src}: {len(alerts)} alert(s) grouped")


class Migration(migrations.Migration):

    dependencies = [
        ('changes', '0002_containment_proposals_become_changes'),
        ('inventory', '0004_link_tier_city_core'),
        ('threat', '0003_alert_received_at'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Incident',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('src', models.GenericIPAddressField(verbose_name='source address')),
                ('status', models.CharField(choices=[('open', 'Open'), ('acknowledged', 'Acknowledged'), ('contained', 'Contained'), ('resolved', 'Resolved')], db_index=True, default='open', max_length=16, verbose_name='status')),
                ('severity', models.CharField(choices=[('low', 'Low'), ('medium', 'Medium'), ('high', 'High'), ('critical', 'Critical')], default='low', max_length=8, verbose_name='severity')),
                ('severity_rank', models.PositiveSmallIntegerField(db_index=True, default=1, editable=False)),
                ('kinds', models.CharField(blank=True, max_length=200, verbose_name='kinds')),
                ('alert_count', models.PositiveIntegerField(default=0, verbose_name='alerts')),
                ('first_seen', models.DateTimeField(verbose_name='first seen')),
                ('last_seen', models.DateTimeField(verbose_name='last seen')),
                ('received_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='Received')),
                ('mac', models.CharField(blank=True, max_length=17, verbose_name='MAC')),
                ('switch_port', models.CharField(blank=True, max_length=64, verbose_name='port')),
                ('containment', models.CharField(blank=True, choices=[('proposed', 'Proposed'), ('approved', 'Approved'), ('applied', 'Applied'), ('verified', 'Verified by a backup'), ('rejected', 'Rejected'), ('failed', 'Failed (rolled back)'), ('withdrawn', 'Withdrawn')], max_length=16, verbose_name='containment')),
                ('resolved_at', models.DateTimeField(blank=True, null=True, verbose_name='resolved at')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                ('agency', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='incidents', to='inventory.agency', verbose_name='agency')),
                ('assignee', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='assignee')),
                ('county', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='inventory.region', verbose_name='county/district')),
                ('region', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='incidents', to='inventory.region', verbose_name='region')),
                ('site', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='incidents', to='inventory.site', verbose_name='site')),
                ('switch', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='incidents', to='inventory.device', verbose_name='switch')),
            ],
            options={
                'verbose_name': 'incident',
                'verbose_name_plural': 'incidents',
                'ordering': ['-received_at', '-severity_rank', '-last_seen', '-pk'],
            },
        ),
        migrations.CreateModel(
            name='ContainmentProposal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('shutdown-port', 'Shut the access port'), ('acl-block-host', 'Block the host with an ACL')], max_length=16, verbose_name='containment')),
                ('state', models.CharField(choices=[('proposed', 'Proposed'), ('approved', 'Approved'), ('applied', 'Applied'), ('verified', 'Verified by a backup'), ('rejected', 'Rejected'), ('failed', 'Failed (rolled back)'), ('withdrawn', 'Withdrawn')], db_index=True, default='proposed', max_length=16, verbose_name='state')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                ('verified_at', models.DateTimeField(blank=True, null=True, verbose_name='verified at')),
                ('closed_at', models.DateTimeField(blank=True, null=True, verbose_name='closed at')),
                ('alert', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='threat.alert', verbose_name='alert')),
                ('change', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='proposal', to='changes.changerequest', verbose_name='change')),
                ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='proposed by')),
                ('incident', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='proposals', to='threat.incident', verbose_name='incident')),
            ],
            options={
                'verbose_name': 'containment proposal',
                'verbose_name_plural': 'containment proposals',
                'ordering': ['-created_at', '-pk'],
            },
        ),
        migrations.AddField(
            model_name='alert',
            name='incident',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='alerts', to='threat.incident', verbose_name='incident'),
        ),
        migrations.CreateModel(
            name='IncidentEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('time', models.DateTimeField(auto_now_add=True, verbose_name='time')),
                ('kind', models.CharField(choices=[('opened', 'Incident opened'), ('alert', 'Alert added'), ('status', 'Status changed'), ('assigned', 'Assigned'), ('proposal', 'Containment proposal')], max_length=16, verbose_name='event')),
                ('from_status', models.CharField(blank=True, max_length=16)),
                ('to_status', models.CharField(blank=True, max_length=16)),
                ('text', models.CharField(blank=True, max_length=500, verbose_name='detail')),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='by')),
                ('incident', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='threat.incident', verbose_name='incident')),
            ],
            options={
                'ordering': ['time', 'pk'],
            },
        ),
        migrations.AddConstraint(
            model_name='incident',
            constraint=models.UniqueConstraint(condition=models.Q(('status__in', ['open', 'acknowledged', 'contained'])), fields=('src',), name='one_open_incident_per_source'),
        ),
        migrations.AddConstraint(
            model_name='containmentproposal',
            constraint=models.UniqueConstraint(condition=models.Q(('state__in', ['proposed', 'approved', 'applied'])), fields=('incident',), name='one_active_proposal_per_incident'),
        ),
        migrations.RunPython(group_alerts, migrations.RunPython.noop),
    ]
