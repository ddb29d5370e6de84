"""Receipt printers (``[printers.<counter>]`` in ``config/hub.toml``): where a counter's receipts
go and how their Vietnamese text is printed, checked against python-escpos's printer profiles so
a profile without a Vietnamese code page is refused at start-up, not at the first receipt."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from hailong.settings.loading import ConfigPath, Section

# python-escpos code pages, named as in its capabilities data, that print Vietnamese: CP1258 on its
# own, or the TCVN-3 pair (one page holds the lower-case letters, the other the capitals).
VIETNAMESE_CODE_PAGES: tuple[tuple[str, ...], ...] = (("CP1258",), ("TCVN-3-1", "TCVN-3-2"))
_BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400)
_KIND_KEYS = {
    "file": ("path",),
    "network": ("host", "port", "check_status"),
    "usb": ("vendor_id", "product_id", "in_ep", "out_ep", "check_status"),
    "serial": ("device", "baudrate", "check_status"),
    "dummy": (),
}
_HEX_KEYS = ("vendor_id", "product_id", "in_ep", "out_ep")


def escpos_profiles() -> dict[str, set[str]]:
    """python-escpos's printer profiles, each with the names of the code pages it lists."""
    from escpos.capabilities import CAPABILITIES  # here: only printer settings need python-escpos

    profiles = CAPABILITIES["profiles"]
    return {name: set(data.get("codePages", {}).values()) for name, data in profiles.items()}


def has_vietnamese_code_page(code_pages: set[str]) -> bool:
    return any(set(pages) <= code_pages for pages in VIETNAMESE_CODE_PAGES)


class PrinterSettings(Section):
    """Where a counter's receipts go, and how their text is printed.

    ``kind``: ``network`` (raw TCP, ``host`` and ``port``), ``usb`` (``vendor_id``/``product_id``
    as hex integers, optional endpoints ``in_ep``/``out_ep``), ``serial`` (``device``,
    ``baudrate``), ``file`` (raw ESC/POS bytes written to ``path``: the demo's printer) or
    ``dummy`` (kept in memory). ``profile`` names the model's python-escpos capability profile.
    ``text_mode``: ``image`` prints everything as a raster (any printer), ``codepage`` sends text
    in the profile's Vietnamese code page, ``auto`` uses the code page when a named profile has one.
    """

    kind: Literal["file", "network", "usb", "serial", "dummy"] = "file"
    path: ConfigPath | None = None
    host: str | None = None
    port: Annotated[int, Field(ge=1, le=65535)] = 9100
    vendor_id: int | None = None
    product_id: int | None = None
    in_ep: int | None = None
    out_ep: int | None = None
    device: str | None = None  # not resolved: /dev/serial/by-id/ links stay stable
    baudrate: int = 9600
    paper_width_mm: Literal[58, 80] = 80
    profile: str | None = None
    text_mode: Literal["auto", "image", "codepage"] = "auto"
    check_status: bool = True  # ask paper/cover/online status before printing

    @model_validator(mode="before")
    @classmethod
    def _hex_written_as_numbers(cls, data: object) -> object:
        if isinstance(data, dict):
            for key in _HEX_KEYS:
                if isinstance(data.get(key), str):
                    raise ValueError(
                        f"`{key}` must be a TOML integer, written in hex without quotes "
                        f"(e.g. {key} = 0x04b8), not the string {data[key]!r}"
                    )
        return data

    @model_validator(mode="after")
    def _target(self) -> PrinterSettings:
        for key in sorted(self.model_fields_set - set(_KIND_KEYS[self.kind])):
            owners = [kind for kind, keys in _KIND_KEYS.items() if key in keys]
            if owners:
                raise ValueError(
                    f"`{key}` is for kind = {' or '.join(map(repr, owners))} printers, "
                    f"not for kind = {self.kind!r}"
                )
        if self.kind == "file" and self.path is None:
            raise ValueError("a file printer needs `path` (a file, or a device like /dev/usb/lp0)")
        if self.kind == "network" and not self.host:
            raise ValueError("a network printer needs `host` (its IP address or name)")
        if self.kind == "usb":
            self._check_usb()
        if self.kind == "serial":
            if not self.device:
                raise ValueError("a serial printer needs `device` (e.g. /dev/ttyUSB0)")
            if self.baudrate not in _BAUD_RATES:
                rates = ", ".join(map(str, _BAUD_RATES))
                raise ValueError(f"`baudrate` must be one of {rates} (got {self.baudrate})")
        self._check_profile()
        return self

    def _check_usb(self) -> None:
        if self.vendor_id is None or self.product_id is None:
            raise ValueError(
                "a usb printer needs `vendor_id` and `product_id`: the two hex numbers `lsusb` "
                "shows as ID vvvv:pppp, written e.g. vendor_id = 0x04b8, product_id = 0x0202"
            )
        for key, low, high in [
            ("vendor_id", 0x0001, 0xFFFF),
            ("product_id", 0x0000, 0xFFFF),
            ("in_ep", 0x81, 0x8F),
            ("out_ep", 0x01, 0x0F),
        ]:
            value = getattr(self, key)
            if value is not None and not low <= value <= high:
                raise ValueError(f"`{key}` must be from {low:#x} to {high:#x} (got {value:#x})")

    def _check_profile(self) -> None:
        if self.profile is None:
            if self.text_mode == "codepage":
                raise ValueError(
                    'text_mode = "codepage" needs `profile`: the printer model\'s python-escpos '
                    "profile says which code page number holds Vietnamese"
                )
            return
        profiles = escpos_profiles()
        if self.profile not in profiles:
            raise ValueError(
                f"`profile` {self.profile!r} is not a python-escpos printer profile; "
                f"known profiles: {', '.join(sorted(profiles))}"
            )
        if self.text_mode == "codepage" and not has_vietnamese_code_page(profiles[self.profile]):
            able = sorted(n for n, pages in profiles.items() if has_vietnamese_code_page(pages))
            raise ValueError(
                f'text_mode = "codepage": profile {self.profile!r} has no Vietnamese code page '
                f'(CP1258 or TCVN-3); use text_mode = "image", or a profile that has one: '
                f"{', '.join(able)}"
            )
