from pathlib import Path

import yaml
from django.conf import settings

from web.commands import OneNetCommand


class Command(OneNetCommand):
    help = "The simulated extranet: generate its inventory (lab inventory)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        inv = sub.add_parser("inventory", help="generate the lab topology as an inventory, and import it")
        inv.add_argument("--scale", choices=("demo", "city"), default="demo")
        inv.add_argument("--seed", type=int, default=1)
        inv.add_argument("--output", help="write the inventory YAML to this file")
        inv.add_argument("--no-import", action="store_true", help="only write the file, do not import it")
        inv.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        getattr(self, "handle_" + options["action"])(options)

    def handle_inventory(self, options):
        from inventory.services import ImportFailed, import_document
        from lab.topology import generate

        topology = generate(options["scale"], options["seed"], settings.LAB_ADDRESS_BASE)
        document = topology.to_inventory()
        if options.get("output"):
            Path(options["output"]).write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
        result = {"scale": options["scale"], "seed": options["seed"], "devices": len(topology.devices),
                  "links": len(topology.links), "regions": len(topology.regions), "agencies": len(topology.agencies)}
        if not options["no_import"]:
            try:
                result["import"] = import_document(document, f"lab:{options['scale']}:{options['seed']}").as_dict()
            except ImportFailed as error:
                self.fail(options, error.code, "the generated inventory did not import.", error.errors)
        self.emit(options, result, f"lab {options['scale']} seed {options['seed']}: {len(topology.devices)} devices, "
                                   f"{len(topology.links)} links" + ("" if options["no_import"] else ", imported"))
