"""The digest's chart: a PNG of the last CHART_DAYS days in three panels (counts,
percentages, minutes), drawn from plain data so it can travel in an outbox row.

Drawing is most of a digest's cost, so it is made cheap: each thread keeps one figure
(matplotlib's object API on the Agg canvas, no pyplot state) and redraws it with new data
instead of building a figure, its axes, ticks and legends every time, and the layout is
fixed instead of measured by `tight_layout` (which draws the whole figure once more).
Matplotlib documents reusing artists by updating their data
(https://matplotlib.org/stable/users/explain/animations/blitting.html) and the object API
without pyplot (https://matplotlib.org/stable/gallery/user_interfaces/web_application_server_sgskip.html).

Charts are drawn in the bot's own process, on the outbox's thread when a chart's upload
is due: a draw is about 0.08 s of CPU and uploads go one per 0.6 s at Slack's pace, so
drawing keeps up with them. `warm` imports matplotlib (a second or more of CPU) before
the first digest is due, not while uploads wait for it.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Callable
from typing import Any

from supportbot.bot import formats

# The panels, top to bottom, and the metrics drawn in each.
CHART_METRICS: tuple[tuple[str, ...], ...] = (("volume", "backlog"), ("csat", "sla", "fcr"), ("frt", "aht"))
PERCENT = ("csat", "sla", "fcr")
SIZE_INCHES = (8, 8)
DPI = 90
# Where tight_layout put the panels for this figure (8 x 8 in, 14 rotated day labels,
# y labels up to "10,000"); fixed so nothing is measured per chart.
LAYOUT = {"left": 0.085, "right": 0.98125, "top": 0.9412, "bottom": 0.0794, "hspace": 0.1005}
DATA_VERSION = 1


def chart_data(
    *,
    lang: str,
    title: str,
    labels: list[str],
    series: dict[str, list[float | None]],
    names: dict[str, str],
    targets: dict[str, float],
) -> dict[str, Any]:
    """What `draw` needs, as JSON: one entry per panel of CHART_METRICS."""
    return {
        "v": DATA_VERSION,
        "lang": lang,
        "title": title,
        "labels": list(labels),
        "panels": [
            {
                "percent": set(group) <= set(PERCENT),
                "lines": [
                    {
                        "label": names[m],
                        "values": [None if v is None else float(v) for v in series[m]],
                        "target": None if targets.get(m) is None else float(targets[m]),
                    }
                    for m in group
                ],
            }
            for group in CHART_METRICS
        ],
    }


def axis_formatter(lang: str, percent: bool) -> Callable[[float, Any], str]:
    """A y-axis tick label: a percentage for the percent panel, a number otherwise."""
    if percent:
        return lambda value, _pos: formats.percent(lang, value, 0)
    return lambda value, _pos: formats.number(lang, value, 0 if abs(value) >= 10 or value == int(value) else 1)


class _Figure:
    """One reusable figure: its lines, target lines, legends and title are updated per
    chart. Only the thread that made it draws it (matplotlib figures are not thread-safe)."""

    def __init__(self, shape: tuple[int, ...], days: int) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.days = days
        self.fig = Figure(figsize=SIZE_INCHES)
        FigureCanvasAgg(self.fig)
        axes = self.fig.subplots(len(shape), 1, sharex=True, squeeze=False)[:, 0]
        self.axes = list(axes)
        xs = list(range(days))
        zeros = [0.0] * days
        self.lines: list[list[Any]] = []
        self.targets: list[list[Any]] = []
        self.legends: list[Any] = []
        for ax, count in zip(self.axes, shape, strict=True):
            lines = [ax.plot(xs, zeros, marker="o", label=f"line{i}")[0] for i in range(count)]
            self.lines.append(lines)
            self.targets.append([ax.axhline(0.0, linestyle=":", linewidth=1) for _ in range(count)])
            self.legends.append(ax.legend(loc="upper left", fontsize=8))
            ax.grid(alpha=0.3)
        self.axes[-1].set_xticks(xs, [""] * days)
        self.axes[-1].tick_params(axis="x", rotation=45)
        self.title = self.fig.suptitle("")
        self.fig.subplots_adjust(**LAYOUT)

    def draw(self, data: dict[str, Any]) -> bytes:
        from matplotlib.ticker import FuncFormatter

        lang = str(data["lang"])
        for ax, panel, lines, targets, legend in zip(
            self.axes, data["panels"], self.lines, self.targets, self.legends, strict=True
        ):
            for spec, line, target, text in zip(panel["lines"], lines, targets, legend.get_texts(), strict=True):
                line.set_ydata([math.nan if v is None else float(v) for v in spec["values"]])
                line.set_label(spec["label"])
                text.set_text(spec["label"])
                value = spec.get("target")
                target.set_visible(value is not None)
                if value is not None:
                    target.set_ydata([float(value), float(value)])
            ax.relim(visible_only=True)
            if not math.isfinite(ax.dataLim.y0):  # no value and no target in this panel
                ax.set_ylim(-0.055, 0.055)  # what matplotlib shows for an empty panel
            else:
                ax.set_autoscaley_on(True)
                ax.autoscale_view(scalex=False)
            ax.yaxis.set_major_formatter(FuncFormatter(axis_formatter(lang, bool(panel["percent"]))))
        self.axes[-1].set_xticklabels(data["labels"])
        self.title.set_text(data["title"])
        buffer = io.BytesIO()
        # zlib level 1: about a fifth less CPU than the default 6 for a file ~10% larger
        # (the same pixels: PNG is lossless)
        self.fig.savefig(buffer, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
        return buffer.getvalue()


_local = threading.local()


def draw(data: dict[str, Any]) -> bytes:
    """The chart as PNG bytes (on this thread's reusable figure)."""
    shape = tuple(len(panel["lines"]) for panel in data["panels"])
    days = len(data["labels"])
    figures: dict[tuple[tuple[int, ...], int], _Figure] = _local.__dict__.setdefault("figures", {})
    figure = figures.get((shape, days))
    if figure is None:
        figure = figures[(shape, days)] = _Figure(shape, days)
    return figure.draw(data)


def draw_fresh(data: dict[str, Any]) -> bytes:
    """The same chart on a figure of its own (tests compare it with a reused one)."""
    shape = tuple(len(panel["lines"]) for panel in data["panels"])
    return _Figure(shape, len(data["labels"])).draw(data)


def blank(days: int = 14) -> dict[str, Any]:
    """An empty chart of the digest's shape (drawn to warm up: imports, fonts, the figure)."""
    metrics = [m for group in CHART_METRICS for m in group]
    return chart_data(lang="en", title="", labels=[""] * days, series={m: [0.0] * days for m in metrics},
                      names={m: m for m in metrics}, targets={})


def warm() -> None:
    """Import matplotlib and load its fonts now, a second or more of CPU on a busy machine,
    rather than on the outbox's thread when the first chart is due (the digest's job sync
    calls it when a digest is due soon)."""
    draw_fresh(blank())


def digest_chart(d: Any) -> dict[str, Any]:
    """The chart data of a digest (`bot.kpis.digest.Digest`) in its team's language."""
    from supportbot.bot.i18n import Translator

    _ = Translator(d.team.language)
    return chart_data(
        lang=_.lang,
        title=_("kpis.chart_title", team=d.team.name, day=formats.day(_.lang, d.day)),
        labels=[formats.short_day(_.lang, day) for day in d.chart_days],
        series=d.chart,
        names={m: _(f"kpis.name_{m}") for group in CHART_METRICS for m in group},
        targets=d.targets,
    )
