"""The font that PDFs embed so that Chinese text prints.

fpdf2's built-in fonts are Latin-1 only; a PDF naming a person in characters needs a
TrueType font with CJK glyphs. Debian's `fonts-droid-fallback` is a single .ttf (fpdf2
does not read .ttc collections), about 4 MB; the Makefile installs it and
`LIAISON_CJK_FONT` points elsewhere on machines that have another.
"""

from __future__ import annotations

import os
from pathlib import Path

CJK_FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttf"),
)


class MissingCJKFont(RuntimeError):
    """No TrueType font with Chinese glyphs was found."""


def cjk_font_path() -> Path:
    """The CJK TrueType font to embed, or MissingCJKFont saying how to install one."""
    configured = os.environ.get("LIAISON_CJK_FONT")
    candidates = (Path(configured),) if configured else CJK_FONT_CANDIDATES
    for path in candidates:
        if path.is_file():
            return path
    raise MissingCJKFont(
        "no font with Chinese glyphs for PDFs: looked for "
        + ", ".join(str(path) for path in candidates)
        + "; install Debian's fonts-droid-fallback or set LIAISON_CJK_FONT to a .ttf file"
    )
