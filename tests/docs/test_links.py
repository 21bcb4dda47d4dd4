"""Every relative link in README.md and docs/ leads somewhere: the file exists and, for
`#anchor`, the page has that heading (GitHub's slugs: lower case, punctuation dropped,
spaces to hyphens, a repeated heading gets -1, -2...)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
COMMENT = re.compile(r"<!--.*?-->", re.S)
CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} +(.+?) *#*$", re.M)


def prose(text: str) -> str:
    """The text outside code blocks, inline code and comments."""
    return CODE.sub("", COMMENT.sub("", FENCE.sub("", text)))


def slug(heading: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link: its text
    text = re.sub(r"[^\w\- ]", "", text.lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    result = set()
    for heading in HEADING.findall(FENCE.sub("", page.read_text(encoding="utf-8"))):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


def links(page: Path) -> list[str]:
    return [
        link
        for link in LINK.findall(prose(page.read_text(encoding="utf-8")))
        if not re.match(r"[a-z]+:", link)  # https:, mailto:
    ]


def test_the_pages_have_links() -> None:
    assert len(PAGES) > 10
    assert sum(len(links(page)) for page in PAGES) > 50


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for link in links(page):
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        if not target.exists():
            broken.append(f"{link}: no such file")
        elif anchor and target.suffix == ".md" and anchor not in anchors(target):
            broken.append(f"{link}: no heading #{anchor} in {target.relative_to(ROOT)}")
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        (
            "Pin it, and never run the pull request's code with the credentials",
            "pin-it-and-never-run-the-pull-requests-code-with-the-credentials",
        ),
        ("The onboarding pipeline (`legacy`)", "the-onboarding-pipeline-legacy"),
        ("20003: Authenticate", "20003-authenticate"),
        ("Display name rejected (63060, 63124)", "display-name-rejected-63060-63124"),
    ],
)
def test_slugs_are_githubs(heading: str, expected: str) -> None:
    assert slug(heading) == expected


def test_a_broken_link_is_found(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# Title\n\n[x](b.md) [y](#nowhere) [z](#title)\n")
    page = tmp_path / "a.md"
    found = [link for link in links(page) if not (page.parent / link.partition("#")[0]).exists()]
    assert found == ["b.md"]
    assert "nowhere" not in anchors(page)
    assert "title" in anchors(page)
