"""Per-frame metric plots for the report's sequence pages: one figure per metric output, one panel
per bitrate range, one line per codec's reconstruction shown in that range."""
from __future__ import annotations

from pathlib import Path

from ..files import atomic_path
from ..metrics import all_outputs


def draw_per_frame(panels: list[tuple[str, list[tuple[str, list[float]]]]], output: str, title: str,
                   path: Path) -> Path:
    """``panels``: (panel title, [(line label, per-frame values)]); writes a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    meta = all_outputs().get(output)
    n = max(1, len(panels))
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.2), dpi=110, sharey=True, squeeze=False)
    for ax, (ptitle, lines) in zip(axes[0], panels):
        for label, values in lines:
            ax.plot(range(len(values)), [float("nan") if v is None else v for v in values], lw=1.3, label=label)
        ax.set_title(ptitle, fontsize=9)
        ax.set_xlabel("frame")
        ax.grid(True, alpha=0.3)
        if lines:
            ax.legend(fontsize=7)
    unit = f" [{meta.unit}]" if meta and meta.unit else ""
    better = f" ({meta.direction} is better)" if meta else ""
    axes[0][0].set_ylabel(f"{output}{unit}{better}", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    with atomic_path(path, path.suffix) as tmp:
        fig.savefig(tmp)
    plt.close(fig)
    return path
