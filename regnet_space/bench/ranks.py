"""Ranks of search algorithms over seeds: rank curves, the Friedman test, Nemenyi critical
differences and a Demšar (2006, JMLR 7:1-30) critical-difference diagram.

All scores are lower-is-better (an error, a regret). scipy and matplotlib are imported inside the
functions, so importing this module costs nothing.

Example:
    >>> final = [[1.0, 1.0, 1.0, 1.0], [2.0, 2.0, 3.0, 3.0], [3.0, 3.0, 2.0, 2.0]]
    >>> res = friedman(final, ["a", "b", "c"])
    >>> res.mean_ranks, res.statistic
    ((1.0, 2.5, 2.5), 6.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ..errors import ConfigError, require

if TYPE_CHECKING:  # only for the annotation: matplotlib stays a lazy import
    from matplotlib.figure import Figure


def _scipy_stats() -> Any:
    return require("scipy.stats", pip="scipy", purpose="rank statistics")


def _finite_scores(values: Any, ndim: int, what: str) -> np.ndarray:
    """``values`` as a float array of ``ndim`` dimensions without NaN (inf is a valid score: a
    run that found nothing ranks last)."""
    x = np.asarray(values, dtype=float)
    if x.ndim != ndim:
        raise ConfigError(f"{what} must be a {ndim}-d array, got shape {x.shape}")
    if 0 in x.shape:
        raise ConfigError(f"{what} must not be empty, got shape {x.shape}")
    if np.isnan(x).any():
        raise ConfigError(f"{what} contains NaN; only numbers (inf included) can be ranked")
    return x


def ranks_over_time(values: Any) -> np.ndarray:
    """Mean rank of each algorithm at each evaluation: ``values`` is (A algorithms, S seeds,
    T evaluations) of a lower-is-better score such as the best-so-far error. Per seed and
    evaluation the algorithms are ranked 1..A (lowest = 1, ties share the average rank), then the
    ranks are averaged over seeds. Returns an (A, T) array; each column sums to A (A + 1) / 2.

    Example:
        >>> v = [[[3.0, 1.0], [2.0, 2.0]],    # algorithm 0: seeds 0 and 1, two evaluations
        ...      [[1.0, 1.0], [4.0, 1.0]]]    # algorithm 1
        >>> ranks_over_time(v).tolist()
        [[1.5, 1.75], [1.5, 1.25]]
    """
    x = _finite_scores(values, 3, "values (algorithms, seeds, evaluations)")
    return _scipy_stats().rankdata(x, axis=0).mean(axis=1)


@dataclass(frozen=True)
class FriedmanResult:
    """The Friedman test over seeds and the Nemenyi critical difference of mean ranks.

    ``names[i]`` has mean rank ``mean_ranks[i]`` (1 = best) over ``n_seeds`` seeds; ``statistic``
    and ``pvalue`` are the Friedman chi-square test that all algorithms rank alike (nan and 1.0
    where it is undefined); two algorithms whose mean ranks differ by more than ``cd`` differ
    at level ``alpha`` by the Nemenyi test.

    Example:
        >>> r = FriedmanResult(("a", "b", "c"), (1.0, 1.5, 3.0), 5.0, 0.08, 10, 0.05, 1.0)
        >>> r.groups(), r.significant("a", "c"), r.significant("a", "b")
        ([('a', 'b')], True, False)
    """

    names: tuple[str, ...]
    mean_ranks: tuple[float, ...]
    statistic: float
    pvalue: float
    n_seeds: int
    alpha: float
    cd: float

    def __post_init__(self) -> None:
        if len(self.names) != len(self.mean_ranks):
            raise ConfigError(f"{len(self.names)} names but {len(self.mean_ranks)} mean ranks; "
                              "give one mean rank per name")
        if len(set(self.names)) != len(self.names):
            raise ConfigError(f"algorithm names must be unique, got {list(self.names)}")

    def _order(self) -> list[int]:
        # Ties in mean rank keep the caller's order, so the diagram and groups are deterministic.
        return sorted(range(len(self.names)), key=lambda i: (self.mean_ranks[i], i))

    def groups(self) -> list[tuple[str, ...]]:
        """The maximal sets of algorithms whose mean ranks all lie within ``cd`` of each other
        (the thick bars of a critical-difference diagram), each sorted by mean rank, best first.
        An algorithm that differs from every other one forms no group.

        Example:
            >>> r = FriedmanResult(tuple("abcd"), (1.0, 1.8, 2.6, 4.0), 9.0, 0.03, 8, 0.05, 1.0)
            >>> r.groups()
            [('a', 'b'), ('b', 'c')]
        """
        order = self._order()
        ranks = [self.mean_ranks[i] for i in order]
        out: list[tuple[str, ...]] = []
        last_end = -1
        for i in range(len(order)):
            end = i
            while end + 1 < len(order) and ranks[end + 1] - ranks[i] <= self.cd:
                end += 1
            # The run ends are non-decreasing in i, so a run is inside an earlier one exactly when
            # it ends where the previous run ended.
            if end > last_end:
                if end > i:
                    out.append(tuple(self.names[k] for k in order[i:end + 1]))
                last_end = end
        return out

    def significant(self, a: str, b: str) -> bool:
        """Whether algorithms ``a`` and ``b`` differ by the Nemenyi test: their mean ranks are more
        than ``cd`` apart (so exactly the pairs that no bar of :meth:`groups` joins). Demšar
        advises reading it only when the Friedman test rejects (``pvalue < alpha``).

        Example:
            >>> r = FriedmanResult(("x", "y"), (1.2, 1.8), float("nan"), 1.0, 20, 0.05, 0.44)
            >>> r.significant("x", "y"), r.significant("y", "x")
            (True, True)
        """
        index = {n: i for i, n in enumerate(self.names)}
        for n in (a, b):
            if n not in index:
                raise ConfigError(f"unknown algorithm {n!r}; the result has {list(self.names)}")
        return abs(self.mean_ranks[index[a]] - self.mean_ranks[index[b]]) > self.cd


def nemenyi_q(k: int, alpha: float = 0.05) -> float:
    """The Nemenyi test's critical value q_alpha for ``k`` algorithms: the studentized range
    quantile with infinite degrees of freedom divided by sqrt(2) (Demšar 2006, Table 5a).

    Example:
        >>> round(nemenyi_q(2), 3), round(nemenyi_q(4), 3)
        (1.96, 2.569)
    """
    if not (isinstance(k, (int, np.integer)) and k >= 2):
        raise ConfigError(f"the Nemenyi test needs an integer number of algorithms >= 2, got {k!r}")
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must be a level in (0, 1), got {alpha}")
    return float(_scipy_stats().studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2))


def friedman(final: Any, names: Sequence[str], alpha: float = 0.05) -> FriedmanResult:
    """The Friedman test and Nemenyi critical difference for ``final``: (A algorithms, S seeds)
    final lower-is-better scores; ``names`` names the A rows.

    The statistic and p-value come from ``scipy.stats.friedmanchisquare`` (tie-corrected). It
    needs at least 3 algorithms and 2 seeds, and some seed whose scores are not all equal; where
    that fails the result has statistic nan and p-value 1.0 (no evidence of a difference) instead
    of an error, so a report of 2 algorithms still gets its ranks and CD. The critical difference
    is ``q_alpha * sqrt(A (A + 1) / (6 S))`` (see :func:`nemenyi_q`).

    Example:
        >>> res = friedman([[1.0, 2.0], [2.0, 1.0]], ["a", "b"])
        >>> res.mean_ranks, res.statistic, res.pvalue, round(res.cd, 3)
        ((1.5, 1.5), nan, 1.0, 1.386)
    """
    x = _finite_scores(final, 2, "final (algorithms, seeds)")
    names = tuple(str(n) for n in names)
    n_algos, n_seeds = x.shape
    if len(names) != n_algos:
        raise ConfigError(f"final has {n_algos} algorithms (rows) but {len(names)} names were "
                          "given; give one name per row")
    if n_algos < 2:
        raise ConfigError(f"a rank comparison needs at least 2 algorithms (rows of final), got "
                          f"{n_algos}")
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must be a level in (0, 1), got {alpha}")
    stats = _scipy_stats()
    mean = stats.rankdata(x, axis=0).mean(axis=1)
    # friedmanchisquare's tie correction divides by zero when every seed is a full tie.
    all_tied = bool(np.all(x == x[:1]))
    if n_algos >= 3 and n_seeds >= 2 and not all_tied:
        test = stats.friedmanchisquare(*x)
        statistic, pvalue = float(test.statistic), float(test.pvalue)
    else:
        statistic, pvalue = math.nan, 1.0
    cd = nemenyi_q(n_algos, alpha) * math.sqrt(n_algos * (n_algos + 1) / (6 * n_seeds))
    return FriedmanResult(names, tuple(float(r) for r in mean), statistic, pvalue, int(n_seeds),
                          float(alpha), float(cd))


# --------------------------------------------------------------------- the diagram (inches)
_FONT = 9.0           # points
_ROW = 0.24           # vertical step between label rows
_BAR_STEP = 0.1       # vertical step between stacked group bars


def _text_widths(strings: Sequence[str], size: float = _FONT) -> list[float]:
    """The rendered widths of ``strings`` in inches: the figure is sized to fit its labels
    before any text is drawn, so they are measured by a throw-away renderer at 72 dpi (one pixel
    per point) instead of guessed from the number of characters."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    renderer, prop = RendererAgg(1, 1, 72), FontProperties(size=size)
    return [renderer.get_text_width_height_descent(s, prop, ismath=False)[0] / 72
            for s in strings]


