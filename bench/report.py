"""How every benchmark prints its figures: one JSON document with --json, else one `key: value` per line."""

import json


def print_report(report: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report))
        return
    width = max(len(key) for key in report)
    for key, value in report.items():
        print(f"{key:>{width}}: {value}")
