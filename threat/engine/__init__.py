"""Threat detection engine: pure Python, no Django (capture reading, SMB analysis, detectors, scanner)."""

from .scanner import Scanner, scan_files

__all__ = ["Scanner", "scan_files"]
