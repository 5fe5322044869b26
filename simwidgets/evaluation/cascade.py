"""Cascade scoring: a cheap model scores every pair, an expensive one only the pairs whose
cheap score falls in a band around the decision, chosen on labelled pairs so that the
cascade's decisions differ from "the expensive model everywhere" on at most a stated share.

:func:`choose_cascade` scores the labelled pairs with both models, fits the narrowest band
(fewest pairs sent to the expensive model) whose disagreements with the expensive model's own
decisions stay within ``max_differ``, and judges that choice out of sample: the band fitted on
the other folds is applied to each fold, and the disagreements and calls counted there. The
:class:`Cascade` it returns is what ``score_file(..., cascade=...)`` and ``simwidgets score
--cascade FILE`` run: outside the band the cheap score decides (below the band: not kept;
above: kept), inside it the expensive model does.

>>> import numpy as np
>>> cheap = np.array([0.1, 0.2, 0.45, 0.5, 0.55, 0.6, 0.9, 0.95])
>>> keep = np.array([False, False, False, True, False, True, True, True])
>>> fit_band(cheap, keep, budget=0)
(0.5, 0.6)
>>> fit_band(cheap, keep, budget=1)  # one decision may differ: no pair needs the expensive model
(0.5, 0.5)
>>> fit_band_within(cheap, keep, max_inside=3)  # three pairs, where agreement is least sure
(0.5, 0.9)

With ``max_calls=`` :func:`choose_cascade` spends a stated share of expensive calls instead:
the band holds that share of the labelled pairs, placed where the fewest disagreements are
expected outside it (:func:`fit_band_within`); a band fitted to the last disagreement of the
labelled pairs is as narrow as they allow, and one that takes the whole budget keeps a margin
for pairs it has not seen.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError, OptionError

#: The reason a pair outside the band has no expensive score (counted in a job's summary).
OUTSIDE_BAND = "outside the cascade band: the cheap model decided"
FORMAT = "simwidgets-cascade-v1"


@dataclass(frozen=True)
class _Cuts:
    """Where a band may start or end over the distinct cheap scores: a cut at ``edges[k]``
    puts the pairs with a cheap score below it under it. Per cut: ``below`` pairs under it,
    ``kept_below`` of them kept by the expensive model, ``dropped_above`` pairs at or above it
    that it drops (counts, or expected counts when ``keep`` is a chance)."""

    edges: np.ndarray
    below: np.ndarray
    kept_below: np.ndarray
    dropped_above: np.ndarray

    @classmethod
    def of(cls, cheap: np.ndarray, keep: np.ndarray) -> _Cuts:
        values, inverse = np.unique(cheap, return_inverse=True)
        kept = np.bincount(inverse, weights=np.asarray(keep, dtype=float), minlength=len(values))
        total = np.bincount(inverse, minlength=len(values)).astype(float)
        return cls(
            edges=np.append(values, np.inf),
            below=np.r_[0.0, np.cumsum(total)],
            kept_below=np.r_[0.0, np.cumsum(kept)],
            dropped_above=np.r_[(total - kept)[::-1].cumsum()[::-1], 0.0],
        )

    def band(self, k: int, l_cut: int) -> tuple[float, float]:
        return (float(self.edges[k]) if k > 0 else -np.inf), float(self.edges[l_cut])


def fit_band(cheap: np.ndarray, keep: np.ndarray, budget: float) -> tuple[float, float]:
    """The band ``[low, high)`` of cheap scores holding the fewest pairs such that the pairs
    below it that ``keep`` says to keep, plus the pairs at or above it that ``keep`` says to
    drop, number at most ``budget``. Pairs with a NaN cheap score are ignored here (a cascade
    always sends them to the expensive model)."""
    ok = ~np.isnan(cheap)
    if not ok.any():
        return -np.inf, np.inf
    cuts = _Cuts.of(cheap[ok], keep[ok])
    best = (np.inf, 0, len(cuts.edges) - 1)
    for k in range(len(cuts.edges)):
        room = budget - cuts.kept_below[k]
        if room < 0:
            break
        # the first cut l >= k whose dropped pairs above fit the room left (non-increasing in l)
        l_cut = k + int(np.searchsorted(-cuts.dropped_above[k:], -room - 1e-9, side="left"))
        if l_cut >= len(cuts.edges):
            continue
        inside = cuts.below[l_cut] - cuts.below[k]
        if inside < best[0]:
            best = (inside, k, l_cut)
    return cuts.band(best[1], best[2])


def keep_chance(cheap: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The chance that the expensive model keeps a pair, as a function of its cheap score: a
    logistic fit of ``keep`` on ``cheap`` (weakly regularised), so that pairs near the
    decision count as uncertain even where the labelled sample happens to agree; ``keep``
    itself when it holds one class only."""
    keep = np.asarray(keep, dtype=bool)
    if keep.all() or not keep.any():
        return keep.astype(float)
    from sklearn.linear_model import LogisticRegression

    fit = LogisticRegression(C=1e4).fit(cheap[:, None], keep)
    return fit.predict_proba(cheap[:, None])[:, 1]


