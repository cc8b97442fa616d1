"""The lab's SNMP agents (v1/v2c, v3 USM authNoPriv) for the generated topology and for `.snmprec` recordings.

Run `python -m lab.snmp --help`; the pieces are `ber` (codec), `mib` (a device's MIB view), `snmprec`
(recordings) and `agent` (the asyncio UDP server: `serve`, `serve_recordings`).
"""
