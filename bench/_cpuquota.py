"""A CPU quota for benchmark processes: a cgroup that grants ``quota_us`` of CPU per ``period_us``
(by default 2 ms per 10 ms, one fifth of one core), as a stand-in for a Raspberry Pi 4 running
the kiosk on a machine several times faster.

cgroup v2 (``cpu.max``) is used where its hierarchy has the cpu controller, else cgroup v1
(``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``). Where neither can be written (no root, a read-only
``/sys/fs/cgroup``, a container without the controller) :func:`open_quota` raises
:class:`QuotaUnavailable` with the reason, so a benchmark can say so and skip its quota run.

A confined process passes the quota on to its children. A benchmark that starts something
standing in for another machine (the broker, a slow link) moves it back out with
:func:`exempt`, which reads where to from the environment the runner set
(:meth:`CpuQuota.environment`). Standard library only, so importing it costs nothing.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

QUOTA_US = 2_000
PERIOD_US = 10_000
ENV_CGROUP = "HAILONG_BENCH_CGROUP"  # the confining cgroup's directory
ENV_HOME = "HAILONG_BENCH_CGROUP_HOME"  # where exempted processes go back to


class QuotaUnavailable(Exception):
    """No cgroup CPU controller this process can write; the message says why."""


@dataclass(frozen=True)
class CpuQuota:
    path: Path
    home: Path
    version: int
    quota_us: int
    period_us: int

    @property
    def share(self) -> float:
        """The fraction of one core granted (0.2 for 2 ms per 10 ms)."""
        return self.quota_us / self.period_us

    def describe(self) -> str:
        return (
            f"cgroup v{self.version} {self.path}: {self.quota_us} us of CPU per "
            f"{self.period_us} us ({self.share:.2f} of one core)"
        )

    def add(self, pid: int) -> None:
        """Move a running process (and, from then on, the children it starts) into the quota."""
        _write(self.path / "cgroup.procs", str(pid))

    def preexec(self) -> Callable[[], None]:
        """For ``Popen(preexec_fn=...)``: the child joins the quota before it execs, so every
        instruction of the new program counts."""
        procs = str(self.path / "cgroup.procs")

        def join() -> None:
            with open(procs, "w") as handle:  # plain open: little between fork and exec
                handle.write(str(os.getpid()))

        return join

    def environment(self) -> dict[str, str]:
        """Variables telling a confined benchmark where :func:`exempt` moves processes to."""
        return {ENV_CGROUP: str(self.path), ENV_HOME: str(self.home)}

    def popen(self, command: list[str], **kwargs: object) -> subprocess.Popen[str]:
        """Start ``command`` inside the quota, with :meth:`environment` added to its env."""
        env = dict(kwargs.pop("env", None) or os.environ)  # type: ignore[call-overload]
        env.update(self.environment())
        return subprocess.Popen(  # type: ignore[call-overload,no-any-return]
            command, preexec_fn=self.preexec(), env=env, text=True, **kwargs
        )

    def remove(self) -> None:
        """Move whatever is left back home and delete the cgroup."""
        for _ in range(5):
            pids = _pids(self.path)
            for pid in pids:
                with contextlib.suppress(OSError):
                    _write(self.home / "cgroup.procs", pid)
            with contextlib.suppress(OSError):
                self.path.rmdir()
                return
        with contextlib.suppress(OSError):
            self.path.rmdir()


def _write(path: Path, text: str) -> None:
    with path.open("w") as handle:
        handle.write(text)


def _pids(cgroup: Path) -> list[str]:
    try:
        return (cgroup / "cgroup.procs").read_text().split()
    except OSError:
        return []


def _mounts() -> list[tuple[str, str, set[str]]]:
    """(mount point, type, options) of every cgroup file system."""
    found = []
    for line in Path("/proc/mounts").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[2] in ("cgroup", "cgroup2"):
            found.append((parts[1], parts[2], set(parts[3].split(","))))
    return found


def _own_cgroups() -> dict[str, str]:
    """This process's cgroup per hierarchy: ``{"cpu": "/x", ...}`` for v1, ``{"": "/y"}`` for v2."""
    own: dict[str, str] = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _id, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            own[controller] = path
    return own


def _inside(mount: str, relative: str) -> Path:
    return Path(mount) / relative.lstrip("/")


