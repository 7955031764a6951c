"""The picture of a comparison: error per layer (``openacl compare --plot FILE.png``).

matplotlib draws it (a dependency of openacl; if it is missing, ``PlotUnavailable`` says
how to install it). Two panels share the node axis, in topological order: the relative
error (log scale) with the tolerance, and ``1 - cosine`` (log scale); the first node past
tolerance is marked and named, and nodes with inf/NaN are drawn at the top in red.
"""

from __future__ import annotations

__all__ = ["plot_report", "PlotUnavailable"]

_FLOOR = 1e-12          # log axes: an exact zero is drawn here


class PlotUnavailable(RuntimeError):
    """matplotlib is not installed."""


def plot_report(report, path: str) -> None:
    """Draw ``report`` (a ``compare.Report``) to ``path`` (PNG, or any format matplotlib
    knows from the file's extension)."""
    try:
        import matplotlib
        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotUnavailable("the plot needs matplotlib, which is not installed: "
                              "pip install matplotlib (or pip install openacl's "
                              "dependencies again)") from None
    nodes = report.nodes
    x = [node.index for node in nodes]
    worst = [node.worst for node in nodes]
    top = max([w.rel_err for w in worst if w.rel_err] + [report.rtol * 10])
    rel = [top * 2 if w.rel_err is None else max(w.rel_err, _FLOOR) for w in worst]
    gap = [1.0 if w.cosine is None else max(1.0 - w.cosine, _FLOOR) for w in worst]
    bad = [w.rel_err is None or w.cosine is None for w in worst]
    figure, (upper, lower) = plt.subplots(2, 1, sharex=True, figsize=(max(8, len(x) / 12), 6),
                                          constrained_layout=True)
    upper.semilogy(x, rel, ".-", linewidth=0.8, markersize=3, label="relative error")
    upper.axhline(report.rtol, color="grey", linestyle="--", linewidth=0.8,
                  label=f"rtol {report.rtol:g}")
    lower.semilogy(x, gap, ".-", color="tab:green", linewidth=0.8, markersize=3,
                   label="1 - cosine similarity")
    lower.axhline(max(1.0 - report.min_cosine, _FLOOR), color="grey", linestyle="--",
                  linewidth=0.8, label=f"cosine {report.min_cosine:g}")
    for axis, values in ((upper, rel), (lower, gap)):
        marked = [(i, v) for i, v, b in zip(x, values, bad) if b]
        if marked:
            axis.plot(*zip(*marked), "x", color="red", label="inf/nan")
    first = report.first
    if first is not None:
        for axis in (upper, lower):
            axis.axvline(first.index, color="red", linewidth=0.8)
        upper.annotate(f"first past tolerance: #{first.index} {first.node} ({first.op_type})",
                       xy=(first.index, 0.5), xycoords=("data", "axes fraction"),
                       xytext=(4, 0), textcoords="offset points", color="red", fontsize=8)
    upper.set_title(f"{report.model}: {report.mode}, {report.setting} "
                    f"({report.engine} {report.precision}) vs float32", fontsize=9)
    upper.set_ylabel("||x - ref|| / ||ref||")
    lower.set_ylabel("1 - cosine")
    lower.set_xlabel("node (topological order)")
    for axis in (upper, lower):
        axis.grid(True, which="major", alpha=0.3)
        axis.legend(fontsize=7, loc="lower right")
    figure.savefig(path, dpi=120)
    plt.close(figure)
