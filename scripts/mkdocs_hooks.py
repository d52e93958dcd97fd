"""MkDocs hooks (mkdocs.yml ``hooks:``): the docstrings' Sphinx roles, shown as code.

The docstrings say ``:class:`PiKVM```, as Sphinx and editors read them; mkdocstrings keeps
the role's name in front of the code. Drop it (and a ``~`` path), so the API reference
reads ``PiKVM``.
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(r":(?:class|meth|func|attr|mod|data|exc|obj):(?=<code>)")


_TILDE = re.compile(r"<code>~(?:[\w]+\.)*(\w+)</code>")
"""Sphinx's ``~a.b.C``: show ``C``."""


def on_page_content(html: str, **_: Any) -> str:
    return _TILDE.sub(r"<code>\1</code>", _ROLE.sub("", html))
