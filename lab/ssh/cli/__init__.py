"""Vendor command lines for the lab's SSH devices, one module per vendor, picked by platform slug."""

from __future__ import annotations

from lab.ssh.cli.base import Cli, DeviceState


def cli_for(state: DeviceState, username: str) -> Cli:
    """A new session's CLI for the device's platform; an unknown platform is an error."""
    platform = state.device.platform
    if platform == "huawei_vrp":
        from lab.ssh.cli.huawei_vrp import HuaweiCli

        return HuaweiCli(state, username)
    if platform == "hp_comware":
        from lab.ssh.cli.hp_comware import ComwareCli

        return ComwareCli(state, username)
    if platform == "cisco_ios":
        from lab.ssh.cli.cisco_ios import CiscoCli

        return CiscoCli(state, username)
    if platform == "ruijie_os":
        from lab.ssh.cli.cisco_ios import RuijieCli

        return RuijieCli(state, username)
    raise ValueError(f"unknown platform {platform!r}; expected huawei_vrp, hp_comware, cisco_ios or ruijie_os")
