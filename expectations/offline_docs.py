"""Data Docs that work from the files alone: no script, style, font or image from the web.

Great Expectations writes its Data Docs pages with <script> and <link> tags pointing at public
CDNs (Bootstrap, jQuery, Font Awesome, Vega, ...) and a logo served with a tracking query. On
a machine without internet, or behind a proxy that blocks those hosts, the pages then show
unstyled text and no charts, and every page view is announced to the logo's host.

`make_offline(site)` copies the same files, at the versions GX names, from the npm packages
pinned in expectations/data_docs/package.json (installed by scripts/bootstrap.sh) into
`<site>/static/vendor/`, and points every page at them with relative paths, so the site can
be opened from disk, zipped, or served from any folder. The logo becomes GX's own copy in
`static/images/`. Links a reader clicks (GX's documentation) are left as they are.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

PACKAGES_DIR = Path(__file__).resolve().parent / "data_docs" / "node_modules"
VENDOR = "static/vendor"

# Each CDN address GX 1.x writes -> the file in the pinned npm package (a path under
# node_modules, copied to the same path under static/vendor/).
ASSETS = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap/dist/css/bootstrap.min.css"
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap/dist/js/bootstrap.min.js"
    ),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": (  # noqa: E501
        "@forevolve/bootstrap-dark/dist/css/bootstrap-prefers-dark.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": (  # noqa: E501
        "bootstrap-datepicker/dist/css/bootstrap-datepicker.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": (  # noqa: E501
        "bootstrap-datepicker/dist/js/bootstrap-datepicker.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "@fortawesome/fontawesome-free/css/all.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
        "popper.js/dist/umd/popper.min.js"
    ),
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table/dist/bootstrap-table.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table/dist/bootstrap-table.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": (  # noqa: E501
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.js"
    ),
    # GX names the filter-control styles of 1.19.0 (two spellings); 1.19.1's are the same.
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": (  # noqa: E501
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": (  # noqa: E501
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.css"
    ),
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed/build/vega-embed.min.js",
}
# Files a copied stylesheet loads by a relative path: Font Awesome's fonts (../webfonts/).
ASSET_FOLDERS = ("@fortawesome/fontawesome-free/webfonts",)
# GX's logo, fetched from its asset bucket with the page's time and the project's id.
REMOTE_LOGO = re.compile(r"https://great-expectations-web-assets\.[^\"']*?/(logo-long\.png)[^\"']*")
# What still loads from the web after the rewrite: a script's src or a stylesheet's href.
REMOTE_RESOURCE = re.compile(
    r"<script[^>]*\ssrc=[\"'](https?://[^\"']+)|<link[^>]*\shref=[\"'](https?://[^\"']+)"
    r"|<img[^>]*\ssrc=[\"'](https?://[^\"']+)"
)


class OfflineAssetsMissing(RuntimeError):
    """The pinned npm packages are not installed (scripts/bootstrap.sh installs them)."""


def make_offline(
    site: Path, packages_dir: Path = PACKAGES_DIR, *, changed_since: float = 0.0
) -> list[str]:
    """Vendor the assets into `site` and rewrite its pages (those modified at or after
    `changed_since`, a timestamp: a run rewrites only the pages it rendered); return the
    remote resources left (addresses GX added that ASSETS does not know yet), empty when the
    site is offline."""
    needed = {*ASSETS.values(), *ASSET_FOLDERS}
    missing = [path for path in needed if not (packages_dir / path).exists()]
    if missing:
        raise OfflineAssetsMissing(
            f"Data Docs assets missing under {packages_dir} ({sorted(missing)[0]}, ...): "
            "run scripts/bootstrap.sh (it installs them with npm from package-lock.json)"
        )
    vendor = site / VENDOR
    for path in {*ASSETS.values()}:
        target = vendor / path
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(packages_dir / path, target)
    for folder in ASSET_FOLDERS:
        if not (vendor / folder).exists():
            shutil.copytree(packages_dir / folder, vendor / folder)

    left: set[str] = set()
    for page in site.rglob("*.html"):
        if page.stat().st_mtime < changed_since:
            continue
        text = page.read_text(encoding="utf-8")
        to_root = "../" * (len(page.relative_to(site).parts) - 1)
        rewritten = REMOTE_LOGO.sub(f"{to_root}static/images/\\1", text)
        for address, path in ASSETS.items():
            rewritten = rewritten.replace(f'"{address}"', f'"{to_root}{VENDOR}/{path}"')
        if rewritten != text:
            page.write_text(rewritten, encoding="utf-8")
        left.update(next(filter(None, match)) for match in REMOTE_RESOURCE.findall(rewritten))
    return sorted(left)
