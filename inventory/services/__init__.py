"""Inventory logic: import/export and the coverage report. Views and commands call these."""

from inventory.services.coverage import coverage_report
from inventory.services.exporting import export_devices_csv, export_document, export_yaml
from inventory.services.importing import ImportFailed, ImportResult, import_document, import_file

__all__ = ["ImportFailed", "ImportResult", "coverage_report", "export_devices_csv", "export_document",
           "export_yaml", "import_document", "import_file"]