def fit_band_within(cheap: np.ndarray, keep: np.ndarray, max_inside: float) -> tuple[float, float]:
    """The band ``[low, high)`` of cheap scores holding at most ``max_inside`` pairs that leaves
    the fewest disagreements expected outside it: pairs below it count the chance that the
    expensive model keeps them, pairs at or above it the chance that it drops them (that
    chance from :func:`keep_chance`, smoothed over the cheap score, so the band takes the whole
    budget and sits where the two models are least sure to agree). NaN cheap scores are
    ignored, as in :func:`fit_band`."""
    ok = ~np.isnan(cheap)
    if not ok.any():
        return -np.inf, np.inf
    cuts = _Cuts.of(cheap[ok], keep_chance(cheap[ok], keep[ok]))
    # for each low cut k, the widest high cut l >= k whose band holds at most max_inside
    # pairs: expected disagreements above only fall as l grows
    widest = np.searchsorted(cuts.below, cuts.below + max_inside + 1e-9, side="right") - 1
    widest = np.maximum(widest, np.arange(len(cuts.edges)))
    k = int(np.argmin(cuts.kept_below + cuts.dropped_above[widest]))
    return cuts.band(k, int(widest[k]))


def _decide(cheap: np.ndarray, expensive: np.ndarray, low: float, high: float, threshold: float) -> np.ndarray:
    """1.0 keep, 0.0 drop, NaN where the deciding model gave no score."""
    inside = in_band(cheap, low, high)
    out = np.where(cheap >= high, 1.0, 0.0)
    with np.errstate(invalid="ignore"):
        out = np.where(inside, np.where(expensive >= threshold, 1.0, 0.0), out)
    out[inside & np.isnan(expensive)] = np.nan
    return out


