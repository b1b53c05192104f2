"""Screenshots as Apple's processing sees them: format, pixel size and alpha read from the image itself.

A file's name, extension or a size written in its name prove nothing: Pillow opens the bytes, and Apple's
rules (reference §8.2) are checked against what it finds.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, UnidentifiedImageError

from ascflow.listing import apple

ACCEPTED_FORMATS = frozenset({"PNG", "JPEG"})
# Pillow refuses to decode images above this many pixels; Apple's largest accepted size is 2064x2752.
MAX_PIXELS = 40_000_000


@dataclass(frozen=True)
class ImageFacts:
    format: str
    width: int
    height: int
    mode: str
    has_alpha: bool


def image_facts(data: bytes) -> ImageFacts | None:
    """What the bytes are, or None when they are not an image Pillow can read."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                return ImageFacts(image.format or "?", width, height, image.mode, has_alpha=False)
            image.verify()
            has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
            return ImageFacts(image.format or "?", width, height, image.mode, has_alpha)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None


def image_problems(facts: ImageFacts | None, display_type: str) -> list[tuple[str, str]]:
    """Apple's refusals of one image for one display type, as (what is wrong, what to do)."""
    if facts is None:
        return [("is not an image Pillow can read", "Export it as PNG or JPEG.")]
    found: list[tuple[str, str]] = []
    if facts.format not in ACCEPTED_FORMATS:
        found.append(
            (f"is a {facts.format} image; Apple takes PNG or JPEG only", "Export it as PNG or JPEG.")
        )
    sizes = apple.accepted_sizes(display_type)
    if (facts.width, facts.height) not in sizes:
        allowed = ", ".join(f"{w}x{h}" for w, h in sorted(sizes) if w < h)
        found.append(
            (
                f"is {facts.width}x{facts.height} pixels; {display_type} takes {allowed} (or the same turned "
                "to landscape)",
                "Export the screenshot at one of these sizes (the file name does not count, the pixels do).",
            )
        )
    if facts.has_alpha:
        found.append(
            (
                "has an alpha channel (transparency); Apple refuses it",
                "Flatten the image onto an opaque background and save it without alpha (RGB).",
            )
        )
    # GUESS: a palette image (P, no transparency) holds RGB colours, as optimised PNGs often do, so it passes.
    elif facts.mode not in ("RGB", "P"):
        found.append(
            (f"is in colour mode {facts.mode}; Apple takes RGB", "Convert it to RGB and save it again.")
        )
    return found


def md5_hex(data: bytes) -> str:
    """Apple's sourceFileChecksum of an upload: MD5 of the whole file, hex (not a security use)."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


EXAMPLE_SIZE = (1320, 2868)  # an APP_IPHONE_67 size (iPhone 6.9")
EXAMPLE_COLOURS = ((37, 99, 235), (22, 163, 74), (234, 88, 12))


def write_example_screenshots(folder: Path, count: int = 3) -> list[Path]:
    """Write `count` distinct, valid iPhone 6.9" PNG screenshots (RGB, no alpha) for demos and tests."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for index in range(count):
        image = Image.new("RGB", EXAMPLE_SIZE, EXAMPLE_COLOURS[index % len(EXAMPLE_COLOURS)])
        draw = ImageDraw.Draw(image)
        # Bars of different counts make every file's bytes, and so its checksum, distinct.
        for bar in range(index + 1):
            top = 400 + bar * 300
            draw.rectangle((160, top, EXAMPLE_SIZE[0] - 160, top + 180), fill=(255, 255, 255))
        path = folder / f"iphone-{index + 1}.png"
        image.save(path, format="PNG", optimize=True)
        written.append(path)
    return written
