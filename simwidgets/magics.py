"""IPython magics: ``%load_ext simwidgets`` opens the widgets on notebook variables.

``%simheatmap texts --model minilm --model glove-50d``, ``%simmap glove-50d``,
``%simneighbours frog --model glove-50d --model minilm``, ``%simtune df --left q --right r``,
``%simcompare df --left q --right r --label y``. Each has ``--help``.
"""

from __future__ import annotations

from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from .errors import InputError


@magics_class
class SimMagics(Magics):
    def _parse(self, magic, line: str):
        """Parsed arguments, or None after printing the magic's help for ``--help`` / ``-h``."""
        if line.split() and line.split()[0] in ("--help", "-h"):
            print(magic.__doc__)
            return None
        return parse_argstring(magic, line)

    def _value(self, name: str):
        namespace = self.shell.user_ns
        if name not in namespace:
            raise NameError(f"{name!r} is not a variable of this notebook")
        return namespace[name]

    @magic_arguments()
    @argument("texts", help="variable holding a list (or Series) of texts")
    @argument("--model", "-m", action="append", help="model spec; give two to show their difference")
    @argument("--threshold", "-t", type=float, default=None, help="initial threshold")
    @argument("--order", choices=["input", "cluster"], default="input", help="row and column order")
    @line_magic
    def simheatmap(self, line):
        """Similarity heatmap of a list of texts (SimilarityHeatmap)."""
        from .widgets import SimilarityHeatmap

        args = self._parse(self.simheatmap, line)
        if args is None:
            return None
        models = args.model or ["minilm"]
        if len(models) > 2:
            raise InputError("give one model, or two to compare")
        texts = self._value(args.texts)
        if len(models) == 2:
            return SimilarityHeatmap(texts, compare=tuple(models), threshold=args.threshold, order=args.order)
        return SimilarityHeatmap(texts, model=models[0], threshold=args.threshold, order=args.order)

    @magic_arguments()
    @argument("source", help="a model spec (its vocabulary is mapped) or a variable holding an (n, dim) array")
    @argument("--labels", help="variable holding one label per vector")
    @argument("--method", choices=["umap", "pca"], default="umap")
    @argument("--color-by", default="kind", help="kind, rank, cluster, trust or none")
    @argument("--max-points", type=int, default=None, help="keep the first N (most frequent) points")
    @line_magic
    def simmap(self, line):
        """2-D map of a vocabulary or of vectors (EmbeddingMap)."""
        from .widgets import EmbeddingMap

        args = self._parse(self.simmap, line)
        if args is None:
            return None
        source = self._value(args.source) if args.source in self.shell.user_ns else args.source
        labels = self._value(args.labels) if args.labels else None
        return EmbeddingMap(
            source, labels=labels, method=args.method, color_by=args.color_by, max_points=args.max_points
        )

    @magic_arguments()
    @argument("query", nargs="*", help="the word or text to search")
    @argument("--model", "-m", action="append", help="model spec, repeatable")
    @argument("-k", type=int, default=10, help="neighbours per model")
    @line_magic
    def simneighbours(self, line):
        """Nearest neighbours of a query under several models, side by side (NeighbourExplorer)."""
        from .widgets import NeighbourExplorer

        args = self._parse(self.simneighbours, line)
        if args is None:
            return None
        return NeighbourExplorer(args.model or ["glove-50d", "minilm"], query=" ".join(args.query), k=args.k)

    @magic_arguments()
    @argument("frame", help="variable holding a DataFrame of pairs")
    @argument("--left", required=True)
    @argument("--right", required=True)
    @argument("--label", default=None, help="column of human labels (optional)")
    @argument("--model", "-m", action="append", help="model spec, repeatable")
    @line_magic
    def simtune(self, line):
        """Choose a similarity threshold for a DataFrame of pairs (ThresholdTuner)."""
        from .widgets import ThresholdTuner

        args = self._parse(self.simtune, line)
        if args is None:
            return None
        return ThresholdTuner(
            self._value(args.frame), args.left, args.right, label=args.label, models=args.model or ["minilm"]
        )

    @magic_arguments()
    @argument("frame", help="variable holding a DataFrame of labelled pairs")
    @argument("--left", required=True)
    @argument("--right", required=True)
    @argument("--label", required=True)
    @argument("--model", "-m", action="append", help="model spec, repeatable")
    @argument("--ensemble", choices=["forest", "linear", "none"], default="forest")
    @line_magic
    def simcompare(self, line):
        """Compare models on labelled pairs, with a stacked model (ModelComparison)."""
        from .widgets import ModelComparison

        args = self._parse(self.simcompare, line)
        if args is None:
            return None
        return ModelComparison(
            self._value(args.frame),
            args.left,
            args.right,
            args.label,
            models=args.model or ["minilm", "glove-50d"],
            ensemble=None if args.ensemble == "none" else args.ensemble,
        )


def load_ipython_extension(ipython) -> None:
    ipython.register_magics(SimMagics)
