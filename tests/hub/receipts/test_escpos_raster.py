"""The test decoder itself: it must find images among other commands and never guess."""

from __future__ import annotations

import pytest
from escpos.printer import Dummy
from PIL import Image, ImageChops, ImageDraw

from tests.support.escpos_raster import EscposParseError, extract_raster_images, stack


def sample(width: int, height: int) -> Image.Image:
    image = Image.new("1", (width, height), 1)
    draw = ImageDraw.Draw(image)
    draw.rectangle((3, 2, width - 5, height // 2), fill=0)
    draw.line((0, height - 1, width - 1, 0), fill=0)
    return image


def same(one: Image.Image, other: Image.Image) -> bool:
    return ImageChops.difference(one.convert("L"), other.convert("L")).getbbox() is None


def test_images_are_found_among_text_and_other_commands() -> None:
    printer = Dummy()
    first, second = sample(64, 40), sample(48, 17)
    printer.hw("INIT")
    printer.set(align="center", bold=True)
    printer.text("Hai Long\n")
    printer.image(first, impl="bitImageRaster")
    printer.ln(2)
    printer.image(second, impl="graphics")
    printer.image(first, impl="bitImageColumn")  # skipped, not decoded
    printer.cut(mode="PART")
    printer.cut(feed=False)

    images = extract_raster_images(printer.output)

    assert [image.size for image in images] == [(64, 40), (48, 17)]
    assert same(images[0], first)
    assert same(images[1], second)


def test_fragments_stack_back_into_the_image() -> None:
    printer = Dummy()
    tall = sample(40, 50)
    printer.image(tall, impl="bitImageRaster", fragment_height=16)

    fragments = extract_raster_images(printer.output)

    assert [f.height for f in fragments] == [16, 16, 16, 2]
    assert same(stack(fragments), tall)


@pytest.mark.parametrize(
    "data",
    [b"\x1b\x99", b"\x1dv0\x00\x02\x00\x05\x00\xff", b"\x1d\x99\x00"],
    ids=["unknown ESC", "truncated raster", "unknown GS"],
)
def test_an_unknown_or_truncated_command_is_an_error(data: bytes) -> None:
    with pytest.raises(EscposParseError):
        extract_raster_images(data)
