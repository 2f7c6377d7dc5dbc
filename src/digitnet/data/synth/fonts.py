"""Handwriting-style fonts from Debian ``fonts-*`` packages, their style split, and glyph masks.

STYLE SPLIT: a font FAMILY is the unit of style (its regular, bold and italic faces share the hand that drew
them, so they are on the same side). ``FAMILIES`` lists each family once with its split; the held-out
families are never rendered by split="train". URW Z003 and TeX Gyre Chorus are the same design (Zapf
Chancery) and are one family. The six "Because We Had To" fonts were written by six different people, so
they are six families, four train and two held out.

The files are found only at the fixed paths / glob patterns below (nothing a file says selects code);
a family whose package is not installed is skipped (``available(split)`` says which remain).
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

GLYPH_PX = 128  # font size the glyph masks are rendered at
_NEVER_DEFINED = "\U000f0000"  # a private-use code point: its rendering is the font's "missing glyph" box
_TT, _OT = "/usr/share/fonts/truetype", "/usr/share/fonts/opentype"


@dataclass(frozen=True)
class Family:
    name: str
    split: str  # "train" or "heldout"
    package: str  # the Debian package that installs it
    patterns: tuple[str, ...]  # glob patterns of its font files

    def files(self) -> tuple[str, ...]:
        return tuple(sorted({f for p in self.patterns for f in glob.glob(p)}))


FAMILIES = (
    # train: 18 families
    Family("Humor Sans", "train", "fonts-humor-sans", (f"{_TT}/humor-sans/Humor-Sans.ttf",)),
    Family("Comic Neue", "train", "fonts-comic-neue", (f"{_OT}/comic-neue/ComicNeue-*.otf",)),
    Family("Andika", "train", "fonts-sil-andika", (f"{_TT}/andika/Andika-*.ttf",)),
    Family("DKG Handwriting", "train", "fonts-dkg-handwriting", (f"{_TT}/fifthhorseman/dkg*.ttf",)),
    Family("Because We Build", "train", "fonts-bwht", (f"{_OT}/bwht/BecauseWeBuild-Regular.otf",)),
    Family("Because We Create", "train", "fonts-bwht", (f"{_OT}/bwht/BecauseWeCreate-Regular.otf",)),
    Family("Because We Learn", "train", "fonts-bwht", (f"{_OT}/bwht/BecauseWeLearn-Regular.otf",)),
    Family("Because We Mentor", "train", "fonts-bwht", (f"{_OT}/bwht/BecauseWeMentor-Regular.otf",)),
    Family("Dancing Script", "train", "fonts-dancingscript", (f"{_OT}/dancingscript/DancingScript-*.otf",)),
    Family("Klee One", "train", "fonts-klee", (f"{_TT}/klee/KleeOne-*.ttf",)),
    Family("Tomson Talks", "train", "fonts-tomsontalks", (f"{_TT}/tomsontalks/TomsonTalks.ttf",)),
    Family("Yusei Magic", "train", "fonts-yusei-magic", (f"{_TT}/yusei-magic/YuseiMagic-Regular.ttf",)),
    Family("Leckerli One", "train", "fonts-leckerli-one", (f"{_TT}/leckerli-one/LeckerliOne-Regular.ttf",)),
    Family("Ecolier Court", "train", "fonts-ecolier-court", (f"{_TT}/ecolier-court/Ecolier-court.ttf",)),
    Family("Kiloji", "train", "fonts-kiloji", (f"{_TT}/kiloji/kiloji*.ttf",)),
    Family("Seto", "train", "fonts-seto", (f"{_TT}/seto/setofont.ttf",)),
    Family("Lobster", "train", "fonts-lobster", (f"{_OT}/lobster/lobster.otf",)),
    Family("Havana", "train", "fonts-havana", (f"{_OT}/havana/Havana-Regular.otf",)),
    # heldout: 9 families
    Family("Breip", "heldout", "fonts-breip", (f"{_TT}/breip/*.ttf",)),
    Family("Rufscript", "heldout", "fonts-rufscript", (f"{_TT}/rufscript/Rufscript010.ttf",)),
    Family("Kristi", "heldout", "fonts-kristi", (f"{_TT}/kristi/Kristi.ttf",)),
    Family("Steve Hand", "heldout", "fonts-sjfonts", (f"{_TT}/sjfonts/SteveHand.ttf",)),
    Family("Delphine", "heldout", "fonts-sjfonts", (f"{_TT}/sjfonts/Delphine.ttf",)),
    Family("Because We Connect", "heldout", "fonts-bwht", (f"{_OT}/bwht/BecauseWeConnect-Regular.otf",)),
    Family("Because We Organize", "heldout", "fonts-bwht", (f"{_OT}/bwht/BecauseWeOrganize-Regular.otf",)),
    Family(
        "Zapf Chancery (URW Z003, TeX Gyre Chorus)",
        "heldout",
        "fonts-urw-base35 fonts-texgyre",
        (
            f"{_OT}/urw-base35/Z003-MediumItalic.otf",
            "/usr/share/texmf/fonts/opentype/public/tex-gyre/texgyrechorus-mediumitalic.otf",
        ),
    ),
    Family("Kaushan Script", "heldout", "fonts-kaushanscript", (f"{_OT}/kaushanscript/KaushanScript-Regular.otf",)),
)

# (family, character) pairs never drawn: glyphs that read as something else once printed small.
EXCLUDED = {("Breip", "0"): "open at the top, it reads as a U"}

PACKAGES = tuple(sorted({p for f in FAMILIES for p in f.package.split()}))


def families(split: str) -> tuple[Family, ...]:
    """The families of ``split`` ("train" or "heldout"), installed or not."""
    return tuple(f for f in FAMILIES if f.split == split)


@lru_cache(maxsize=4)
def available(split: str) -> tuple[tuple[Family, tuple[str, ...]], ...]:
    """(family, its installed font files) for each family of ``split`` with at least one file installed
    (looked up once per process: installing a font package needs a restart)."""
    found = ((f, f.files()) for f in families(split))
    return tuple((f, files) for f, files in found if files)


@lru_cache(maxsize=64)
def _font(path: str) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, GLYPH_PX)


def _render(font: ImageFont.FreeTypeFont, char: str) -> np.ndarray:
    left, top, right, bottom = font.getbbox(char)
    image = Image.new("L", (max(1, right - left) + 8, max(1, bottom - top) + 8), 0)
    ImageDraw.Draw(image).text((4 - left, 4 - top), char, font=font, fill=255)
    return np.asarray(image)


@lru_cache(maxsize=4096)
def glyph(path: str, char: str) -> np.ndarray | None:
    """uint8 (h, w) read-only mask of ``char`` in the font at ``path``, cropped to its ink; None when the font
    has no such glyph (it would draw its missing-glyph box) or draws nothing."""
    font = _font(path)
    mask = _render(font, char)
    missing = _render(font, _NEVER_DEFINED)
    if mask.shape == missing.shape and np.array_equal(mask, missing):
        return None
    rows, cols = np.flatnonzero(mask.max(axis=1) > 32), np.flatnonzero(mask.max(axis=0) > 32)
    if len(rows) == 0:
        return None
    crop = np.ascontiguousarray(mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
    crop.flags.writeable = False
    return crop


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width of a glyph mask, in its pixels: 2 * ink area / ink outline length."""
    ink = mask > 127
    area = ink.sum()
    edge = (ink[1:, :] != ink[:-1, :]).sum() + (ink[:, 1:] != ink[:, :-1]).sum()
    return float(2 * area / max(edge, 1))


def lean(mask: np.ndarray) -> float:
    """How far a glyph leans right: -cov(x, y) / var(y) of its ink (x px moved per px up; 0 upright)."""
    weight = mask.astype(np.float64)
    total = weight.sum()
    if total <= 0:
        return 0.0
    y, x = np.indices(mask.shape)
    my, mx = (weight * y).sum() / total, (weight * x).sum() / total
    var_y = (weight * (y - my) ** 2).sum() / total
    return float(-(weight * (x - mx) * (y - my)).sum() / total / max(var_y, 1e-9))


@lru_cache(maxsize=64)
def font_lean(path: str) -> float:
    """The lean of a font: the median ``lean`` of its ten digits (0 for an upright font, about 0.25 for
    a typical italic)."""
    masks = [glyph(path, d) for d in "0123456789"]
    return float(np.median([lean(m) for m in masks if m is not None] or [0.0]))
