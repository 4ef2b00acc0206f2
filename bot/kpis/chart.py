"""The digest's chart: a PNG of the last CHART_DAYS days in three panels (counts,
percentages, minutes), drawn from plain data so it can travel in an outbox row.

Drawing is most of a digest's cost, so it is made cheap: each thread keeps one figure
(matplotlib's object API on the Agg canvas, no pyplot state) and redraws it with new data
instead of building a figure, its axes, ticks and legends every time, and the layout is
fixed instead of measured by `tight_layout` (which draws the whole figure once more).
Matplotlib documents reusing artists by updating their data
(https://matplotlib.org/stable/users/explain/animations/blitting.html) and the object API
without pyplot (https://matplotlib.org/stable/gallery/user_interfaces/web_application_server_sgskip.html).

In the running bot, charts are also drawn ahead, in a process of their own (the
runtime's `Drawer`, `rt.charts`):
the team's digest job hands its chart over as soon as its figures are built, and the
chart's renderer on the outbox thread takes the finished PNG instead of drawing while
the uploads wait for Slack's pacing. A separate process, not a thread: drawing is Python
work that would hold the interpreter lock the delivery thread needs
(https://docs.python.org/3/library/concurrent.futures.html#processpoolexecutor).
Without it (tests, the CLI) or when it fails, the renderer draws the chart itself.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from supportbot.bot import formats

log = logging.getLogger(__name__)

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


def _draw_in_worker(data: dict[str, Any]) -> bytes:
    return draw(data)


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


def _warm_worker() -> None:
    time.sleep(0.2)  # so that each worker process gets one of these
    draw(blank())


def data_key(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


class Drawer:
    """Draws charts ahead in worker processes: started (and warmed: matplotlib imported,
    the figure built) by `warm` before the digests are due, stopped when idle. One per
    runtime (`rt.charts`).

    `ahead(data)` hands a chart over once `enable`d (the running bot's digest jobs do);
    `png(data)` returns it when it was drawn ahead, None while it is being drawn, or
    draws it here. Charts are kept by content, a few at most."""

    WAIT = 60.0  # after this long without a chart done, a renderer draws it itself
    # Two: on a busy machine each process gets its own share of the CPUs, so 50 charts
    # keep up with Slack's upload pace (one per 0.6 s) where one process fell behind.
    PROCESSES = 2

    def __init__(self, keep: int = 128) -> None:
        self.keep = keep
        self._enabled = False
        self._pool: Any = None
        self._futures: OrderedDict[str, tuple[Future[bytes], float]] = OrderedDict()
        self._lock = threading.Lock()
        self._used = 0.0
        self.drawn_ahead = 0

    def enable(self) -> None:
        with self._lock:
            self._enabled = True

    def ahead(self, data: dict[str, Any]) -> bool:
        """Start drawing `data` in the worker process; False when not enabled."""
        key = data_key(data)
        with self._lock:
            if not self._enabled:
                return False
            if key in self._futures:
                return True
            try:
                self._futures[key] = (self._start_locked().submit(_draw_in_worker, data), time.monotonic())
            except Exception:  # no process to be had (a broken pool, limits): drawn later
                log.warning("chart: cannot draw ahead", exc_info=True)
                self._drop_pool_locked()  # the next chart starts a fresh one
                return False
            self._used = time.monotonic()
            while len(self._futures) > self.keep:
                self._futures.popitem(last=False)[1][0].cancel()
            return True

    def _drop_pool_locked(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def _start_locked(self) -> Any:
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # spawn: a fresh interpreter, not a fork of a process that has threads
            self._pool = ProcessPoolExecutor(
                max_workers=self.PROCESSES, mp_context=multiprocessing.get_context("spawn")
            )
            self._used = time.monotonic()
        return self._pool

    def warm(self) -> list[Future[None]]:
        """Start the worker processes now (each imports matplotlib and builds its figure,
        seconds of CPU on a busy machine) rather than when the first digest is queued.
        -> the warm-ups, to wait on if wanted."""
        with self._lock:
            if not self._enabled:
                return []
            try:
                pool = self._start_locked()
                warming = [pool.submit(_warm_worker) for _ in range(self.PROCESSES)]
            except Exception:
                log.warning("chart: cannot start the drawing processes", exc_info=True)
                return []
            self._used = time.monotonic()
            return warming

    def png(self, data: dict[str, Any]) -> bytes | None:
        """The chart: drawn ahead, or drawn here when it was not handed over (or the
        worker failed, or took longer than WAIT); None while the worker is still drawing
        it (the caller comes back for it instead of waiting)."""
        key = data_key(data)
        with self._lock:
            future, since = self._futures.get(key, (None, 0.0))
            if future is not None and not future.done() and time.monotonic() - since < self.WAIT:
                return None
            self._futures.pop(key, None)
        if future is not None and future.done() and not future.cancelled():
            try:
                png = future.result()
                self.drawn_ahead += 1
                return png
            except Exception:  # the worker died or could not draw it: draw it here
                log.warning("chart: the drawing process failed; drawing here", exc_info=True)
        elif future is not None:
            future.cancel()
            log.warning("chart: the drawing process is too slow; drawing here")
        return draw(data)

    def stop_if_idle(self, seconds: float) -> bool:
        """Stop the worker process when nothing was handed over for `seconds`."""
        with self._lock:
            busy = any(not future.done() for future, _since in self._futures.values())
            if self._pool is None or busy or time.monotonic() - self._used < seconds:
                return False
            self._futures.clear()
            pool, self._pool = self._pool, None
        pool.shutdown(wait=False, cancel_futures=True)
        return True

    def stop(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
            self._futures.clear()
            self._enabled = False
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)



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
