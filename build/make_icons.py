"""Draw the app icon into assets/: icon.png (512 px), icon.ico (16-256 px), icon.icns (16-1024 px).

Run: ``.venv/bin/python build/make_icons.py``. The design: a green rounded square with a white
receipt (zig-zag bottom edge) carrying three bars of a small chart and a line of text.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
SIZE = 1024  # drawn large, scaled down with a good filter (anti-aliasing)


def _gradient(size: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    img = Image.new("RGB", (size, size))
    draw = ImageDraw.Draw(img)
    for y in range(size):
        t = y / (size - 1)
        draw.line([(0, y), (size, y)], fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    return img


def draw(size: int = SIZE) -> Image.Image:
    """The icon at ``size`` pixels, RGBA."""
    s = size / 1024
    icon = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).rounded_rectangle([40 * s, 40 * s, 984 * s, 984 * s], radius=210 * s, fill=255)
    icon.paste(_gradient(size, (46, 158, 112), (24, 98, 74)), (0, 0), mask)

    d = ImageDraw.Draw(icon)
    # the receipt: a white sheet with a zig-zag bottom
    left, right, top, bottom = 262 * s, 762 * s, 190 * s, 800 * s
    teeth = 6
    step = (right - left) / teeth
    outline = [(left, top), (right, top), (right, bottom)]
    for i in range(teeth):
        x = right - (i + 0.5) * step
        outline += [(x, bottom + 46 * s), (right - (i + 1) * step, bottom)]
    d.polygon(outline, fill=(255, 255, 255, 255))
    # a line of "text" at the top
    d.rounded_rectangle([330 * s, 270 * s, 600 * s, 310 * s], radius=20 * s, fill=(183, 201, 193, 255))
    # three bars of a chart, rising
    base = 690 * s
    for i, (height, colour) in enumerate(((150, (120, 196, 160)), (250, (46, 158, 112)), (340, (24, 98, 74)))):
        x0 = (340 + i * 120) * s
        d.rounded_rectangle([x0, base - height * s, x0 + 84 * s, base], radius=14 * s, fill=(*colour, 255))
    # the baseline
    d.rounded_rectangle([320 * s, base + 22 * s, 704 * s, base + 44 * s], radius=11 * s, fill=(183, 201, 193, 255))
    return icon


def main() -> None:
    ASSETS.mkdir(exist_ok=True)
    big = draw()
    big.resize((512, 512), Image.Resampling.LANCZOS).save(ASSETS / "icon.png", optimize=True)
    base = big.resize((256, 256), Image.Resampling.LANCZOS)
    base.save(ASSETS / "icon.ico", sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])
    big.resize((512, 512), Image.Resampling.LANCZOS).save(ASSETS / "icon.icns")
    for path in sorted(ASSETS.iterdir()):
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
