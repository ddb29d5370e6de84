"""bench/_cpuquota.py confines a busy child to one fifth of a core, or says why it cannot."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"

# Spins for SPIN seconds of wall time, then prints the CPU time it got over that wall time.
SPIN = 1.0
BUSY = f"""
import time
start_wall, start_cpu = time.monotonic(), time.process_time()
while time.monotonic() - start_wall < {SPIN}:
    pass
print((time.process_time() - start_cpu) / (time.monotonic() - start_wall))
"""


def load_cpuquota() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_cpuquota", BENCH / "_cpuquota.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_a_busy_child_gets_a_fifth_of_a_core() -> None:
    cq = load_cpuquota()
    try:
        quota = cq.open_quota(name="hailong-test-cpuquota")
    except cq.QuotaUnavailable as exc:
        pytest.skip(f"no CPU quota here: {exc}")
    try:
        assert quota.share == pytest.approx(0.2)
        proc = quota.popen([sys.executable, "-c", BUSY], stdout=subprocess.PIPE)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0
        share = float(out.strip())
        # At most the quota (a period's rounding aside); well above nothing: it ran, throttled.
        assert 0.08 < share < 0.3, f"CPU time / wall time = {share:.3f}, quota 0.2"
        assert quota.path.is_dir()
    finally:
        quota.remove()
    assert not quota.path.exists()


def test_a_quota_the_kernel_refuses_is_reported_with_the_reason() -> None:
    """Below 1 ms per period the kernel refuses the quota (EINVAL): the bench hears why, and no
    half-made cgroup is left behind."""
    cq = load_cpuquota()
    name = "hailong-test-cpuquota-refused"
    with pytest.raises(cq.QuotaUnavailable) as refused:
        cq.open_quota(name=name, quota_us=500, period_us=10_000)
    reason = str(refused.value)
    assert "Invalid argument" in reason or "no cgroup" in reason or "Permission" in reason
    for line in Path("/proc/mounts").read_text().splitlines():
        mount = line.split()[1]
        if line.split()[2] in ("cgroup", "cgroup2"):
            assert not (Path(mount) / name).exists()


def test_exempt_outside_a_quota_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    cq = load_cpuquota()
    monkeypatch.delenv(cq.ENV_HOME, raising=False)
    monkeypatch.delenv(cq.ENV_CGROUP, raising=False)
    assert not cq.confined()
    assert cq.exempt(1) is None
