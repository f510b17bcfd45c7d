"""One chart style for every report: DejaVu Sans (Kazakh letters), a calm palette,
value labels formatted by :mod:`helpers.fmt`, sized for a ~16 cm wide page.

Chart helpers return a closed matplotlib ``Figure`` (displayed once when it is the
last expression of a notebook cell; never shown twice by pyplot).
"""
from __future__ import annotations

import textwrap
from typing import Any, Sequence

import matplotlib

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from . import fmt

CM = 1 / 2.54
WIDTH = 16 * CM
HEIGHT = 9 * CM
PALETTE = ["#2f6690", "#d9822b", "#3a7d44", "#9b4f96", "#c0392b", "#7f8c8d", "#16a085"]
FONT = "DejaVu Sans"


def setup() -> None:
    """Apply the esep chart style (call once at the top of a notebook)."""
    sns.set_theme(context="paper", style="whitegrid", palette=PALETTE, font=FONT)
    matplotlib.rcParams.update({
        "font.family": "sans-serif",
        "font.sans-serif": [FONT],
        "figure.figsize": (WIDTH, HEIGHT),
        "figure.dpi": 150,
        "savefig.dpi": 200,
        "savefig.bbox": "tight",
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.labelsize": 9,
        "xtick.labelsize": 8.5,
        "ytick.labelsize": 8.5,
        "legend.fontsize": 8.5,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titleweight": "bold",
        "svg.fonttype": "none",
    })


def _wrap(label: Any, width: int) -> str:
    return "\n".join(textwrap.wrap(str(label), width)) or str(label)


def _labeller(decimals: int, percent: bool):
    return (lambda v: fmt.pct(v, decimals)) if percent else (lambda v: fmt.num(v, decimals))


def _order(values: pd.Series) -> list:
    return list(dict.fromkeys(values.tolist()))


def bar(df: pd.DataFrame, x: str, y: str, hue: str | None = None, *,
        title: str | None = None, xlabel: str | None = None, ylabel: str | None = None,
        decimals: int = 0, percent: bool = False, horizontal: bool = False,
        wrap: int = 16, legend_title: str | None = None,
        size: tuple[float, float] | None = None) -> plt.Figure:
    """Bar chart (grouped by ``hue`` when given) with value labels on every bar.

    Category order is the order of first appearance in ``df``; missing values are
    drawn as 0-height bars labelled ``-``.
    """
    cats = _order(df[x])
    groups = _order(df[hue]) if hue else [None]
    fig, ax = plt.subplots(figsize=size or (WIDTH, HEIGHT))
    n = len(groups)
    width = 0.8 / n
    label = _labeller(decimals, percent)
    for gi, g in enumerate(groups):
        sub = df if g is None else df[df[hue] == g]
        vals = [sub.loc[sub[x] == c, y].sum(min_count=1) if (sub[x] == c).any() else float("nan")
                for c in cats]
        pos = [i - 0.4 + width * (gi + 0.5) for i in range(len(cats))]
        heights = [0 if fmt.is_missing(v) else v for v in vals]
        color = PALETTE[gi % len(PALETTE)]
        bars = (ax.barh(pos, heights, height=width * 0.92, color=color, label=g)
                if horizontal else
                ax.bar(pos, heights, width=width * 0.92, color=color, label=g))
        ax.bar_label(bars, labels=[label(v) for v in vals], padding=2, fontsize=8)
    ticks = list(range(len(cats)))
    names = [_wrap(c, wrap) for c in cats]
    if horizontal:
        ax.set_yticks(ticks, names)
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        ax.margins(x=0.12)
    else:
        ax.set_xticks(ticks, names)
        ax.grid(axis="x", visible=False)
        ax.margins(y=0.12)
    ax.set_xlabel(xlabel or "")
    ax.set_ylabel(ylabel or "")
    if title:
        ax.set_title(_wrap(title, 75))
    if hue:
        ax.legend(title=legend_title, frameon=False, ncols=min(n, 4), loc="upper center",
                  bbox_to_anchor=(0.5, -0.22 if not horizontal else -0.12))
    fig.tight_layout()
    plt.close(fig)
    return fig


def line(df: pd.DataFrame, x: str, y: str, hue: str | None = None, *,
         title: str | None = None, xlabel: str | None = None, ylabel: str | None = None,
         decimals: int = 0, percent: bool = False, legend_title: str | None = None,
         size: tuple[float, float] | None = None) -> plt.Figure:
    """Line chart (one line per ``hue`` value) with value labels at each point."""
    cats = _order(df[x])
    groups = _order(df[hue]) if hue else [None]
    fig, ax = plt.subplots(figsize=size or (WIDTH, HEIGHT))
    label = _labeller(decimals, percent)
    for gi, g in enumerate(groups):
        sub = df if g is None else df[df[hue] == g]
        pts = [(i, sub.loc[sub[x] == c, y].sum(min_count=1)) for i, c in enumerate(cats)
               if (sub[x] == c).any()]
        pts = [(i, v) for i, v in pts if not fmt.is_missing(v)]
        if not pts:
            continue
        xs, ys = zip(*pts)
        ax.plot(xs, ys, marker="o", color=PALETTE[gi % len(PALETTE)], label=g, linewidth=2)
        for xi, yi in pts:
            ax.annotate(label(yi), (xi, yi), textcoords="offset points", xytext=(0, 6),
                        ha="center", fontsize=8)
    ax.set_xticks(range(len(cats)), [str(c) for c in cats])
    ax.margins(y=0.15)
    ax.set_xlabel(xlabel or "")
    ax.set_ylabel(ylabel or "")
    if title:
        ax.set_title(_wrap(title, 75))
    if hue:
        ax.legend(title=legend_title, frameon=False)
    fig.tight_layout()
    plt.close(fig)
    return fig
