from web.commands import OneNetCommand


class Command(OneNetCommand):
    help = ("Coverage of the extranet: expected vs connected (installed) and answering-now sites and devices per "
            "region, with the gaps and the installed sites that do not answer.")

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--region", help="slug of the region to report on (default: the whole network)")

    def handle(self, *args, **options):
        from inventory.models import Region
        from inventory.services import coverage_report

        root = "/"
        if options.get("region"):
            region = Region.objects.filter(slug=options["region"]).first()
            if region is None:
                self.fail(options, "REGION_UNKNOWN", f"no region {options['region']!r}; "
                                                     "see `manage.py inventory export` for the slugs.")
            root = region.path
        from django.utils import timezone

        report = coverage_report(root)
        for site in report["not_answering"]:  # times in the configured zone, with its offset
            when = site["last_answer"]
            site["last_answer"] = timezone.localtime(when).isoformat(timespec="seconds") if when else None
        lines = [f"{c['name']}: sites {c['sites_connected']}/{c['sites_expected']} ({c['site_coverage_pct']}%), "
                 f"{c['sites_answering']} answering now; devices {c['devices_connected']}/{c['devices_expected']}, "
                 f"{c['devices_answering']} answering now" for c in report["counties"]]
        lines.append(f"gaps: {len(report['gaps'])}; installed but not answering: {len(report['not_answering'])}")
        self.emit(options, report, "\n".join(lines))
