"""The Pi's kiosk as it runs in the field, here headless: the command in the shipped
hailong-kiosk.service (cage, then the kiosk) with the unit's environment and the shipped
kiosk.env and kiosk.toml, under cage's headless back-end; the kiosk tells the notify socket it
is ready and feeds the watchdog through cage, and a screenshot taken through the compositor
(grim) shows the start screen over the whole output.

Needs Debian's cage, grim and xwayland (Debian 12's cage refuses to start without Xwayland);
skipped, saying which is missing, where they are not installed. cage refuses to run as root: as
root the test runs it in a user namespace (util-linux's unshare), as a user, like the unit's
User=hailong. HAILONG_SCREENSHOTS=<folder> keeps the screenshot as cage-kiosk.png.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from hailong.provision import SecretsLayout
from hailong.settings import load_kiosk

PI = Path(__file__).resolve().parents[2] / "deploy" / "raspberry-pi"
SERVICE = PI / "hailong-kiosk.service"
HEADLESS_OUTPUT = (1280, 720)  # the one output wlroots' headless back-end gives cage
BACKGROUND = (0xFA, 0xFA, 0xFA)  # the start screen's background (kiosk/ui/theme.py NORMAL)
INK = (0x1A, 0x23, 0x7E)  # its title's colour

pytestmark = pytest.mark.timeout(90)


def _missing() -> str | None:
    for tool, package in (("cage", "cage"), ("grim", "grim"), ("Xwayland", "xwayland")):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install {package}; CI: cage grim xwayland)"
    plugins = (
        Path(sys.executable)
        .parents[1]
        .glob("lib/python3*/site-packages/PySide6/Qt/plugins/platforms/libqwayland*.so")
    )
    if not any(plugins):
        return "this PySide6 has no wayland platform plugin (libqwayland.so)"
    if os.geteuid() == 0:
        probe = subprocess.run(
            [*_AS_USER, "true"], capture_output=True, text=True, check=False, timeout=10
        )
        if probe.returncode != 0:
            return f"cannot leave root for cage (unshare --user): {probe.stderr.strip()}"
    return None


# cage refuses root; in a user namespace root is seen as uid 1000 and cannot become root again.
_AS_USER = ["unshare", "--user", "--map-user=1000", "--map-group=1000"]


def service_lines(key: str) -> list[str]:
    """Every value of ``key`` in the unit's [Service] section, in order (systemd accumulates)."""
    return [
        line.split("=", 1)[1].strip()
        for line in SERVICE.read_text(encoding="utf-8").splitlines()
        if line.startswith(f"{key}=")
    ]


def unit_environment() -> dict[str, str]:
    """The unit's Environment= lines, then the shipped kiosk.env (which wins, as in systemd)."""
    env: dict[str, str] = {}
    for value in service_lines("Environment"):
        for pair in shlex.split(value):
            key, _, setting = pair.partition("=")
            env[key] = setting
    for line in (PI / "hailong-kiosk.env").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            env[key] = value
    return env


def cage_version() -> tuple[int, ...]:
    shown = subprocess.run(["cage", "-v"], capture_output=True, text=True, check=False, timeout=10)
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", shown.stdout + shown.stderr)
    return tuple(int(part) for part in match.groups()) if match else (0,)


def field_config(folder: Path, secrets: SecretsLayout) -> Path:
    """The shipped kiosk.toml with its installed folders moved into ``folder``: the secrets
    (laid out as /etc/hailong/secrets) from the test's ``hailong init``, the outbox beside."""
    text = (PI / "kiosk.toml").read_text(encoding="utf-8")
    text = text.replace("/etc/hailong/secrets", str(secrets.root))
    text = text.replace("/var/lib/hailong", str(folder / "state"))
    (folder / "state").mkdir()
    config = folder / "kiosk.toml"
    config.write_text(text, encoding="utf-8")
    load_kiosk(config)  # the shipped file, still valid
    return config


