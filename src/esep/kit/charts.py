"""One chart style for every report: DejaVu Sans (Kazakh letters), a calm palette,
value labels formatted by :mod:`helpers.fmt`, sized for a ~16 cm wide page.

Chart helpers return a closed matplotlib ``Figure`` (displayed once when it is the
last expression of a notebook cell; never shown twice by pyplot). A chart is shown as
**SVG** (vector: sharp at any zoom, scales with the screen, text stays text) and its
``title`` is not drawn inside the image: it is the figure's caption («1-сурет. ...»),
carried in the output's metadata (``image/svg+xml`` -> ``alt`` and ``esep.caption``),
which esep's renderer turns into the image's alt text and a real caption under it
(HTML ``<figcaption>``, PDF caption, Word caption paragraph).
"""
from __future__ import annotations

import contextlib
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
ACCENT = PALETTE[1]     # a highlighted bar (the report's own region among all regions)


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
        "svg.hashsalt": "esep",          # stable element ids: the same chart, the same SVG
    })
    try:                                  # in a kernel: figures are displayed as SVG only
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("svg")
        _svg_once()
    except Exception:  # noqa: BLE001 - outside IPython there is nothing to configure
        pass


def _svg_once() -> None:
    """A chart helper's figure is drawn once per display, not twice: IPython asks the
    figure's ``_repr_mimebundle_`` (SVG + caption metadata) and then the SVG formatter
    registered for ``Figure`` (which would draw the figure again, ~0.2-0.4 s CPU per
    chart); the latter now returns the SVG the bundle just drew. Other figures are
    drawn by the registered formatter as before."""
    from IPython import get_ipython

    ip = get_ipython()
    if ip is None:
        return
    fmt_svg = ip.display_formatter.formatters["image/svg+xml"]
    base = fmt_svg.lookup_by_type(plt.Figure)
    if getattr(base, "esep_svg_once", False):
        return

    def svg_once(fig, *args, **kw):
        drawn = fig.__dict__.pop("_esep_svg", None)
        return drawn if drawn is not None else base(fig, *args, **kw)

    svg_once.esep_svg_once = True
    fmt_svg.for_type(plt.Figure, svg_once)


def svg(fig: plt.Figure) -> str:
    """The figure as SVG text (deterministic: no date, stable ids), cropped to its content
    like ``savefig(bbox_inches="tight")``.

    The same picture as ``fig.savefig(buf, format="svg", bbox_inches="tight")`` (the
    same elements and coordinates, up to ~1e-13 pt) at about half the CPU: that call
    lays the figure out (constrained layout), draws it once to a null renderer, measures
    its tight box, then draws it again. Here the layout and the tight box are measured
    with one SVG renderer at the SVG's 72 dpi (no throw-away draw), the figure is drawn
    once into the box, and every text's layout is computed once per call
    (:func:`_text_layouts_once`) instead of at each of the ~5 measuring passes.
    """
    import io

    from matplotlib.backends.backend_svg import FigureCanvasSVG, RendererSVG

    buf = io.StringIO()
    engine = fig.get_layout_engine()
    canvas, dpi = fig.canvas, fig.dpi
    with _text_layouts_once():
        try:
            measure = FigureCanvasSVG(fig)   # fig.canvas until restored below
            fig.dpi = 72                     # what FigureCanvasSVG.print_svg measures in
            width, height = fig.get_size_inches()
            renderer = RendererSVG(width * 72, height * 72, io.StringIO(), image_dpi=dpi)
            measure.get_renderer = lambda: renderer  # the layout engine measures with it
            if engine is not None:
                engine.execute(fig)
            box = fig.get_tightbbox(renderer).padded(matplotlib.rcParams["savefig.pad_inches"])
        finally:
            fig.dpi = dpi
            fig.set_canvas(canvas)
        fig.set_layout_engine(None)          # laid out: savefig neither lays out nor pre-draws
        try:
            fig.savefig(buf, format="svg", bbox_inches=box, metadata={"Date": None})
        finally:
            fig.set_layout_engine(engine)
    return buf.getvalue()


