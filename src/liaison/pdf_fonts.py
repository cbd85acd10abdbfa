"""The fonts that PDFs embed so that Chinese text prints.

fpdf2's built-in fonts are Latin-1 only; a PDF naming a person in characters needs a
TrueType font with CJK glyphs. Debian's `fonts-droid-fallback` is a single .ttf (fpdf2
does not read .ttc collections), about 4 MB; the Makefile installs it and
`LIAISON_CJK_FONT` points elsewhere on machines that have another. That font is a
fallback font: it has no Latin letters or digits, so a page that mixes both scripts (a
report in Chinese with dates and node names) writes in a Latin TrueType font
(`latin_font_path`, Debian's `fonts-dejavu-core`) with the CJK one as fpdf2's fallback.
"""

from __future__ import annotations

import os
from pathlib import Path

CJK_FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttf"),
)


LATIN_FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
)


class MissingFont(RuntimeError):
    """No TrueType font for a script PDFs print was found."""


class MissingCJKFont(MissingFont):
    """No TrueType font with Chinese glyphs was found."""


def _first(variable: str, defaults: tuple[Path, ...]) -> Path | None:
    configured = os.environ.get(variable)
    candidates = (Path(configured),) if configured else defaults
    return next((path for path in candidates if path.is_file()), None)


def _looked_for(variable: str, defaults: tuple[Path, ...]) -> str:
    configured = os.environ.get(variable)
    return ", ".join(str(p) for p in ((Path(configured),) if configured else defaults))


def cjk_font_path() -> Path:
    """The CJK TrueType font to embed, or MissingCJKFont saying how to install one."""
    found = _first("LIAISON_CJK_FONT", CJK_FONT_CANDIDATES)
    if found is None:
        raise MissingCJKFont(
            "no font with Chinese glyphs for PDFs: looked for "
            + _looked_for("LIAISON_CJK_FONT", CJK_FONT_CANDIDATES)
            + "; install Debian's fonts-droid-fallback or set LIAISON_CJK_FONT to a .ttf file"
        )
    return found


def latin_font_path() -> Path:
    """The Latin TrueType font to embed, or MissingFont saying how to install one."""
    found = _first("LIAISON_LATIN_FONT", LATIN_FONT_CANDIDATES)
    if found is None:
        raise MissingFont(
            "no Latin TrueType font for PDFs: looked for "
            + _looked_for("LIAISON_LATIN_FONT", LATIN_FONT_CANDIDATES)
            + "; install Debian's fonts-dejavu-core or set LIAISON_LATIN_FONT to a .ttf file"
        )
    return found
