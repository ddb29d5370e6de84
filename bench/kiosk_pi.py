"""The kiosk benchmarks on a Raspberry Pi budget: start-up, tap and memory, each run twice in one
go, unrestricted and inside a CPU quota of one fifth of one core (a cgroup, 2 ms per 10 ms).

    python bench/kiosk_pi.py [--quick] [--only startup,tap,memory] [--no-quota]

Each bench script runs as a child process, first as it is, then confined from its first
instruction (it joins the cgroup between fork and exec); whatever it starts is confined too,
except what stands in for another machine (the broker, the slow link), which the tap bench moves
back out. The quota stands in for a Raspberry Pi 4: one of its cores runs this Python several
times slower than a desktop core. Where no cgroup can be written (not root, a read-only
/sys/fs/cgroup, no cpu controller) it says why and runs only the unrestricted pass.

Each bench's own output is shown as it comes; a table at the end puts the figures of both passes
side by side with the ratio quota/unrestricted, and the goals under the quota: cold start
< 1.5 s, tap to next screen p99 < 50 ms with the broker up, down and slow, RSS < 200 MB after
10,000 ratings.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import _common
import _cpuquota

BENCH = Path(__file__).resolve().parent
BENCHES = ("startup", "tap", "memory")
_NUMBER = r"([-+]?\d+(?:\.\d+)?)"


@dataclass(frozen=True)
class Figure:
    """One number read from a bench's output: ``pattern`` has one group, the value."""

    bench: str
    label: str
    pattern: str
    unit: str
    goal: float | None = None  # under the quota, the value must stay below it

    def read(self, lines: list[str]) -> float | None:
        for line in reversed(lines):
            match = re.search(self.pattern, line)
            if match:
                return float(match.group(1))
        return None


FIGURES = (
    Figure("startup", "cold start, median", rf"^kiosk \(.*: median_s={_NUMBER}", "s", 1.5),
    Figure("startup", "cold start, p90", rf"^kiosk \(.*p90_s={_NUMBER}", "s"),
    Figure("startup", "  CPU used by then (median)", rf"^kiosk \(.*cpu_median_s={_NUMBER}", "s"),
    Figure("startup", "  imports (median)", rf"^kiosk phases.*imports={_NUMBER}", "s"),
    Figure(
        "startup",
        "  start screen built and painted (median)",
        rf"^kiosk phases.*start_screen={_NUMBER}",
        "s",
    ),
    Figure(
        "startup",
        "ready (everything built, outbox open), median",
        rf"^kiosk ready \(.*\): median_s={_NUMBER}",
        "s",
    ),
    Figure(
        "startup", "  CPU used by then (median)", rf"^kiosk ready .*cpu_median_s={_NUMBER}", "s"
    ),
    Figure("startup", "baseline: empty QWidget", rf"^baseline \(.*: median_s={_NUMBER}", "s"),
    Figure("startup", "  baseline CPU (median)", rf"^baseline \(.*cpu_median_s={_NUMBER}", "s"),
    Figure("tap", "tap p99, broker up", rf"^up: .*p99_ms={_NUMBER}", "ms", 50.0),
    Figure("tap", "tap p99, broker down", rf"^down: .*p99_ms={_NUMBER}", "ms", 50.0),
    Figure("tap", "tap p99, broker slow", rf"^slow: .*p99_ms={_NUMBER}", "ms", 50.0),
    Figure("tap", "tap p50, broker up", rf"^up: .*p50_ms={_NUMBER}", "ms"),
    Figure("tap", "baseline: sqlite insert p99", rf"^baseline \(sqlite.*p99_ms={_NUMBER}", "ms"),
    Figure("memory", "rss after build", rf"^rss after build: {_NUMBER} MB", "MB"),
    Figure("memory", "rss at the end", rf"^goal: final rss .*\(final {_NUMBER} MB", "MB", 200.0),
    Figure("memory", "growth / 1000 ratings", rf"^growth per 1000 .*: {_NUMBER} MB", "MB"),
)


def bench_command(name: str, quick: bool, runs: int | None = None) -> list[str]:
    script = BENCH / f"kiosk_{name}.py"
    extra: list[str] = ["--quick"] if quick else []
    if name == "startup" and runs:
        extra = ["--runs", str(runs)]
    return [sys.executable, str(script), *extra]


