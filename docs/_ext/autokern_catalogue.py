"""A Sphinx directive that writes the kernel reference from :mod:`autokern.catalogue`.

``.. autokern-kernels::`` emits one section per family and, for each kernel, its signature, its
catalogue docstring (NumPy style, rendered by napoleon) and the backends that provide it — the
same text ``help()`` shows, so the reference cannot drift from the code.
"""

from __future__ import annotations

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.ext.napoleon import Config
from sphinx.ext.napoleon.docstring import NumpyDocstring
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

from autokern.catalogue import KERNELS

#: families in the order a fit meets them
FAMILIES = ("grid", "reductions", "expansions", "mapping", "curvature", "solve", "evidence")
TITLES = {
    "grid": "Grid",
    "reductions": "Reductions over visibilities",
    "expansions": "Expansions and re-indexings of W̃",
    "mapping": "Mapping",
    "curvature": "Curvature matrix",
    "solve": "Regularization and solve",
    "evidence": "Evidence and the reusable inversion",
}


def _indent(lines: list[str], width: int = 3) -> list[str]:
    return [" " * width + line if line else "" for line in lines]


def kernel_rst() -> list[str]:
    """The reference as reStructuredText lines."""
    config = Config(napoleon_use_param=True, napoleon_use_rtype=False)
    missing = sorted({k.family for k in KERNELS.values()} - set(FAMILIES))
    if missing:
        raise ValueError(f"autokern-kernels: families without a title: {missing}")
    lines: list[str] = []
    for family in FAMILIES:
        title = TITLES[family]
        lines += [title, "-" * len(title), ""]
        for kernel in (k for k in KERNELS.values() if k.family == family):
            lines += [f".. py:function:: {kernel.name}{kernel.signature}", ""]
            body = str(NumpyDocstring(kernel.doc, config)).splitlines()
            backends = ", ".join(f"``autokern.{b}``" for b in kernel.backends)
            note = f"**Backends:** {backends}."
            if kernel.composed:
                note += (" Written once over each backend's cores of "
                         + ", ".join(f":func:`{name}`" for name in kernel.composed_of) + ".")
            lines += _indent([note, "", *body, ""])
    return lines


class KernelsDirective(SphinxDirective):
    has_content = False

    def run(self) -> list[nodes.Node]:
        container = nodes.section()
        nested_parse_with_titles(self.state, StringList(kernel_rst(), "autokern.catalogue"),
                                 container)
        return container.children


def setup(app: Sphinx) -> dict[str, object]:
    app.add_directive("autokern-kernels", KernelsDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
