"""MkDocs hooks: the site's front page is the repository's README.md, so the two never drift; and
the docstrings' reST roles read as plain code on the API pages.

The README points into the site as ``docs/<page>.md`` and shows ``docs/img/...``, paths that work
where the repository is browsed; the site's pages sit inside ``docs/``, so the prefix goes.
The docstrings name things as ``:func:`wilson```; mkdocstrings renders Markdown, where the role
would show as text before the code.
"""

from __future__ import annotations

import re
from pathlib import Path

_INTO_DOCS = re.compile(r"\]\(docs/")
_REST_ROLE = re.compile(r":(?:py:)?(?:func|class|data|mod|meth|attr|exc|obj|const):(?=<code>)")


def on_page_read_source(page, config) -> str | None:
    if page.file.src_uri != "index.md":
        return None  # every other page is read from docs/ as usual
    readme = Path(config.config_file_path).parent / "README.md"
    return _INTO_DOCS.sub("](", readme.read_text(encoding="utf-8"))


def on_page_content(html: str, page, config, files) -> str:
    return _REST_ROLE.sub("", html)
