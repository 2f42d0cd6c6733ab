"""Sphinx configuration of autokern's documentation (built in CI with warnings as errors)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

import autokern

project = "autokern"
author = "the autokern developers"
copyright = f"{date.today().year}, {author}"
version = release = autokern.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "autokern_catalogue",
]
myst_enable_extensions = ["dollarmath", "amsmath"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
nitpicky = False
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "undoc-members": False}
napoleon_numpy_docstring = True
napoleon_google_docstring = False
# dataclass fields are documented once, from the "Attributes" section
napoleon_use_ivar = True
# the README fragments the guide includes start below their own headings
suppress_warnings = ["myst.header"]
html_theme = "furo"
html_title = f"autokern {release}"
