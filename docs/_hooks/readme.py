"""MkDocs hook: the site's front page is the repository's README.md, so the two never drift.

The README points into the site as ``docs/<page>.md`` and shows ``docs/img/...``, paths that work
where the repository is browsed; the site's pages sit inside ``docs/``, so the prefix goes.
"""

from __future__ import annotations

import re
from pathlib import Path

_INTO_DOCS = re.compile(r"\]\(docs/")


def on_page_read_source(page, config) -> str | None:
    if page.file.src_uri != "index.md":
        return None  # every other page is read from docs/ as usual
    readme = Path(config.config_file_path).parent / "README.md"
    return _INTO_DOCS.sub("](", readme.read_text(encoding="utf-8"))
