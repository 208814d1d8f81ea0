"""Copy the front-end packages from node_modules/ into static/vendor/.

    python -m portal.assets

govuk-frontend and MOJ Frontend are used precompiled. Two changes on the way in:

- the GDS Transport font is removed (its @font-face rules and its name in every
  font-family list): it is licensed to GOV.UK only, and a council service must not use
  it. Text falls back to Arial, as GOV.UK's own guidance for non-GOV.UK services says.
- MOJ's image URLs are pointed at the copied MOJ icons. GOV.UK's images (crown, crest,
  favicons) are not copied at all: a council service has its own brand.

The build fails if the font or a crown image is still referenced afterwards.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "static" / "vendor"
GOVUK = NODE_MODULES / "govuk-frontend" / "dist" / "govuk"
MOJ = NODE_MODULES / "@ministryofjustice" / "frontend" / "moj"

FONT_FACE = re.compile(r"@font-face\{[^}]*GDS Transport[^}]*\}")
FONT_NAME = re.compile(r"(['\"]?)GDS Transport\1\s*,\s*")
SOURCE_MAP = re.compile(r"/\*# sourceMappingURL=[^*]*\*/|//# sourceMappingURL=\S+")
# Font files, and any GOV.UK image (crest, crown, favicons): none is copied.
FORBIDDEN = ("GDS Transport", "/assets/fonts/", "/assets/images/", "govuk-crest")


class AssetError(RuntimeError):
    pass


def strip_gov_uk_brand(css: str) -> str:
    css = FONT_FACE.sub("", css)
    css = FONT_NAME.sub("", css)
    return SOURCE_MAP.sub("", css)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _check(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for needle in FORBIDDEN:
        if needle in text:
            raise AssetError(f"{path.relative_to(ROOT)} still refers to {needle!r}")


def build() -> list[Path]:
    if not GOVUK.exists() or not MOJ.exists():
        raise AssetError("node_modules is missing: run `npm ci` first (make does this)")
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    written = []

    govuk_css = VENDOR / "govuk-frontend.min.css"
    text = strip_gov_uk_brand((GOVUK / "govuk-frontend.min.css").read_text(encoding="utf-8"))
    # The footer's crest is drawn only by .govuk-footer__copyright-logo, which our own
    # footer does not use; drop the rule so nothing can ask for the image.
    text = re.sub(r"[^{}]*govuk-footer__copyright-logo[^{}]*\{[^}]*\}", "", text)
    text = re.sub(r"@media[^{]*\{\}", "", text)
    _write(govuk_css, text)
    written.append(govuk_css)

    moj_css = VENDOR / "moj-frontend.min.css"
    text = strip_gov_uk_brand((MOJ / "moj-frontend.min.css").read_text(encoding="utf-8"))
    text = text.replace("/assets/images/", "/assets/vendor/moj/images/")
    _write(moj_css, text)
    written.append(moj_css)

    for source, target in (
        (GOVUK / "govuk-frontend.min.js", VENDOR / "govuk-frontend.min.js"),
        (MOJ / "moj-frontend.min.js", VENDOR / "moj-frontend.min.js"),
    ):
        _write(target, SOURCE_MAP.sub("", source.read_text(encoding="utf-8")))
        written.append(target)

    images = VENDOR / "moj" / "images"
    images.mkdir(parents=True, exist_ok=True)
    for icon in sorted((MOJ / "assets" / "images").glob("icon-*.svg")):
        shutil.copy2(icon, images / icon.name)
        written.append(images / icon.name)

    for path in (govuk_css, moj_css):
        _check(path)
    return written


def main() -> int:
    try:
        written = build()
    except AssetError as error:
        print(f"assets: {error}", file=sys.stderr)
        return 1
    print(f"assets: wrote {len(written)} files to {VENDOR.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
