"""The dashboard's four charts, declared once: the Dashboard page, the server's warm-up and the reports read them.

Each :class:`DashboardChart` says which part of :class:`tracker.analysis.Dashboard` it draws and
which builder draws it: the function of that name in :mod:`tracker.charts.plotly_charts` (the app)
and in :mod:`tracker.charts.mpl_charts` (reports; ``draw_<name>`` draws into an existing ``Axes``).
The builders are looked up when a chart is drawn, so importing this module loads no chart library.
Adding a chart to the dashboard is one entry in :data:`CHARTS` (and its two builders).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import plotly.graph_objects as go
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from tracker.analysis import Dashboard

Colors = Mapping[str, str] | None


@dataclasses.dataclass(frozen=True, slots=True)
class DashboardChart:
    """One chart of the dashboard.

    Attributes:
        key: a short stable name (the page's element key is ``dash_<key>``).
        title: the heading the page shows above it; ``{board...}`` fields are filled from the dashboard.
        source: the :class:`~tracker.analysis.Dashboard` attribute it draws.
        builder: the name of its function in ``plotly_charts`` and ``mpl_charts``.
        per_currency: the builder takes the dashboard's currency after the data.
        colored: the builder takes the category colours after the currency.
        granular: the builder takes the dashboard's ``granularity``.
    """

    key: str
    title: str
    source: str
    builder: str
    per_currency: bool = True
    colored: bool = False
    granular: bool = False

    def heading(self, board: Dashboard) -> str:
        """The title with this dashboard's fields (``Spent in March so far, against February``)."""
        return self.title.format(board=board)

    def arguments(self, board: Dashboard, colors: Colors = None) -> tuple[list[Any], dict[str, Any]]:
        """What the builders take from ``board``: positional arguments and keywords."""
        args: list[Any] = [getattr(board, self.source)]
        if self.per_currency:
            args.append(board.currency)
        if self.colored:
            args.append(colors)
        return args, ({"granularity": board.granularity} if self.granular else {})

    def plotly(self, board: Dashboard, colors: Colors = None, **style: Any) -> go.Figure:
        """The interactive figure (``style``: ``theme``, ``number_format``)."""
        return self._call("plotly_charts", self.builder, board, colors, style)

    def figure(self, board: Dashboard, colors: Colors = None, **style: Any) -> Figure:
        """A Matplotlib figure holding this chart alone (``style``: ``number_format``, ``figsize``, ``scale``...)."""
        return self._call("mpl_charts", self.builder, board, colors, style)

    def draw(self, ax: Axes, board: Dashboard, colors: Colors = None, **style: Any) -> None:
        """Draw the chart into an existing Matplotlib ``ax``."""
        self._call("mpl_charts", f"draw_{self.builder}", board, colors, style, ax)

    def _call(
        self, module: str, name: str, board: Dashboard, colors: Colors, style: dict[str, Any], *first: Any
    ) -> Any:
        build = getattr(importlib.import_module(f"tracker.charts.{module}"), name)
        args, kwargs = self.arguments(board, colors)
        return build(*first, *args, **kwargs, **style)


CHARTS: tuple[DashboardChart, ...] = (
    DashboardChart("pie", "Spending by category", "by_category", "spending_donut", colored=True),
    DashboardChart("bar", "Income and expenses", "cash_flow", "cash_flow_bars", granular=True),
    DashboardChart("line", "Balance over the period", "balance", "balance_line"),
    DashboardChart(
        "mtd",
        "Spent in {board.month_to_date.month.start:%B}{board.month_to_date.so_far}, "
        "against {board.month_to_date.last_month.start:%B}",
        "month_to_date",
        "month_to_date_lines",
        per_currency=False,
    ),
)
"""The dashboard's charts in the order they are shown: row by row in a 2 x 2 grid, one page each in the PDF."""