@contextlib.contextmanager
def _text_layouts_once():
    """Within the block, a text's layout (``Text._get_layout``: its lines' sizes and
    offsets from its anchor, independent of where the text stands) is computed once per
    text content, font and alignment, not at every measuring pass of a draw. Texts
    measured by SVG renderers share one entry: their metrics come from the font alone
    (``TextToPath``, unhinted, 72 dpi), not from the renderer instance. The cache lives
    for the block only (rcParams and fonts do not change inside it)."""
    from matplotlib.backends.backend_svg import RendererSVG
    from matplotlib.text import Text

    compute = Text._get_layout
    memo: dict = {}

    def layout(self, renderer):
        if self._wrap or self.get_usetex() or self.get_transform_rotates_text():
            return compute(self, renderer)   # depends on position / the TeX pipeline
        base = getattr(renderer, "_renderer", renderer)      # MixedModeRenderer wraps one
        key = (RendererSVG if type(base) is RendererSVG else renderer,
               self.get_figure(root=True).dpi, self._text, self._fontproperties.copy(),
               self._linespacing, self._multialignment, self._rotation, self._rotation_mode,
               self._horizontalalignment, self._verticalalignment, self._parse_math)
        hit = memo.get(key)
        if hit is None:
            hit = memo[key] = compute(self, renderer)
        bbox, info, descent = hit
        return bbox.frozen(), list(info), descent

    Text._get_layout = layout
    try:
        yield
    finally:
        Text._get_layout = compute


def caption(fig: plt.Figure) -> str | None:
    """The caption a chart helper attached to ``fig`` (its ``title=``), if any."""
    return getattr(fig, "esep_caption", None)


def _captioned(fig: plt.Figure, title: str | None) -> plt.Figure:
    """Attach ``title`` as the figure's caption and make it display as SVG with the
    caption in the output metadata (alt text; esep renders the caption under the image)."""
    fig.esep_caption = title

    def _repr_mimebundle_(include=None, exclude=None):
        meta = {"alt": title or "", "esep": {"caption": title or ""}}
        fig._esep_svg = svg(fig)  # the SVG formatter that IPython asks next returns it (_svg_once)
        return {"image/svg+xml": fig._esep_svg, "text/plain": title or "<Figure>"}, {"image/svg+xml": meta}

    fig._repr_mimebundle_ = _repr_mimebundle_
    return fig


def _wrap(label: Any, width: int) -> str:
    return "\n".join(textwrap.wrap(str(label), width)) or str(label)


def _labeller(decimals: int, percent: bool):
    return (lambda v: fmt.pct(v, decimals)) if percent else (lambda v: fmt.num(v, decimals))


def _order(values: pd.Series) -> list:
    return list(dict.fromkeys(values.tolist()))


# Layout constants (cm), measured on the rendered PDF: an 8 pt value label needs a bar
# ~0.36 cm thick; a line of 8.5 pt tick text is ~0.42 cm high; DejaVu Sans at 8.5 pt
# sets ~5.5 characters per cm.
BAR_CM = 0.36
LINE_CM = 0.42
CHARS_PER_CM = 5.5
MAX_HEIGHT = 17 * CM     # the PDF shows a figure at most 170 mm high (report.css)
VALUE_PT = 8


def horizontal_height(n_cats: int, n_groups: int = 1, label_lines: int = 1,
                      legend: bool = False, title_lines: int = 1) -> float:
    """Figure height (inches) for a horizontal bar chart: every category gets room for
    its bars (each thick enough for its value label) and its wrapped name, plus the
    title, the value axis and the legend. At least :data:`HEIGHT`, at most
    :data:`MAX_HEIGHT`."""
    per_cat = max(n_groups * BAR_CM / 0.8, label_lines * LINE_CM + 0.25)
    other = 0.5 * title_lines + 1.6 + (1.3 if legend else 0)
    return min(max(n_cats * per_cat + other, HEIGHT / CM), MAX_HEIGHT / CM) * CM


