"""The docs' relative links lead somewhere: every `[text](path)` in README.md, docs/, bench/ and the
competitions' READMEs names a file or folder of the repository (anchors and URLs aside)."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

DOCS = sorted(
    [ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("bench/*.md"), *ROOT.glob("competitions/*/*.md")]
)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def relative_links(text: str) -> list[str]:
    """The link targets of `text` that point into the repository (no URL, no bare anchor)."""
    targets = (match.group(1).split("#")[0] for match in LINK.finditer(text))
    return [target for target in targets if target and not re.match(r"^[a-z]+:", target)]


def test_the_link_reader_finds_relative_links_only():
    text = "[a](docs/x.md#part) [b](https://example.com) [c](#anchor) [d](../e.py)"
    assert relative_links(text) == ["docs/x.md", "../e.py"]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(doc):
    broken = [target for target in relative_links(doc.read_text()) if not (doc.parent / target).exists()]
    assert broken == [], f"{doc.relative_to(ROOT)}: broken links {broken}"
