"""NeighbourExplorer: one query, the top-k neighbours of several models side by side."""

from __future__ import annotations

import traitlets as t

from ..models import load_models, refuse_pair_scorer
from ..similarity import neighbours
from .base import STYLE, Widget, bundle


class NeighbourExplorer(Widget):
    """Type a word or text; see each model's nearest neighbours side by side.

    For every pair of models, the Jaccard overlap of their neighbour sets; words found by
    only one model are marked. Neighbours are searched in each model's vocabulary (exactly,
    in the original space), or among ``among`` texts when given.

    Examples
    --------
    >>> NeighbourExplorer(["glove-50d", "minilm"], query="frog")  # doctest: +SKIP
    """

    _esm = bundle("neighbours")
    _css = STYLE

    query = t.Unicode("", help="the word or text searched (typed in the browser or set here)").tag(sync=True)
    k = t.Int(10, help="neighbours per model").tag(sync=True)
    model_names = t.List(t.Unicode(), help="models, in column order").tag(sync=True)
    results = t.List(t.Dict(), help="per model: {model, tokens, scores, only (bools), error}").tag(sync=True)
    overlap = t.List(t.List(t.Float()), help="Jaccard overlap of the neighbour sets, model x model").tag(sync=True)
    busy = t.Bool(False, help="True while the kernel searches").tag(sync=True)

    @t.validate("k")
    def _check_k(self, proposal):
        if not 1 <= proposal["value"] <= 1000:
            raise t.TraitError(f"k must be from 1 to 1000 neighbours, got {proposal['value']}")
        return proposal["value"]

    def __init__(self, models=("glove-50d", "minilm"), query: str = "", k: int = 10, among=None, **kwargs):
        self._models = load_models(list(models))
        for model in self._models:
            refuse_pair_scorer(model, "neighbours")
        self._among = among
        super().__init__(model_names=[m.name for m in self._models], k=k, **kwargs)
        self.observe(self._search, names=["query", "k"])
        self.query = query

    def _search(self, change=None) -> None:
        if not self.query.strip():
            self.results, self.overlap = [], []
            return
        self.busy = True
        try:
            found = []
            for model in self._models:
                try:
                    table = neighbours(self.query, model, k=self.k, among=self._among)
                    column = "token" if "token" in table else "text"
                    found.append(
                        {
                            "model": model.name,
                            "tokens": table[column].tolist(),
                            "scores": [float(s) for s in table["score"]],
                            "error": None,
                        }
                    )
                except (KeyError, ValueError) as exc:
                    message = exc.args[0] if exc.args else str(exc)
                    found.append({"model": model.name, "tokens": [], "scores": [], "error": str(message)})
            sets = [set(r["tokens"]) for r in found]
            for r, own in zip(found, sets):
                others = set().union(*(s for s in sets if s is not own)) if len(sets) > 1 else set()
                r["only"] = [len(sets) > 1 and tok not in others for tok in r["tokens"]]
            matrix = [[_jaccard(a, b) for b in sets] for a in sets]
            with self.hold_sync():
                self.results, self.overlap = found, matrix
        finally:
            self.busy = False

    def table(self):
        """The current neighbours as a DataFrame: one column of tokens per model."""
        import pandas as pd

        return pd.DataFrame({r["model"]: pd.Series(r["tokens"], dtype=object) for r in self.results})


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if (a or b) else 0.0
