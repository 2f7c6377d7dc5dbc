"""Tables and figures for the studies (matplotlib with the Agg backend: no display needed).

table(results)                  one row per variant: final validation accuracy mean ± std, time
plot_curves(results, path)      2x2 PNG: training loss and validation accuracy vs epoch (top)
                                and vs wall-clock seconds (bottom); one line per variant, the
                                mean over seeds, shaded between the lowest and highest seed
"""

from __future__ import annotations

import json
import os

import numpy as np


def _pm(stat, scale=1.0, digits=4) -> str:
    if stat["mean"] is None:
        return "-"
    return f"{stat['mean'] * scale:.{digits}f} ± {stat['std'] * scale:.{digits}f}"


def rows(results: dict) -> list[tuple[str, ...]]:
    """Header and one row per variant: label, val accuracy mean ± std, final training loss, s/epoch, note."""
    epochs = max(1, results["config"]["epochs"])
    out = [("variant", "val accuracy (mean ± std)", "final train loss", "s/epoch", "note")]
    accs = [v["final_val_accuracy"]["mean"] for v in results["variants"]]
    best = max((a for a in accs if a is not None), default=None)
    for v in results["variants"]:
        losses = [r["history"]["loss"][-1] for r in v["runs"] if not r["diverged"]]
        note = f"diverged {v['diverged']}/{len(v['runs'])}" if v["diverged"] else ""
        if best is not None and v["final_val_accuracy"]["mean"] == best:
            note = (note + " best").strip()
        out.append(
            (
                v["label"],
                _pm(v["final_val_accuracy"]),
                f"{np.mean(losses):.4f}" if losses else "-",
                f"{v['seconds']['mean'] / epochs:.2f}",
                note,
            )
        )
    return out


def heading(results: dict) -> str:
    cfg = results["config"]
    base = cfg["base"]
    net = (
        f"mlp {'-'.join(str(h) for h in [784, *base['hidden'], 10])} {base['activation']}"
        if base["model"] == "mlp"
        else base["model"]
    )
    return (
        f"study {results['study']}: {net}, {cfg['train_size']} training / {cfg['val_size']} validation "
        f"images, {cfg['epochs']} epochs, seeds {cfg['seeds']}, base {base['optimizer']} lr {base['lr']:g}, "
        f"batch {base['batch_size']}, init {base['init']}"
    )


def table(results: dict) -> str:
    """A plain-text table of a ``compare`` result (the best mean validation accuracy marked "best")."""
    body = rows(results)
    widths = [max(len(r[c]) for r in body) for c in range(len(body[0]))]
    lines = [heading(results)]
    for i, r in enumerate(body):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(results: dict) -> str:
    """The same table in Markdown (for docs/studies.md)."""
    body = rows(results)
    lines = ["| " + " | ".join(body[0]) + " |", "|" + "---|" * len(body[0])]
    lines += ["| " + " | ".join(r) + " |" for r in body[1:]]
    return "\n".join(lines)


def _series(runs, key, x_key):
    """Mean x and mean/min/max y per epoch over the runs that reached that epoch with a finite value."""
    n = max(len(r["history"]["epoch"]) for r in runs)
    xs, mean, low, high = [], [], [], []
    for e in range(n):
        pts = [
            (r["history"][x_key][e], r["history"][key][e])
            for r in runs
            if e < len(r["history"]["epoch"]) and r["history"][key][e] is not None
        ]
        if not pts:
            continue
        x, y = np.array(pts, dtype=float).T
        xs.append(x.mean())
        mean.append(y.mean())
        low.append(y.min())
        high.append(y.max())
    return np.array(xs), np.array(mean), np.array(low), np.array(high)


