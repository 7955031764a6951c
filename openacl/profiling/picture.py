"""timeline.png: the recorded lanes as a picture, for people who would rather look than read.

A whole run is usually dominated by loading (a model load takes 100x an execute), so the
device work (stream tasks and operators) would be a sliver at its right edge. When that work
fills less than half the run, a second panel shows just its stretch. Bars wide enough to
read carry their names, widest first, so the picture says what the long bars are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Panel", "panels", "write"]

COLOURS = {"api": "tab:blue", "copy": "tab:cyan", "task": "tab:orange", "op": "tab:green"}
ZOOM_BELOW = 0.5        # zoom on the device work when it spans less than this share of the run
LABEL_SHARE = 0.06      # a bar this share of its panel's width or wider is named
MAX_LABELS = 30         # per panel: more would overlap into noise
CHARS_ACROSS = 190      # characters of the label font across a panel (14 in at 100 dpi)


@dataclass
class Panel:
    """One axes of the picture: its window in ms since the first event, its bars per
    (row, kind) as (start, width) ms, and its labels as (middle ms, row, text)."""
    title: str
    window: tuple[float, float]
    bars: dict = field(default_factory=dict)
    labels: list = field(default_factory=list)


def _row_title(kind: str, lane) -> str:
    return {"api": f"host thread {lane}", "copy": f"host thread {lane}",
            "task": str(lane), "op": f"{lane} ops"}[kind]


def _label(kind: str, name: str, args) -> str:
    return f"memcpy {args['bytes']} B" if kind == "copy" else name


def panels(recorded: list) -> tuple[list[str], list[Panel]]:
    """The rows (lane titles, top to bottom) and the panels timeline.png draws."""
    rows: dict[str, int] = {}
    origin = min((e[3] for e in recorded), default=0)
    spans = []                      # (row, kind, start ms, width ms, label)
    for kind, name, lane, start_ns, end_ns, args in recorded:
        row = rows.setdefault(_row_title(kind, lane), len(rows))
        spans.append((row, kind, (start_ns - origin) / 1e6,
                      max(end_ns - start_ns, 1000) / 1e6, _label(kind, name, args)))
    end = max((s[2] + s[3] for s in spans), default=1.0)
    windows = [("the whole run", (0.0, end))]
    device = [s for s in spans if s[1] in ("task", "op")]
    if device:
        first = min(s[2] for s in device)
        last = max(s[2] + s[3] for s in device)
        if last - first < ZOOM_BELOW * end:
            pad = 0.02 * (last - first)
            windows.append(("the device work (stream tasks and operators)",
                            (max(first - pad, 0.0), last + pad)))
    return list(rows), [_panel(title, window, spans) for title, window in windows]


def _panel(title: str, window: tuple[float, float], spans: list) -> Panel:
    panel = Panel(title, window)
    low, high = window
    width = high - low
    visible = []
    for row, kind, start, span, label in spans:
        shown = min(start + span, high) - max(start, low)
        if shown <= 0:                                  # outside this panel
            continue
        panel.bars.setdefault((row, kind), []).append((start, span))
        if shown >= LABEL_SHARE * width:
            visible.append((shown, (max(start, low) + min(start + span, high)) / 2, row, label))
    for shown, middle, row, label in sorted(visible, reverse=True)[:MAX_LABELS]:
        room = max(int(shown / width * CHARS_ACROSS), 2)
        text = label if len(label) <= room else label[:room - 1] + "…"
        panel.labels.append((middle, row, text))
    return panel


def write(path: str, recorded: list) -> None:
    """Draw ``panels(recorded)`` into a PNG at ``path`` (matplotlib, no display needed)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    rows, drawn = panels(recorded)
    height = 0.8 + 0.5 * max(len(rows), 1)
    figure, axes_list = plt.subplots(len(drawn), 1, figsize=(14, 0.4 + height * len(drawn)),
                                     squeeze=False)
    for axes, panel in zip((a for (a,) in axes_list), drawn):
        for (row, kind), bars in panel.bars.items():
            axes.broken_barh(bars, (row - 0.4, 0.8), facecolors=COLOURS[kind])
        for middle, row, text in panel.labels:
            axes.text(middle, row, text, ha="center", va="center", fontsize=7, color="white",
                      clip_on=True)
        axes.set_xlim(*panel.window)
        axes.set_yticks(range(len(rows)))
        axes.set_yticklabels(rows)
        axes.invert_yaxis()
        axes.set_xlabel("ms since the first event")
        axes.set_title(panel.title, fontsize=10)
    figure.suptitle("openacl timeline (blue: API calls, cyan: synchronous copies, "
                    "orange: stream tasks, green: operators)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