def in_band(cheap: np.ndarray, low: float, high: float) -> np.ndarray:
    """Which pairs go to the expensive model: a cheap score in ``[low, high)``, or none at all."""
    cheap = np.asarray(cheap, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.isnan(cheap) | ((cheap >= low) & (cheap < high))


@dataclass
class Cascade:
    """A cheap model, an expensive one, and the band of cheap scores where the expensive one decides.

    Attributes
    ----------
    cheap, expensive
        Model specs.
    threshold
        The expensive model's threshold: a pair is kept when its expensive score is at least this.
    low, high
        The band: pairs with ``low <= cheap score < high`` (or no cheap score) go to the expensive
        model; below ``low`` a pair is dropped, at or above ``high`` kept, on the cheap score alone.
    max_differ
        The share of decisions the band may let differ from the expensive model's, out of sample.
    max_calls
        Where set, the share of pairs the band was fitted to hold (see :func:`choose_cascade`),
        in place of fitting for ``max_differ``.
    held_out
        Measured out of sample on the labelled pairs (each fold judged with the band fitted on
        the others; ``fitted_share`` is the share the band was fitted for, chosen so that
        this stays within ``max_differ``, which makes it slightly optimistic; None when the
        band was fitted to ``max_calls``): ``pairs``,
        ``differ`` (share of decisions unlike the expensive model's everywhere, with
        ``differ_low``/``differ_high``, a 95% Clopper-Pearson interval), ``calls`` (share of
        pairs sent to the expensive model).
    """

    cheap: str
    expensive: str
    threshold: float
    low: float
    high: float
    max_differ: float = 0.01
    held_out: dict = field(default_factory=dict)
    max_calls: float | None = None

    def sends(self, cheap_scores) -> np.ndarray:
        """Which pairs (by their cheap scores) the expensive model scores."""
        return in_band(np.asarray(cheap_scores, dtype=np.float64), self.low, self.high)

    def decide(self, cheap_scores, expensive_scores) -> np.ndarray:
        """The cascade's decisions: 1.0 keep, 0.0 drop, NaN where the model that decides has no
        score. ``expensive_scores`` need only be there for pairs in the band (NaN elsewhere)."""
        cheap = np.asarray(cheap_scores, dtype=np.float64)
        return _decide(cheap, np.asarray(expensive_scores, dtype=np.float64), self.low, self.high, self.threshold)

    def save(self, path) -> Path:
        """Write the cascade as JSON (specs and numbers only: nothing in it runs)."""
        from ..files import write_atomic

        data = {"format": FORMAT, **asdict(self)}
        data["low"], data["high"] = _number(self.low), _number(self.high)
        return write_atomic(Path(path), json.dumps(data, indent=2))

    @classmethod
    def load(cls, path) -> Cascade:
        """Read a cascade written by :meth:`save`; anything else is refused."""
        path = Path(path).expanduser()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise
        except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
            raise InputError(f"{path} is not a cascade file ({exc})") from None
        if not isinstance(data, dict) or data.pop("format", None) != FORMAT:
            raise InputError(f"{path} is not a cascade file (simwidgets' choose_cascade(...).save(path) writes one)")
        try:
            cascade = cls(**data)
            cascade.low, cascade.high = float(cascade.low), float(cascade.high)
            cascade.threshold = float(cascade.threshold)
            cascade.max_calls = None if cascade.max_calls is None else float(cascade.max_calls)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{path} is not a valid cascade file ({exc})") from None
        if not (isinstance(cascade.cheap, str) and isinstance(cascade.expensive, str)):
            raise InputError(f"{path}: cheap and expensive must be model specs")
        return cascade

    def __str__(self) -> str:
        text = (
            f"cascade: {self.cheap} scores every pair; {self.expensive} (kept at >= {self.threshold:.4g}) "
            f"scores those with {self.cheap} in [{self.low:.4g}, {self.high:.4g})"
        )
        h = self.held_out
        if h:
            text += (
                f"\nheld out ({h['pairs']:,} labelled pairs, {h['folds']} folds): {h['calls']:.1%} of pairs sent to "
                f"{self.expensive}; decisions unlike {self.expensive} everywhere on {h['differ']:.2%} "
                f"(95% interval {h['differ_low']:.2%}-{h['differ_high']:.2%}; "
                + (
                    f"fitted to {self.max_calls:.1%} of the calls)"
                    if self.max_calls is not None
                    else f"fitted for at most {self.max_differ:.1%})"
                )
            )
            if self.max_calls is not None and h["differ"] > self.max_differ:
                text += f"\nmore than max_differ={self.max_differ:.1%} differ: widen max_calls, or accept it"
        return text

    def _repr_html_(self) -> str:
        import html

        return "<pre>" + html.escape(str(self)) + "</pre>"


def _number(x: float):
    return x if np.isfinite(x) else ("inf" if x > 0 else "-inf")


def _interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    from scipy.stats import beta

    a = (1 - confidence) / 2
    low = 0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1 - a, k + 1, n - k))
    return low, high