def plot_curves(results: dict, path) -> str:
    """Loss and validation accuracy vs epoch and vs wall time, one line per variant; returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from matplotlib.ticker import MaxNLocator

    from digitnet.plots import final_accuracy_bars

    fig = plt.figure(figsize=(15, 7.5))
    grid = fig.add_gridspec(2, 3, width_ratios=(1, 1, 0.85))
    axes = [[fig.add_subplot(grid[r, c]) for c in range(2)] for r in range(2)]
    ax_bars = fig.add_subplot(grid[:, 2])
    ends = [
        r["history"]["wall_seconds"][-1]
        for v in results["variants"]
        for r in v["runs"]
        if len(r["history"]["wall_seconds"]) > 1
    ]
    log_time = bool(ends) and max(ends) > 20 * min(ends)  # very different speeds: log axis from epoch 1 on
    for i, v in enumerate(results["variants"]):
        colour = f"C{i % 10}"
        for row, x_key in enumerate(("epoch", "wall_seconds")):
            for col, key in enumerate(("loss", "val_accuracy")):
                x, mean, low, high = _series(v["runs"], key, x_key)
                if row == 1 and log_time:
                    x, mean, low, high = x[1:], mean[1:], low[1:], high[1:]
                ax = axes[row][col]
                label = v["label"] + (" (diverged)" if v["diverged"] else "")
                ax.plot(x, mean, color=colour, marker="o", ms=3, label=label)
                if len(v["runs"]) > 1:
                    ax.fill_between(x, low, high, color=colour, alpha=0.15, lw=0)
    cfg = results["config"]
    best = max(
        (a for v in results["variants"] for r in v["runs"] for a in r["history"]["val_accuracy"] if a is not None),
        default=0.9,
    )
    top = min(0.999, 1 - (1 - best) / 2)
    ticks = [t for t in (0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.998) if t <= top]
    time_label = "wall-clock seconds (training + validation)" + (", log scale" if log_time else "")
    for row, xlabel in enumerate(("epoch", time_label)):
        axes[row][0].set(xlabel=xlabel, ylabel="training loss", yscale="log")
        # logit scale: 0.1 (chance), 0.9, 0.99 equally spaced, so failures and fine differences both show
        ax = axes[row][1]
        ax.set(xlabel=xlabel, ylabel="validation accuracy (logit scale)", yscale="logit", ylim=(0.05, top))
        ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
        ax.minorticks_off()
        for ax in axes[row]:
            ax.grid(alpha=0.3)
            if row == 1 and log_time:
                ax.set_xscale("log")
    for ax in axes[0]:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0][1].legend(fontsize=8, loc="lower right")
    stats = [v["final_val_accuracy"] for v in results["variants"]]
    final_accuracy_bars(
        ax_bars, [v["label"] for v in results["variants"]], [s["mean"] for s in stats], [s["std"] for s in stats]
    )
    ax_bars.set_title("final validation accuracy", fontsize=10)
    base = cfg.get("base", {})
    model = base.get("model", "mlp")
    if model == "mlp" and base.get("hidden"):
        model = "mlp 784-" + "-".join(str(h) for h in base["hidden"]) + "-10"
    fig.suptitle(
        f"compare {results['study']} on {model}: {cfg['train_size']} images, {cfg['epochs']} epochs, "
        f"{len(cfg['seeds'])} seeds (line: mean, band: min-max)",
        fontsize=11,
    )
    fig.tight_layout()
    return save(fig, path)


def save(fig, path) -> str:
    """Write a figure as PNG (to a temporary name, then renamed) and close it."""
    from digitnet.plots import _save

    return _save(fig, path, dpi=90, tight=False)


def write(results: dict, out: str, png: str, plot, table, verbose: bool) -> dict:
    """Save ``results`` as out/results.json and its figure as out/png; print the table if verbose."""
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    plot(results, os.path.join(out, png))
    results["out"] = out
    if verbose:
        print(table(results))
        print(f"results in {out}/ (results.json, {png})")
    return results


def loops_rows(results: dict) -> list[tuple[str, ...]]:
    """Header and one row per implementation of a ``compare_loops`` result."""
    out = [
        (
            "implementation",
            "batch",
            "dtype",
            "epochs",
            "s/epoch",
            "µs/sample",
            "speed-up",
            "peak memory",
            "final loss",
            "test acc",
        )
    ]
    n = results["config"]["train_size"]
    for r in results["rows"]:
        out.append(
            (
                r["name"],
                str(r["batch_size"]),
                r["dtype"],
                str(r["epochs"]),
                f"{r['seconds_per_epoch']:.4g}",
                f"{r['seconds_per_epoch'] / n * 1e6:,.0f}",
                f"{r['speedup_vs_list_loops']:,.1f}x",
                f"{r['peak_memory_bytes'] / 1024:,.0f} KiB",
                f"{r['final_loss']:.4f}",
                f"{r['test_accuracy']:.3f}",
            )
        )
    return out


def loops_summary(results: dict) -> str:
    """The seed's figures next to ours, and the loop/vectorised agreement."""
    ref = results["seed_reference"]
    by_key = {r["key"]: r for r in results["rows"]}
    lines = [
        f"seed (its machine): loops {ref['loop_seconds_per_epoch']:.2f} s/epoch ({ref['loop_seconds']:g} s / "
        f"{ref['loop_epochs']} epochs), vectorised {ref['vectorised_seconds_per_epoch']:.3f} s/epoch "
        f"({ref['vectorised_seconds']:g} s / {ref['vectorised_epochs']} epochs): {ref['speedup']:.0f}x"
    ]
    loop, vec = by_key.get("loops-list-b1"), by_key.get("vectorised-float64-b1")
    if loop and vec:
        lines.append(
            f"ours (this machine): loops {loop['seconds_per_epoch']:.3f} s/epoch, vectorised batch 1 float64 "
            f"{vec['seconds_per_epoch']:.4f} s/epoch: "
            f"{loop['seconds_per_epoch'] / vec['seconds_per_epoch']:.0f}x"
            f" (20 loop epochs: {20 * loop['seconds_per_epoch']:.1f} s; 200 vectorised epochs: "
            f"{200 * vec['seconds_per_epoch']:.2f} s)"
        )
    if results.get("agreement"):
        a = results["agreement"]
        lines.append(
            f"loops vs vectorised float64 batch 1, same start and order: largest loss difference over "
            f"{a['epochs_compared']} epochs {a['max_abs_loss_difference']:.1e}"
        )
    return "\n".join(lines)