def run(
    name: str, command: list[str], start: Callable[..., subprocess.Popen[str]], label: str
) -> list[str]:
    """Run one bench, echoing its output with a prefix; its lines, or raise if it failed."""
    shown = " ".join(Path(c).name if c.endswith(".py") else c for c in command[1:])
    print(f"## {name}, {label}: {shown}")
    began = time.monotonic()
    proc = start(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
    )
    lines: list[str] = []
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            print(f"   {line}", end="", flush=True)
        code = proc.wait()
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)
    if code != 0:
        raise RuntimeError(f"{name} ({label}) exited {code}")
    print(f"## {name}, {label}: done in {time.monotonic() - began:.0f} s wall")
    return lines


def plain(command: list[str], **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(command, text=True, **kwargs)  # type: ignore[call-overload,no-any-return]


def throttling(quota: _cpuquota.CpuQuota) -> str:
    """The kernel's count of periods in which the quota ran out (cpu.stat)."""
    try:
        stat = dict(
            line.split() for line in (quota.path / "cpu.stat").read_text().splitlines() if line
        )
    except (OSError, ValueError):
        return "cpu.stat unreadable"
    if quota.version == 1:
        throttled_s = int(stat.get("throttled_time", 0)) / 1e9
    else:
        throttled_s = int(stat.get("throttled_usec", 0)) / 1e6
    return (
        f"periods={stat.get('nr_periods', '?')} throttled={stat.get('nr_throttled', '?')} "
        f"throttled_s={throttled_s:.1f}"
    )


def table(free: dict[str, list[str]], confined: dict[str, list[str]], share: float) -> None:
    print()
    print(f"| figure | unrestricted | quota {share:.1f} core | quota/unrestricted | goal (quota) |")
    print("|---|---:|---:|---:|---|")
    for figure in FIGURES:
        if figure.bench not in free:
            continue
        a = figure.read(free[figure.bench])
        b = figure.read(confined[figure.bench]) if figure.bench in confined else None
        shown_a = f"{a:.3g} {figure.unit}" if a is not None else "-"
        shown_b = f"{b:.3g} {figure.unit}" if b is not None else "skipped"
        rel = _common.ratio(b, a) if a is not None and b is not None else "-"
        goal = ""
        if figure.goal is not None:
            value = b if b is not None else a
            verdict = "met" if value is not None and value < figure.goal else "NOT met"
            where = "" if b is not None else " (unrestricted: no quota run)"
            goal = f"< {figure.goal:g} {figure.unit}: {verdict}{where}" if value is not None else ""
        print(f"| {figure.bench}: {figure.label} | {shown_a} | {shown_b} | {rel} | {goal} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="each bench in its short form")
    parser.add_argument("--only", default=",".join(BENCHES), help="startup,tap,memory")
    parser.add_argument("--no-quota", action="store_true", help="the unrestricted pass only")
    parser.add_argument("--runs", type=int, help="start-up runs of each variant (default 10)")
    parser.add_argument(
        "--quota-us", type=int, default=_cpuquota.QUOTA_US, help="CPU per period (2000)"
    )
    parser.add_argument(
        "--period-us", type=int, default=_cpuquota.PERIOD_US, help="the period (10000)"
    )
    args = parser.parse_args()
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = set(names) - set(BENCHES)
    if unknown:
        parser.error(f"unknown benches: {', '.join(sorted(unknown))}")
    _common.sigterm_as_interrupt()

    quota: _cpuquota.CpuQuota | None = None
    if args.no_quota:
        print("# quota run: skipped (--no-quota)")
    else:
        try:
            quota = _cpuquota.open_quota(quota_us=args.quota_us, period_us=args.period_us)
            print(f"# quota run: {quota.describe()}")
        except _cpuquota.QuotaUnavailable as exc:
            print(f"# quota run: skipped, no cgroup can be written here ({exc})")
    try:
        load = Path("/proc/loadavg").read_text().split()[:3]
        print(f"# {os.cpu_count()} CPUs, load average {' '.join(load)} before the run")
    except OSError:
        pass
    free: dict[str, list[str]] = {}
    confined: dict[str, list[str]] = {}
    try:
        for name in names:
            command = bench_command(name, args.quick, args.runs)
            free[name] = run(name, command, plain, "unrestricted")
            if quota is not None:
                confined[name] = run(name, command, quota.popen, f"quota {quota.share:.1f} core")
                print(f"## {name}, quota so far: {throttling(quota)}")
    finally:
        if quota is not None:
            quota.remove()
    table(free, confined, quota.share if quota else _cpuquota.QUOTA_US / _cpuquota.PERIOD_US)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
