"""The lab's real SSH devices (Huawei VRP, H3C Comware, Cisco IOS, Ruijie RGOS) on 127.x.y.z addresses.

`serve(topology, port, shard, shards, state_dir)` runs them; `python -m lab.ssh` is the command line.  Each device
honours what its running config does to its management plane, and takes the lab-only `lab-fault` command
(`management`).
"""

from lab.ssh.configs import expected_faults, generate_config
from lab.ssh.server import serve, start

__all__ = ["expected_faults", "generate_config", "serve", "start"]
