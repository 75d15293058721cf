"""Charts of the analysis results, in Plotly (the app) and Matplotlib (reports), with shared colours.

Modules, imported on demand so that ``import tracker.charts`` stays light:

* :mod:`tracker.charts.colors`: one stable colour per category (:func:`~tracker.charts.colors.category_colors`).
* :mod:`tracker.charts.plotly_charts`: ``spending_donut``, ``cash_flow_bars``, ``balance_line``,
  ``month_to_date_lines`` returning ``plotly.graph_objects.Figure``.
* :mod:`tracker.charts.mpl_charts`: the same four, returning ``matplotlib.figure.Figure`` (Agg), plus
  ``draw_*`` variants that draw into an existing ``Axes``.
* :mod:`tracker.charts.common`: themes and money formatting shared by both.
"""

from __future__ import annotations