def _tick_wrap(cats: list, wrap: int, width_in: float) -> tuple[int, bool]:
    """(wrap width, rotate?) for the category labels under vertical bars: labels are
    wrapped to the width of one category slot; when a single word is wider than the
    slot, labels are rotated instead of overlapping their neighbours."""
    slot_chars = int((width_in / CM - 2.0) / max(len(cats), 1) * CHARS_PER_CM)
    longest_word = max((len(w) for c in cats for w in str(c).split()), default=0)
    if longest_word > slot_chars:
        return wrap, True
    return max(min(wrap, slot_chars), longest_word), False


def _legend_below(fig: plt.Figure, ax: plt.Axes, title: str | None, n: int) -> None:
    """Legend under the plot (outside the axes, so it never covers bars, points or
    tick labels); the constrained layout makes room for it."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, title=title, frameon=False, ncols=min(n, 4),
               loc="outside lower center")


def bar(df: pd.DataFrame, x: str, y: str, hue: str | None = None, *,
        title: str | None = None, xlabel: str | None = None, ylabel: str | None = None,
        decimals: int = 0, percent: bool = False, horizontal: bool = False,
        wrap: int = 16, legend_title: str | None = None,
        size: tuple[float, float] | None = None,
        highlight: Sequence[Any] | None = None) -> plt.Figure:
    """Bar chart (grouped by ``hue`` when given) with value labels on every bar.

    Category order is the order of first appearance in ``df``; missing values are
    drawn as 0-height bars labelled ``-``. Without ``size``, a horizontal chart's height
    grows with the number of categories and bars (:func:`horizontal_height`); vertical
    category labels are wrapped to their slot (rotated if a word does not fit). The
    legend sits under the plot. ``highlight``: categories whose name is shown bold and,
    without ``hue``, whose bar is drawn in the accent colour (one region among all).
    """
    cats = _order(df[x])
    groups = _order(df[hue]) if hue else [None]
    n = len(groups)
    title_text = None                     # the title is the caption, under the image
    names = [_wrap(c, wrap) for c in cats]
    rotate = False
    if horizontal:
        lines = max((nm.count("\n") + 1 for nm in names), default=1)
        size = size or (WIDTH, horizontal_height(len(cats), n, lines, legend=bool(hue),
                                                 title_lines=title_text.count("\n") + 1 if title_text else 0))
    else:
        size = size or (WIDTH, HEIGHT)
        w, rotate = _tick_wrap(cats, wrap, size[0])
        names = [_wrap(c, w) for c in cats]
    marked = set(highlight or [])
    fig, ax = plt.subplots(figsize=size, layout="constrained")
    width = 0.8 / n
    label = _labeller(decimals, percent)
    for gi, g in enumerate(groups):
        sub = df if g is None else df[df[hue] == g]
        vals = [sub.loc[sub[x] == c, y].sum(min_count=1) if (sub[x] == c).any() else float("nan")
                for c in cats]
        pos = [i - 0.4 + width * (gi + 0.5) for i in range(len(cats))]
        heights = [0 if fmt.is_missing(v) else v for v in vals]
        color = PALETTE[gi % len(PALETTE)]
        if g is None and marked:
            color = [ACCENT if c in marked else PALETTE[0] for c in cats]
        bars = (ax.barh(pos, heights, height=width * 0.92, color=color, label=g)
                if horizontal else
                ax.bar(pos, heights, width=width * 0.92, color=color, label=g))
        ax.bar_label(bars, labels=[label(v) for v in vals], padding=2, fontsize=VALUE_PT)
    ticks = list(range(len(cats)))
    if horizontal:
        ax.set_yticks(ticks, names)
        ax.set_ylim(len(cats) - 0.5, -0.5)          # first category on top
        ax.grid(axis="y", visible=False)
        ax.margins(x=0.12)
    else:
        ax.set_xticks(ticks, names, rotation=35 if rotate else 0,
                      ha="right" if rotate else "center", rotation_mode="anchor")
        ax.set_xlim(-0.5, len(cats) - 0.5)
        ax.grid(axis="x", visible=False)
        ax.margins(y=0.12)
    for tick, c in zip(ax.get_yticklabels() if horizontal else ax.get_xticklabels(), cats):
        if c in marked:
            tick.set_fontweight("bold")
    ax.set_xlabel(xlabel or "")
    ax.set_ylabel(ylabel or "")
    if hue:
        _legend_below(fig, ax, legend_title, n)
    plt.close(fig)
    return _captioned(fig, title)


LABEL_GAP_PT = 8        # from a point to the centre of its value label
LABEL_STEP_PT = 10      # between the centres of two value labels at the same x
LABEL_CLEAR_PT = 8      # from a label's centre to any other point's marker


def label_offsets(ys_pt: Sequence[float]) -> list[float]:
    """Vertical offsets (points, label centre minus point) for the value labels of the
    points sharing one x, given the points' heights on the page (points).

    From the highest point down, each label goes above its point, else below it, taking
    the first place that keeps clear of the labels already placed and of the other
    points' markers; when neither is free it stacks under the previous label. Pure, so
    it is tested without drawing."""
    order = sorted(range(len(ys_pt)), key=lambda i: -ys_pt[i])
    offsets = [0.0] * len(ys_pt)
    prev = float("inf")
    for i in order:
        y = ys_pt[i]
        others = [o for j, o in enumerate(ys_pt) if j != i]

        def free(c: float) -> bool:
            return c <= prev - LABEL_STEP_PT and all(abs(c - o) >= LABEL_CLEAR_PT for o in others)

        centre = next((c for c in (y + LABEL_GAP_PT, y - LABEL_GAP_PT) if free(c)),
                      min(prev - LABEL_STEP_PT, y - LABEL_GAP_PT))
        offsets[i] = centre - y
        prev = centre
    return offsets


def line(df: pd.DataFrame, x: str, y: str, hue: str | None = None, *,
         title: str | None = None, xlabel: str | None = None, ylabel: str | None = None,
         decimals: int = 0, percent: bool = False, legend_title: str | None = None,
         size: tuple[float, float] | None = None) -> plt.Figure:
    """Line chart (one line per ``hue`` value) with value labels at each point.

    Labels are in their line's colour and never overlap when lines come close
    (:func:`label_offsets`); the legend sits under the plot, not on the data.
    """
    cats = _order(df[x])
    groups = _order(df[hue]) if hue else [None]
    fig, ax = plt.subplots(figsize=size or (WIDTH, HEIGHT), layout="constrained")
    label = _labeller(decimals, percent)
    points: list[tuple[int, float, str]] = []
    for gi, g in enumerate(groups):
        sub = df if g is None else df[df[hue] == g]
        pts = [(i, sub.loc[sub[x] == c, y].sum(min_count=1)) for i, c in enumerate(cats)
               if (sub[x] == c).any()]
        pts = [(i, v) for i, v in pts if not fmt.is_missing(v)]
        if not pts:
            continue
        xs, ys = zip(*pts)
        color = PALETTE[gi % len(PALETTE)]
        ax.plot(xs, ys, marker="o", color=color, label=g, linewidth=2)
        points += [(xi, yi, color) for xi, yi in pts]
    ax.set_xticks(range(len(cats)), [str(c) for c in cats])
    ax.set_xlim(-0.3, len(cats) - 0.7)
    ax.margins(y=0.18)
    ax.set_xlabel(xlabel or "")
    ax.set_ylabel(ylabel or "")
    if hue:
        _legend_below(fig, ax, legend_title, len(groups))
    fig.canvas.draw()                    # lay out once: data -> page points is now known
    to_pt = 72 / fig.dpi
    for xi in sorted({p[0] for p in points}):
        here = [p for p in points if p[0] == xi]
        ys_pt = [ax.transData.transform((xi, p[1]))[1] * to_pt for p in here]
        for (_, yi, color), dy in zip(here, label_offsets(ys_pt)):
            ax.annotate(label(yi), (xi, yi), textcoords="offset points", xytext=(0, dy),
                        ha="center", va="center", fontsize=VALUE_PT, color=color)
    plt.close(fig)
    return _captioned(fig, title)
