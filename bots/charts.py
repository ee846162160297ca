"""core.ports.Charts with matplotlib: bar charts as PNG, drawn off screen (the Agg backend, no display).

Chinese labels need a font with CJK glyphs, and a server seldom has one: the package pylopdf-fonts-zh-cn
ships Noto Sans SC (SIL OFL 1.1), which is registered with matplotlib's font manager when the first chart
port is made, so nothing is downloaded or looked up on the system at run time. Every text of a chart is
set in it (Latin letters and digits included), and a glyph it lacks would warn, which the tests check."""

from __future__ import annotations

import io
import threading
from functools import cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot or a figure is made: no display on a server

import pylopdf_fonts_zh_cn  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from core.ports import BarChart  # noqa: E402

SIZE_IN = (6.4, 3.6)  # 16:9, readable on a phone
DPI = 150
BAR_COLOUR = "#2f6fa8"
_LOCK = threading.Lock()  # matplotlib's font cache is not thread-safe; charts are drawn one at a time


def font_path() -> Path:
    return Path(pylopdf_fonts_zh_cn.sans_path())


@cache
def register_font() -> font_manager.FontProperties:
    """Adds the CJK font to matplotlib's font manager once per process; returns it as properties."""
    path = font_path()
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path))


class PngCharts:
    """core.ports.Charts."""

    def __init__(self) -> None:
        self.font = register_font()

    def bar_chart(self, chart: BarChart) -> bytes:
        font = self.font
        with _LOCK:
            figure = Figure(figsize=SIZE_IN, dpi=DPI, layout="constrained")
            axes = figure.add_subplot()
            positions = list(range(len(chart.labels)))
            bars = axes.bar(positions, chart.values, color=BAR_COLOUR)
            axes.set_xticks(positions, chart.labels, fontproperties=font)
            for label in axes.get_yticklabels():
                label.set_fontproperties(font)
            axes.bar_label(bars, labels=[_number(v) for v in chart.values], fontproperties=font, fontsize=8)
            axes.set_title(chart.title, fontproperties=font)
            if chart.y_label:
                axes.set_ylabel(chart.y_label, fontproperties=font)
            axes.spines[["top", "right"]].set_visible(False)
            axes.margins(y=0.15)
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png")
        return buffer.getvalue()


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
