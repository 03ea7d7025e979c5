"""Drawing backward graphs: the plain-data model (``model``) and DOT/SVG rendering (``dot``)."""
from .dot import Drawing, make_dot, render_svg, to_dot  # noqa: F401
from .model import Graph, GraphEdge, GraphNode, build, from_gradlab, from_torch  # noqa: F401
