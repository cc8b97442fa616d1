from pathlib import Path

from web.commands import OneNetCommand


class Command(OneNetCommand):
    help = "Import an inventory file (YAML, or CSV for a device list) all-or-nothing, or export the inventory."

    def add_arguments(self, parser):
        # --json lives on each sub-command: argparse lets a sub-parser's default overwrite the parent's.
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import FILE (.yaml/.yml or .csv); one bad row imports nothing")
        imp.add_argument("file")
        imp.add_argument("--json", action="store_true")
        exp = sub.add_parser("export", help="print the inventory as YAML (or the device list as CSV)")
        exp.add_argument("--format", choices=("yaml", "csv"), default="yaml")
        exp.add_argument("--output", help="write to this file instead of stdout")
        exp.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        from inventory.services import ImportFailed, export_devices_csv, export_document, export_yaml, import_file

        if options["action"] == "import":
            path = Path(options["file"])
            if not path.exists():
                self.fail(options, "INVENTORY_FILE_MISSING", f"{path} does not exist; give the path of a YAML or "
                                                             "CSV inventory file.")
            try:
                result = import_file(path)
            except ImportFailed as error:
                self.fail(options, error.code, "nothing was imported; fix the rows below and import again.",
                          error.errors)
            summary = result.as_dict()
            lines = [f"{kind}: " + (", ".join(f"{n} {s}" for s, n in counts.items()) or "nothing")
                     for kind, counts in summary.items()]
            self.emit(options, {"file": str(path), **summary}, "\n".join(lines))
            return
        if options["format"] == "csv":
            text = export_devices_csv()
        else:
            text = export_yaml()
        if options.get("output"):
            Path(options["output"]).write_text(text, encoding="utf-8")
        if options.get("json"):
            document = export_document()
            self.emit(options, document, "")
        elif not options.get("output"):
            self.stdout.write(text)
