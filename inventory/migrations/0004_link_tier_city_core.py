# The city core tier (issue 12 item 4): links between the city cores and the egress were filed as city–county links.

from django.db import migrations, models

CITY_CORE_ROLES = {"core", "egress"}
OUTWARD_TIERS = ("internet", "province-city")  # kept as declared: the far end is the ISP's or the province's


def file_city_core_links(apps, schema_editor):
    """Links whose two ends are city cores or the egress, declared as anything but a way out of the city, are
    city core links (what inventory.models.link_tier now derives on import)."""
    Link = apps.get_model("inventory", "Link")
    inside = [pk for pk, a_role, b_role in Link.objects.exclude(tier__in=OUTWARD_TIERS).values_list(
        "pk", "a_interface__device__role", "b_interface__device__role") if {a_role, b_role} <= CITY_CORE_ROLES]
    Link.objects.filter(pk__in=inside).update(tier="city-core")


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0003_slug_and_port_validators'),
    ]

    operations = [
        migrations.AlterField(
            model_name='link',
            name='tier',
            field=models.CharField(choices=[('province-city', 'Province–city'), ('city-core', 'City core'), ('city-county', 'City–county'), ('county-township', 'County–township'), ('township-village', 'Township–village'), ('agency', 'Agency'), ('internet', 'Internet')], max_length=20, verbose_name='tier'),
        ),
        migrations.RunPython(file_city_core_links, migrations.RunPython.noop),
    ]