def cd_diagram(result: FriedmanResult, title: str = "") -> Figure:
    """A Demšar-style critical-difference diagram of ``result`` as a matplotlib Figure (not
    attached to pyplot; save it with ``fig.savefig``).

    A rank axis runs from 1 (best, left) to A; each algorithm's line drops from its mean rank to
    its label (the better half on the left, the rest on the right); thick bars join the
    :meth:`FriedmanResult.groups`, whose members do not differ significantly; the bar at the top
    shows the critical difference; the title gives the Friedman p-value.

    Example:
        >>> res = friedman([[1, 1, 2], [2, 3, 1], [3, 2, 3]], ["a", "b", "c"])
        >>> fig = cd_diagram(res, "demo")
        >>> fig.axes[0].texts[0].get_text()
        'demo (Friedman p = 0.264, 3 seeds)'
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    k = len(result.names)
    if k < 2:
        raise ConfigError(f"a critical-difference diagram needs at least 2 algorithms, got {k}")
    order = result._order()
    n_left = (k + 1) // 2
    labels = [f"{result.names[i]} ({result.mean_ranks[i]:.2f})" for i in order]
    groups = result.groups()

    axis_w = max(3.0, 0.55 * (k - 1))
    stub = 0.25                                   # horizontal line between the axis end and a label
    left_w = max(_text_widths(labels[:n_left])) + stub + 0.2
    right_w = max(_text_widths(labels[n_left:])) + stub + 0.2
    p_text = "n/a" if math.isnan(result.statistic) else f"{result.pvalue:.3g}"
    head = f"Friedman p = {p_text}, {result.n_seeds} seeds"
    title_s = f"{title} ({head})" if title else head
    width = max(left_w + axis_w + right_w, _text_widths([title_s], _FONT + 1)[0] + 0.4)
    x0 = left_w + (width - left_w - axis_w - right_w) / 2   # centre the axis if the title is wider

    def x_of(rank: float) -> float:
        return x0 + (rank - 1) * axis_w / (k - 1)

    y_title, y_cd, y_axis = 0.12, 0.62, 0.98
    y_bars = y_axis + 0.16
    y_rows = y_bars + len(groups) * _BAR_STEP + 0.12
    n_rows = max(n_left, k - n_left)
    height = y_rows + n_rows * _ROW + 0.08

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    # Data coordinates are inches with y growing downwards, so every length above is literal.
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.axis("off")
    line = dict(color="black", linewidth=0.9, solid_capstyle="butt")

    ax.text(width / 2, y_title, title_s, ha="center", va="top", fontsize=_FONT + 1)

    # The CD scale bar; a CD longer than the axis (few seeds) is drawn to the axis' length only.
    cd_len = min(result.cd, k - 1)
    ax.plot([x_of(1), x_of(1 + cd_len)], [y_cd, y_cd], **line)
    for r in (1, 1 + cd_len):
        ax.plot([x_of(r)] * 2, [y_cd - 0.05, y_cd + 0.05], **line)
    cd_s = f"CD = {result.cd:.2f}" + (" (longer than the axis)" if result.cd > k - 1 else "")
    ax.text((x_of(1) + x_of(1 + cd_len)) / 2, y_cd - 0.07, cd_s,
            ha="center", va="bottom", fontsize=_FONT)

    # The rank axis: ticks at whole ranks (labelled) and half ranks.
    ax.plot([x_of(1), x_of(k)], [y_axis, y_axis], **line)
    for r2 in range(2, 2 * k + 1):
        r = r2 / 2
        ax.plot([x_of(r)] * 2, [y_axis - (0.08 if r2 % 2 == 0 else 0.04), y_axis], **line)
        if r2 % 2 == 0:
            ax.text(x_of(r), y_axis - 0.1, f"{int(r)}", ha="center", va="bottom", fontsize=_FONT)

    # The groups, stacked below the axis; a slight overhang keeps a bar visible at its ends.
    for g, members in enumerate(groups):
        rs = [result.mean_ranks[result.names.index(n)] for n in members]
        y = y_bars + g * _BAR_STEP
        ax.plot([x_of(min(rs)) - 0.05, x_of(max(rs)) + 0.05], [y, y], color="black",
                linewidth=3.5, solid_capstyle="butt")

    # Left labels: best at the top row, so no horizontal line crosses another's drop; right
    # labels: worst at the top row, for the same reason.
    for pos, i in enumerate(order):
        x = x_of(result.mean_ranks[i])
        if pos < n_left:
            y, x_end, ha = y_rows + pos * _ROW, x_of(1) - stub, "right"
        else:
            y, x_end, ha = y_rows + (k - 1 - pos) * _ROW, x_of(k) + stub, "left"
        ax.plot([x, x, x_end], [y_axis, y, y], **line)
        ax.text(x_end + (-0.05 if ha == "right" else 0.05), y, labels[pos], ha=ha,
                va="center", fontsize=_FONT)
    return fig


__all__ = ["FriedmanResult", "cd_diagram", "friedman", "nemenyi_q", "ranks_over_time"]
