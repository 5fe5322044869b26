"""One training job for every trainer: what a trainer does besides its recipe.

A job checks the base once, checks and cleans the pairs and holds some out, keys the job by
its base, data and settings, reuses a finished model of the same key or stages a new folder,
calls the recipe's ``train(folder, train_pairs, held_pairs)``, judges the base and the trained
model on the held-out pairs in one report, writes the record that marks the folder finished,
and returns a :class:`TrainedModel`. A recipe (encoder, cross-encoder, ULMFiT siamese, word
vectors) holds only what differs: its dataset, loss and how it saves.

>>> trained = run_pair_job(EncoderRecipe(parse_base("minilm")), left, right, gold)  # doctest: +SKIP

Follow a call from ``fine_tune`` to a model ``load_model`` reads back:

1. ``fine_tune`` (``encoder.py``) parses the base (:func:`parse_base`) and picks a recipe;
2. :func:`run_pair_job` prepares and splits the pairs (``pairs.py``), keys the job and
   locates its folder (``store.py``);
3. the recipe trains into the staged folder and saves the model there;
4. :func:`run_job` writes the record (``store.write_done``) and the folder is renamed into place
   (``files.staged_folder``);
5. ``TrainedModel.spec`` names the folder; ``load_model`` reads it like any model folder.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, OptionError, SimwidgetsWarning
from ..files import staged_folder
from ..models.specs import parse_spec
from .pairs import Pairs, prepare_pairs, split_validation
from .result import TrainedModel
from .store import locate, model_name, named, pair_job_key, pair_record, write_done


@dataclass(frozen=True)
class Base:
    """A model spec to train from, parsed once: ``family`` and ``target`` as
    :func:`~simwidgets.models.specs.parse_spec` gives them."""

    spec: str
    family: str
    target: str | None


def parse_base(base) -> Base:
    """``base`` checked (a spec string, without options but a trained model's ``name``) and parsed."""
    if not isinstance(base, str):
        raise OptionError(f"base must be a model spec string such as 'minilm' or 'st:PATH', got {type(base).__name__}")
    family, target, options = parse_spec(base)
    options.pop("name", None)  # a trained model's spec names it; the name does not change the base
    if options:
        raise InputError(f"give the base without options (other than name), got {base!r}")
    return Base(base.partition("?")[0], family, target)


class Recipe:
    """What one kind of training does. Subclasses set the attributes and implement
    :meth:`train`, :meth:`before` and :meth:`after`; the job does the rest."""

    #: The folder prefix and the key's kind ("st", "ce", "ulmfit", "fasttext", ...).
    kind: str
    #: What made the model, in its default name (``minilm-ft-7521e8``).
    made_by: str
    #: The base as named in the model's default name and record.
    label: str
    #: What identifies the base in the job's key (a path, a content hash).
    identity: str

    def spec(self, folder: Path) -> str:
        """The spec that loads the model saved in ``folder``."""
        raise NotImplementedError

    def check(self, pairs: Pairs) -> None:
        """Refuse pairs this recipe cannot learn from (called before the split)."""

    def settings(self, train: Pairs) -> dict:
        """The settings that, with the data and the base, key the job (``objective`` among them)."""
        raise NotImplementedError

    def train(self, folder: Path, train: Pairs, held: Pairs | None) -> list[dict]:
        """Train on ``train`` (evaluating on ``held`` each epoch where the trainer can), save
        the model into ``folder`` and return the history, one dict per epoch."""
        raise NotImplementedError

    def before(self):
        """The base as it is used off the shelf, named ``"before"``, for the report."""
        raise NotImplementedError

    def after(self, folder: Path):
        """The trained model, named ``"after"``, for the report."""
        raise NotImplementedError

    def record(self) -> dict:
        """Anything the recipe adds to the saved record (its source, ...)."""
        return {}


def versus_base(comparison) -> dict:
    """The trained model ("after") against its base ("before") on the held-out pairs, from
    :func:`~simwidgets.compare_models`' first metric: the difference with its paired 95%
    interval and a verdict, ``"better"`` or ``"worse"`` (the interval excludes 0) or
    ``"no difference shown"``."""
    row = comparison.iloc[0]
    sign = -1.0 if row["model_a"] == "before" else 1.0  # after - before
    diff, low, high = sign * row["diff"], sign * row["diff_low"], sign * row["diff_high"]
    low, high = min(low, high), max(low, high)
    verdict = "better" if low > 0 else "worse" if high < 0 else "no difference shown"
    return {"metric": str(row["metric"]), "diff": float(diff), "low": float(low), "high": float(high),
            "verdict": verdict}  # fmt: skip


def run_job(recipe: Recipe, key: str, build, *, output_dir, cache_dir, overwrite: bool, name, trained_on=None):
    """Locate the job's folder; reuse its finished model, or stage the folder, ``build(folder)``
    (which trains, saves and returns the record) and mark it finished."""
    target, record = locate(recipe.kind, key, output_dir, cache_dir, overwrite)
    spec = named(recipe.spec(target.resolve()), model_name(recipe.label, recipe.made_by, key, name))
    if record is not None:
        return TrainedModel.from_record(spec, target, record, reused=True)
    with staged_folder(target) as tmp:
        record = build(tmp)
        write_done(tmp, record, trained_on=trained_on)
    return TrainedModel.from_record(spec, target, record, reused=False)


def run_pair_job(
    recipe: Recipe,
    left,
    right,
    gold,
    *,
    validation=0.1,
    gold_range=None,
    seed: int = 0,
    output_dir=None,
    cache_dir=None,
    overwrite: bool = False,
    name: str | None = None,
) -> TrainedModel:
    """Train ``recipe`` on labelled pairs, judged before and after on held-out ones."""
    pairs = prepare_pairs(left, right, gold, gold_range=gold_range)
    recipe.check(pairs)
    train, held = split_validation(pairs, validation, seed, gold_range=gold_range)
    settings = recipe.settings(train)
    key = pair_job_key(recipe.kind, recipe.identity, train, held, settings)

    def build(folder: Path) -> dict:
        start = time.perf_counter()
        history = recipe.train(folder, train, held)
        seconds = time.perf_counter() - start
        report = versus = None
        if held is not None and held.gold is not None:
            from ..evaluation.compare import compare_models
            from ..evaluation.metrics import evaluate_scores
            from ..similarity import score_pairs

            scores = score_pairs(held.left, held.right, [recipe.before(), recipe.after(folder)], progress=False)
            report = evaluate_scores(scores, held.gold, n_boot=200)
            versus = versus_base(compare_models(scores, held.gold, n_boot=1000))
        return pair_record(
            key,
            recipe.kind,
            recipe.label,
            settings,
            pairs,
            train,
            held,
            seconds=seconds,
            history=history,
            report=report,
            versus_base=versus,
            **recipe.record(),
        )

    trained = run_job(
        recipe, key, build, output_dir=output_dir, cache_dir=cache_dir, overwrite=overwrite, name=name, trained_on=train
    )
    if trained.versus_base is not None and trained.versus_base["verdict"] == "worse":
        warnings.warn(f"the trained model {trained.verdict()}: keep using the base", SimwidgetsWarning, stacklevel=3)
    return trained