def _try_v2(
    mount: str, relative: str, parent: str, name: str, quota_us: int, period_us: int
) -> CpuQuota:
    """A child of ``parent`` (this process's own cgroup, else the hierarchy's root) with
    ``cpu.max``; exempted processes go back to ``relative``, where this process is."""
    home, under = _inside(mount, relative), _inside(mount, parent)
    controllers = (under / "cgroup.controllers").read_text().split()
    if "cpu" not in controllers:
        raise QuotaUnavailable(f"cgroup v2 at {mount}: no cpu controller in {under}")
    if "cpu" not in (under / "cgroup.subtree_control").read_text().split():
        # Fails for a non-root cgroup that holds processes ("no internal processes").
        _write(under / "cgroup.subtree_control", "+cpu")
    path = under / name
    path.mkdir(exist_ok=True)
    try:
        _write(path / "cpu.max", f"{quota_us} {period_us}")
    except OSError:
        path.rmdir()
        raise
    return CpuQuota(path, home, 2, quota_us, period_us)


def _try_v1(mount: str, relative: str, name: str, quota_us: int, period_us: int) -> CpuQuota:
    home = _inside(mount, relative)
    path = home / name
    path.mkdir(exist_ok=True)
    try:
        # The period first: a quota is checked against the period in force.
        _write(path / "cpu.cfs_period_us", str(period_us))
        _write(path / "cpu.cfs_quota_us", str(quota_us))
    except OSError:
        path.rmdir()
        raise
    return CpuQuota(path, home, 1, quota_us, period_us)


def open_quota(
    name: str | None = None, quota_us: int = QUOTA_US, period_us: int = PERIOD_US
) -> CpuQuota:
    """A new cgroup limited to ``quota_us`` per ``period_us``: under this process's own (with
    cgroup v2, else under the hierarchy's root, where a cgroup holding processes cannot hand the
    cpu controller down).

    Raises QuotaUnavailable with every reason tried when none can be set up."""
    name = name or f"hailong-bench-{os.getpid()}"
    try:
        mounts, own = _mounts(), _own_cgroups()
    except OSError as exc:
        raise QuotaUnavailable(f"cannot read cgroup mounts: {exc}") from exc
    reasons: list[str] = []
    attempts: list[tuple[str, Callable[[], CpuQuota]]] = []
    for mount, kind, _options in mounts:
        if kind == "cgroup2" and "" in own:
            for parent in dict.fromkeys((own[""], "/")):
                attempts.append(
                    (
                        f"v2 {mount} under {parent}",
                        lambda m=mount, p=parent: _try_v2(m, own[""], p, name, quota_us, period_us),
                    )
                )
    for mount, kind, options in mounts:
        if kind == "cgroup" and "cpu" in options and "cpu" in own:
            attempts.append(
                (f"v1 {mount}", lambda m=mount: _try_v1(m, own["cpu"], name, quota_us, period_us))
            )
    if not attempts:
        raise QuotaUnavailable("no cgroup v2 hierarchy and no cgroup v1 cpu controller mounted")
    for label, attempt in attempts:
        try:
            return attempt()
        except (OSError, QuotaUnavailable) as exc:
            reasons.append(f"{label}: {exc}")
    raise QuotaUnavailable("; ".join(reasons))


@contextlib.contextmanager
def cpu_quota(
    name: str | None = None, quota_us: int = QUOTA_US, period_us: int = PERIOD_US
) -> Iterator[CpuQuota]:
    """:func:`open_quota`, removed on exit."""
    quota = open_quota(name, quota_us, period_us)
    try:
        yield quota
    finally:
        quota.remove()


def confined() -> bool:
    """Whether the runner put this process under a quota (it set :meth:`CpuQuota.environment`)."""
    return bool(os.environ.get(ENV_CGROUP))


def exempt(pid: int) -> str | None:
    """Move ``pid`` (a broker, a proxy: another machine in real life) out of the runner's quota.

    Returns None when done or nothing to do, else why it could not (the bench prints it)."""
    home = os.environ.get(ENV_HOME)
    if not home:
        return None
    try:
        _write(Path(home) / "cgroup.procs", str(pid))
    except OSError as exc:
        return f"could not move pid {pid} out of the CPU quota: {exc}"
    return None
