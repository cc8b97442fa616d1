from web.commands import OneNetCommand


class Command(OneNetCommand):
    help = "Install the periodic poll/discovery/backup tasks (one set per county queue); print the queue names."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--run-now", action="store_true", help="also send every poll and backup task once now")
        parser.add_argument("--queues", action="store_true",
                            help="only print the queue names: comma-separated for `celery worker -Q` (./onenet "
                                 "reads that line), or {\"queues\": [...]} with --json")

    def handle(self, *args, **options):
        from collectors.services.schedules import install_schedules, queue_names, run_now

        if options["queues"]:
            queues = queue_names()
            self.emit(options, {"queues": queues}, ",".join(queues))
            return
        result = install_schedules()
        if options["run_now"]:
            result["sent"] = run_now()
        self.emit(options, result, f"{result['created']} periodic tasks created; queues: {', '.join(result['queues'])}")