def loops_table(results: dict) -> str:
    body = loops_rows(results)
    widths = [max(len(r[c]) for r in body) for c in range(len(body[0]))]
    cfg = results["config"]
    lines = [f"compare loops: {cfg['network']}, {cfg['train_size']} training images, lr {cfg['lr']:g}"]
    for i, r in enumerate(body):
        lines.append(
            "  ".join(
                cell.rjust(w) if i and c else cell.ljust(w) for c, (cell, w) in enumerate(zip(r, widths))
            ).rstrip()
        )
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines + [loops_summary(results)] + tiers_table(results))


def tiers_table(results: dict) -> list[str]:
    """Lines of the per-tier step timings of a ``compare_loops`` result (none if it has none)."""
    rows = results.get("tiers") or []
    if not rows:
        return []
    lines = [
        f"one Adam step, batch {rows[0]['batch_size']}, float32, per tier (loops: one step; others: median of 5):",
        f"{'model':<10}  {'tier':<9}  {'ms/step':>10}  {'x fast':>8}  {'peak memory':>12}",
    ]
    for r in rows:
        lines.append(
            f"{r['model']:<10}  {r['tier']:<9}  {r['seconds_per_step'] * 1e3:>10,.2f}  "
            f"{r['times_fast']:>7,.1f}x  {r['peak_memory_bytes'] / 1024:>8,.0f} KiB"
        )
    return lines


def plot_loops(results: dict, path) -> str:
    """Bar charts: seconds per epoch (log scale) and peak traced memory, one bar per implementation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["rows"]
    labels = [f"{r['name']}\nbatch {r['batch_size']}, {r['dtype']}" for r in rows]
    colours = ["C3" if r["implementation"] == "loops" else "C0" for r in rows]
    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(12, 4.5))
    ys = np.arange(len(rows))
    ax_t.barh(ys, [r["seconds_per_epoch"] for r in rows], color=colours)
    ax_t.set(
        xscale="log",
        xlabel=f"seconds per epoch ({results['config']['train_size']} images, log scale)",
        yticks=ys,
        yticklabels=labels,
        title="time",
    )
    ref = results["seed_reference"]
    ax_t.axvline(ref["loop_seconds_per_epoch"], color="C3", ls="--", lw=1, label="seed: loops")
    ax_t.axvline(ref["vectorised_seconds_per_epoch"], color="C0", ls="--", lw=1, label="seed: vectorised")
    ax_t.legend(fontsize=8)
    ax_m.barh(ys, [r["peak_memory_bytes"] / 1024 for r in rows], color=colours)
    ax_m.set(xlabel="peak traced memory, KiB (tracemalloc)", yticks=ys, yticklabels=[], title="memory")
    for ax in (ax_t, ax_m):
        ax.invert_yaxis()
        ax.grid(alpha=0.3, axis="x")
    network = results["config"].get("network")
    fig.suptitle("loops vs vectorised" + (f": {network}" if network else ""), fontsize=11)
    fig.tight_layout()
    return save(fig, path)