def choose_cascade(
    cheap: str,
    expensive: str,
    left,
    right,
    gold=None,
    *,
    threshold: float | None = None,
    objective: str = "f1",
    max_differ: float = 0.01,
    max_calls: float | None = None,
    folds: int = 5,
    seed: int = 0,
    scores=None,
) -> Cascade:
    """Choose the band of a cheap-then-expensive cascade on labelled pairs, judged out of sample.

    Parameters
    ----------
    cheap, expensive
        Model specs: the cheap one scores every pair of the log, the expensive one (a
        cross-encoder, a fine-tuned encoder) only those in the band.
    left, right, gold
        Labelled pairs. The labels choose the expensive model's threshold when ``threshold`` is
        not given (``objective``, as :func:`~simwidgets.choose_threshold`); the band itself
        only needs the pairs: it is fitted to agree with the expensive model's decisions.
    max_differ
        The share of decisions that may differ from the expensive model's everywhere, out of
        sample: the band is fitted for the largest share (``max_differ`` or less) whose
        disagreements on folds it was not fitted on stay within ``max_differ`` (a band fitted
        for 1% on some pairs lets about 1.5% differ on others).
    max_calls
        A budget instead: the share of pairs the expensive model may score. The band then
        holds that share of the labelled pairs, where the fewest disagreements are expected
        outside it (:func:`fit_band_within`: the expensive model's decision smoothed over the
        cheap score), so it keeps a margin where ``max_differ`` alone would fit the band to the
        last disagreement of the labelled pairs; ``max_differ`` then only judges the result,
        and the cascade's summary says when the held-out share is above it.
    folds, seed
        The folds the choice is judged on (each fold with the band fitted on the others).
    scores
        Both models' scores of these pairs if already computed: a ``(cheap, expensive)`` pair
        of arrays.

    Examples
    --------
    >>> cascade = choose_cascade("minilm", trained_ce.spec, df.query, df.result, df.grade)  # doctest: +SKIP
    >>> print(cascade)  # doctest: +SKIP
    >>> cascade.save("cascade.json")  # doctest: +SKIP
    >>> sw.score_file("log.parquet", "scored/", "query", "result", models=["minilm"], cascade=cascade)  # doctest: +SKIP
    """
    if not 0 <= max_differ < 1:
        raise OptionError(f"max_differ must be a share in [0, 1), got {max_differ}")
    if max_calls is not None and not 0 < max_calls <= 1:
        raise OptionError(f"max_calls must be a share in (0, 1], got {max_calls}")
    if folds < 2:
        raise OptionError(f"folds must be at least 2, got {folds}")
    if scores is None:
        from ..models import load_model
        from ..similarity import score_pairs

        models = [load_model(cheap), load_model(expensive)]
        if models[0].name == models[1].name:
            raise InputError(f"the cheap and expensive models have one name ({models[0].name!r}); give one ?name=...")
        frame = score_pairs(left, right, models)
        c = frame[f"score_{models[0].name}"].to_numpy(np.float64)
        e = frame[f"score_{models[1].name}"].to_numpy(np.float64)
    else:
        c, e = (np.asarray(s, dtype=np.float64) for s in scores)
    if threshold is None:
        if gold is None:
            raise OptionError("give the expensive model's threshold=, or gold labels to choose it")
        from .threshold_choice import choose_threshold

        threshold = float(choose_threshold(e, gold, objective, seed=seed).threshold)
    usable = ~np.isnan(e)
    c, e = c[usable], e[usable]
    n = len(c)
    if n < 2 * folds:
        raise InputError(f"{n} pairs with an expensive score: too few to choose a band in {folds} folds")
    keep = e >= threshold
    order = np.random.default_rng(seed).permutation(n)
    split = np.array_split(order, folds)

    def fitted(cheap, kept, share: float | None) -> tuple[float, float]:
        """The band for ``share`` of disagreements, or (``None``) to the call budget."""
        if share is None:
            return fit_band_within(cheap, kept, max_calls * len(cheap))
        return fit_band(cheap, kept, share * len(cheap))

    def cross_fitted(share: float | None) -> tuple[int, int]:
        """Decisions unlike the expensive model's, and pairs sent, when each fold is decided
        with the band fitted on the others."""
        differ = calls = 0
        for fold in split:
            train = np.ones(n, dtype=bool)
            train[fold] = False
            low, high = fitted(c[train], keep[train], share)
            decided = _decide(c[fold], e[fold], low, high, threshold)
            differ += int(np.count_nonzero(decided != keep[fold]))
            calls += int(np.count_nonzero(in_band(c[fold], low, high)))
        return differ, calls

    # A band fitted for max_differ on some pairs lets a little more differ on others: fit for
    # the largest share whose cross-fitted disagreements stay within max_differ.
    shares = [None] if max_calls is not None else max_differ * np.array([1.0, 0.8, 0.6, 0.45, 0.3, 0.15, 0.0])
    for share in shares:
        differ, calls = cross_fitted(share)
        if differ <= max_differ * n:
            break
    low, high = fitted(c, keep, share)
    differ_low, differ_high = _interval(differ, n)
    held_out = {
        "pairs": n,
        "folds": folds,
        "fitted_share": None if share is None else float(share),
        "differ": differ / n,
        "differ_low": differ_low,
        "differ_high": differ_high,
        "calls": calls / n,
    }
    return Cascade(cheap, expensive, float(threshold), low, high, max_differ, held_out, max_calls)
