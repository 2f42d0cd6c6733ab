"""The README is the user's page, short; the rest lives in docs/ (built with -W in CI)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_is_the_users_page_at_most_200_lines():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    for heading in ("## Install", "## Quick start", "## PyAutoLens", "## Documentation"):
        assert heading in readme, heading


def test_every_docs_page_the_readme_lists_exists_and_is_in_the_toctree():
    readme = (ROOT / "README.md").read_text()
    index = (ROOT / "docs" / "index.md").read_text()
    listed = [line.split("`")[1] for line in readme.splitlines()
              if line.startswith("| `") and line.split("`")[1].endswith((".md", "/"))]
    assert listed
    for page in listed:
        assert (ROOT / "docs" / page).exists(), page
        if page.endswith(".md"):
            assert f"\n{page.removesuffix('.md')}\n" in index, page
