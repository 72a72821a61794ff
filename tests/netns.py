"""Network namespaces for fault tests: two namespaces joined by a veth pair, removed after.

Each test gets its own pair, named `pctl-sim-<pid>-<n>` and `pctl-ctl-<pid>-<n>`, with the
veth ends at 10.213.45.1/30 (simulators) and 10.213.45.2/30 (padctl). Packet loss and
partitions are iptables rules inside the simulators' namespace. Everything is removed when
the test ends, whatever happened; leftovers of dead test runs are removed before a new pair is
made. Needs root and `ip netns` (iproute2) and `iptables` (Debian packages iproute2, iptables).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import psutil

PREFIX = "pctl-"
SIM_ADDRESS = "10.213.45.1"
CTL_ADDRESS = "10.213.45.2"
PREFIX_LENGTH = 30
_COMMAND_TIMEOUT_S = 10.0
_serial = itertools.count(1)


class NetnsError(RuntimeError):
    """A namespace command failed; the message has the command and what it printed."""


def unavailable_reason() -> str | None:
    """Why namespace tests cannot run here, or None if they can."""
    if os.geteuid() != 0:
        return "network namespace tests need root (CI runs them as root)"
    for tool in ("ip", "iptables"):
        if shutil.which(tool) is None:
            return f"'{tool}' is not installed (Debian packages iproute2 and iptables)"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"'ip netns' is unavailable: {probe.stderr.strip() or probe.returncode}"
    return None


def _run_sync(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False, timeout=10)


def remove_leftovers() -> list[str]:
    """Delete namespaces with our prefix whose test process is gone; returns their names."""
    listing = _run_sync("ip", "netns", "list").stdout.split()
    removed = []
    for name in listing:
        parts = name.split("-")
        if not name.startswith(PREFIX) or len(parts) != 4 or not parts[2].isdigit():
            continue
        if psutil.pid_exists(int(parts[2])):
            continue  # another test run, still alive
        _kill_processes_in(name)
        _run_sync("ip", "netns", "delete", name)
        removed.append(name)
    return removed


def _kill_processes_in(namespace: str) -> None:
    pids = _run_sync("ip", "netns", "pids", namespace).stdout.split()
    for pid in pids:
        try:
            psutil.Process(int(pid)).kill()
        except (psutil.NoSuchProcess, ValueError):
            continue


async def run(*args: str) -> str:
    """Run a command to completion; NetnsError with its output if it fails."""
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), _COMMAND_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise NetnsError(f"{' '.join(args)}: no answer within {_COMMAND_TIMEOUT_S} s") from None
    if process.returncode != 0:
        raise NetnsError(f"{' '.join(args)}: exit {process.returncode}: {err.decode().strip()}")
    return out.decode()


@dataclass(frozen=True)
class NetnsPair:
    """Two namespaces joined by a veth pair."""

    sim: str
    ctl: str
    sim_veth: str
    ctl_veth: str
    sim_address: str = SIM_ADDRESS
    ctl_address: str = CTL_ADDRESS

    def exec_in(self, namespace: str, *command: str) -> list[str]:
        """The argv that runs `command` inside `namespace`."""
        return ["ip", "netns", "exec", namespace, *command]

    async def iptables(self, *rule: str) -> None:
        """One iptables command in the simulators' namespace (the link's far end)."""
        await run(*self.exec_in(self.sim, "iptables", "-w", *rule))

    async def partition_port(self, port: int) -> None:
        """Drop every packet to and from one TCP port of the simulators' side."""
        await self.iptables("-I", "INPUT", "-p", "tcp", "--dport", str(port), "-j", "DROP")
        await self.iptables("-I", "OUTPUT", "-p", "tcp", "--sport", str(port), "-j", "DROP")

    async def lose_packets(self, probability: float) -> None:
        """Drop each packet on the veth, both ways, with `probability`."""
        for chain, direction in (("INPUT", "-i"), ("OUTPUT", "-o")):
            await self.iptables(
                "-I", chain, direction, self.sim_veth, "-m", "statistic",
                "--mode", "random", "--probability", f"{probability:.3f}", "-j", "DROP",
            )  # fmt: skip

    async def heal(self) -> None:
        """Remove every rule: the link is whole again."""
        await self.iptables("-F", "INPUT")
        await self.iptables("-F", "OUTPUT")

    async def rules(self) -> str:
        return await run(*self.exec_in(self.sim, "iptables", "-w", "-S"))


@asynccontextmanager
async def netns_pair() -> AsyncIterator[NetnsPair]:
    """A fresh namespace pair for one test; removed on exit, whatever happened.

    Processes started in the namespaces must be ended by the caller before this exits (a
    namespace with a process in it outlives `ip netns delete`); any still there are killed.
    """
    remove_leftovers()
    serial = next(_serial)
    pid = os.getpid()
    pair = NetnsPair(
        sim=f"{PREFIX}sim-{pid}-{serial}",
        ctl=f"{PREFIX}ctl-{pid}-{serial}",
        sim_veth=f"pvs{pid}-{serial}"[:15],
        ctl_veth=f"pvc{pid}-{serial}"[:15],
    )
    created: list[str] = []
    try:
        for namespace in (pair.sim, pair.ctl):
            await run("ip", "netns", "add", namespace)
            created.append(namespace)
        await run(
            "ip", "link", "add", pair.sim_veth, "netns", pair.sim, "type", "veth",
            "peer", "name", pair.ctl_veth, "netns", pair.ctl,
        )  # fmt: skip
        for namespace, veth, address in (
            (pair.sim, pair.sim_veth, pair.sim_address),
            (pair.ctl, pair.ctl_veth, pair.ctl_address),
        ):
            await run(
                "ip", "-n", namespace, "addr", "add", f"{address}/{PREFIX_LENGTH}", "dev", veth
            )
            await run("ip", "-n", namespace, "link", "set", "lo", "up")
            await run("ip", "-n", namespace, "link", "set", veth, "up")
        yield pair
    finally:
        for namespace in created:
            _kill_processes_in(namespace)
            _run_sync("ip", "netns", "delete", namespace)  # the veth pair goes with them
