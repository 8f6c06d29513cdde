"""A small PNG of a Reply's chart, for Slack. matplotlib is imported here only, lazily, on this path.

Measured (benchmarks/bench_prometheus_queries.py --import-cost): importing matplotlib with the Agg
backend costs a few hundred milliseconds; `ask` and the other commands never import this module.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from handlers.reply import Chart

WIDTH_INCHES, HEIGHT_INCHES, DPI = 6.0, 2.6, 100


def png(chart: Chart) -> bytes:
    import matplotlib

    matplotlib.use("Agg")  # no display: render to memory
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI)
    try:
        end = max((t for s in chart.series for t, _ in s.points), default=0.0)
        for series in chart.series:
            hours = [(t - end) / 3600 for t, _ in series.points]  # x: hours before the newest point
            axes.plot(hours, [v for _, v in series.points], label=series.label[:60], linewidth=1.4)
        axes.set_title(chart.title, fontsize=9)
        axes.set_ylabel(chart.unit, fontsize=8)
        axes.tick_params(labelsize=7)
        axes.grid(alpha=0.3)
        if chart.series:
            axes.legend(fontsize=7, loc="upper left")
        axes.set_xlabel(f"h (until {datetime.fromtimestamp(end, tz=UTC):%Y-%m-%d %H:%M} UTC)", fontsize=8)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(figure)