@pytest.fixture
def x_sockets() -> Iterator[None]:
    """Remove what cage's Xwayland leaves in /tmp (Debian 12's cage left a lock and a socket
    after a clean stop); what was there before the test is not touched."""
    folder = Path("/tmp/.X11-unix")
    had_folder = folder.exists()

    def present() -> set[Path]:
        return {*Path("/tmp").glob(".X*-lock"), *(folder.iterdir() if folder.exists() else ())}

    def alive(lock: Path) -> bool:
        text = lock.read_text(errors="replace").strip() if lock.exists() else ""
        if not text.isdecimal():
            return False
        try:
            os.kill(int(text), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    before = present()
    yield
    for path in sorted(present() - before):  # locks (/tmp/.X0-lock) before sockets (X0)
        display = path.name.removeprefix(".").removesuffix("-lock")
        if not alive(Path(f"/tmp/.{display}-lock")):  # never another running X server's
            path.unlink(missing_ok=True)
    if not had_folder:
        with contextlib.suppress(OSError):
            folder.rmdir()


@pytest.fixture
def notify(tmp_path: Path) -> Iterator[tuple[socket.socket, Path]]:
    """The datagram socket systemd would listen on (NOTIFY_SOCKET)."""
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    path.chmod(0o777)  # the kiosk sends as the namespace's user
    yield sock, path
    sock.close()


def _receive(
    sock: socket.socket, wanted: bytes, deadline: float, cage: subprocess.Popen[bytes]
) -> list[bytes]:
    seen: list[bytes] = []
    while not any(message.startswith(wanted) for message in seen):
        assert cage.poll() is None, "cage (or the kiosk in it) exited"
        assert time.monotonic() < deadline, f"no {wanted!r} from the kiosk; got {seen}"
        sock.settimeout(max(0.1, min(1.0, deadline - time.monotonic())))
        try:
            seen.append(sock.recv(4096))
        except TimeoutError:
            continue
    return seen


def _screenshot(run_dir: Path, out: Path) -> Image.Image:
    displays = sorted(p.name for p in run_dir.glob("wayland-*") if not p.name.endswith(".lock"))
    assert displays, f"cage made no Wayland socket in {run_dir}"
    env = {
        "PATH": os.environ["PATH"],
        "XDG_RUNTIME_DIR": str(run_dir),
        "WAYLAND_DISPLAY": displays[0],
    }
    subprocess.run(["grim", str(out)], env=env, check=True, timeout=20, capture_output=True)
    with Image.open(out) as image:
        return image.convert("RGB")


def _share(image: Image.Image, colour: tuple[int, int, int], within: int = 6) -> float:
    counts: list[tuple[int, tuple[int, int, int]]] = (
        image.getcolors(  # type: ignore[assignment]
            maxcolors=image.width * image.height
        )
        or []
    )
    near = 0
    for count, pixel in counts:
        if all(abs(a - b) <= within for a, b in zip(pixel, colour, strict=True)):
            near += count
    return near / (image.width * image.height)


@pytest.mark.skipif((missing := _missing()) is not None, reason=missing or "")
@pytest.mark.usefixtures("x_sockets")
def test_the_shipped_unit_shows_the_start_screen_full_screen_under_cage(
    tmp_path: Path, secrets_layout: SecretsLayout, notify: tuple[socket.socket, Path]
) -> None:
    (exec_start,) = service_lines("ExecStart")
    argv = shlex.split(exec_start)
    split = argv.index("--")
    cage, kiosk = argv[:split], argv[split + 1 :]
    assert Path(cage[0]).name == "cage"
    # This checkout's command and a copy of the shipped config in place of the installed ones.
    assert kiosk[0] == "/opt/hailong/venv/bin/hailong-kiosk"
    kiosk[0] = str(Path(sys.executable).parent / "hailong-kiosk")
    kiosk[kiosk.index("--config") + 1] = str(field_config(tmp_path, secrets_layout))
    cage[0] = shutil.which("cage") or cage[0]
    if cage_version() < (0, 2):
        # Debian 12's cage 0.1.4 on wlroots 0.15's headless back-end was seen to show only its
        # first frame while the output is not turned; turned 180° it shows every frame (and grim
        # turns the picture back). The size and the kiosk's landscape layout are the same.
        cage += ["-r", "-r"]
    run_dir = tmp_path / "run"
    run_dir.mkdir(mode=0o700)
    sock, notify_path = notify
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        **unit_environment(),
        # What the Pi has and this machine lacks: a runtime folder, a screen, systemd's socket.
        "XDG_RUNTIME_DIR": str(run_dir),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "WLR_BACKENDS": "headless",
        "WLR_LIBINPUT_NO_DEVICES": "1",
        "WLR_RENDERER": "pixman",
        "NOTIFY_SOCKET": str(notify_path),
        "WATCHDOG_USEC": "2000000",
    }
    assert env["QT_QPA_PLATFORM"] == "wayland"
    command = [*(_AS_USER if os.geteuid() == 0 else []), *cage, "--", *kiosk]
    log = tmp_path / "cage.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 45
        try:
            _receive(sock, b"READY=1", deadline, process)
            _receive(sock, b"WATCHDOG=1", deadline, process)  # fed from the kiosk's event loop
        except AssertionError as failed:
            raise AssertionError(f"{failed}\n{log.read_text(errors='replace')[-3000:]}") from None
        shots = Path(os.environ.get("HAILONG_SCREENSHOTS") or tmp_path)
        shot = shots / "cage-kiosk.png"
        while True:  # the first frames may still be on their way
            image = _screenshot(run_dir, shot)
            if _share(image, BACKGROUND) > 0.5 or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert image.size == HEADLESS_OUTPUT
        # The kiosk covers the whole output: its background fills the screen, the compositor's
        # black shows nowhere (not even in a corner, where a smaller window would leave it).
        assert _share(image, BACKGROUND) > 0.5
        assert _share(image, (0, 0, 0), within=2) < 0.01
        for corner in ((2, 2), (image.width - 3, 2), (2, image.height - 3)):
            assert image.getpixel(corner) != (0, 0, 0), corner
        assert _share(image, INK, within=24) > 0.001  # the start screen's title is drawn
        assert process.poll() is None  # still serving
    finally:
        # cage first, as systemd stops the unit: it closes the kiosk and removes its sockets.
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # anything of the session left behind
