"""adapt: a sentence encoder adapted to unlabelled texts, then fine-tuned and cross-validated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("datasets", reason="training needs the [train] extra (datasets, accelerate)")
pytest.importorskip("accelerate", reason="training needs the [train] extra (datasets, accelerate)")

import simwidgets as sw  # noqa: E402
from simwidgets import adapt, fine_tune, load_model, score_pairs  # noqa: E402
from simwidgets.evaluation import read_stsb  # noqa: E402
from simwidgets.training.corpus import corpus_sample  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:the trained model is WORSE than its base")


@pytest.fixture(scope="module")
def sts(test_data) -> pd.DataFrame:
    return read_stsb(test_data / "sts" / "stsb-en-train.csv").iloc[:200].reset_index(drop=True)


@pytest.fixture(scope="module")
def texts(sts) -> list[str]:
    return list(dict.fromkeys(list(sts.left) + list(sts.right)))[:96]


@pytest.mark.parametrize("method", ["tsdae", "simcse", "mlm"])
def test_each_method_adapts_minilm_into_a_spec_every_api_takes(method, texts, tmp_path):
    adapted = adapt("minilm", texts, method=method, batch_size=16, output_dir=tmp_path / method, progress=False,
                    device="cpu")  # fmt: skip
    assert adapted.spec.startswith("st:") and adapted.objective == method and adapted.report is None
    assert adapted.history["epoch"].tolist() == [1] and np.isfinite(adapted.history["train_loss"]).all()
    name = load_model(adapted.spec).name
    assert name.startswith(f"minilm-{method}-")
    scores = score_pairs(texts[:8], texts[8:16], models=["minilm", adapted.spec])
    assert scores[f"score_{name}"].notna().all()
    assert not np.allclose(scores[f"score_{name}"], scores["score_minilm"])  # the weights moved
    # the same call again loads it
    again = adapt("minilm", texts, method=method, batch_size=16, output_dir=tmp_path / method, progress=False,
                  device="cpu")  # fmt: skip
    assert again.reused and again.spec == adapted.spec


def test_fine_tune_continues_from_an_adapted_model(texts, sts, tmp_path):
    adapted = adapt("minilm", texts, method="simcse", batch_size=16, output_dir=tmp_path / "a", progress=False,
                    device="cpu")  # fmt: skip
    tuned = fine_tune(adapted.spec, sts.left[:48], sts.right[:48], sts.score[:48], validation=0.25, epochs=1,
                      progress=False, device="cpu", output_dir=tmp_path / "ft")  # fmt: skip
    assert tuned.report.loc["before", "pairs"] == 12 and tuned.versus_base is not None
    # "before" is the adapted model: the report judges fine-tuning against where it started
    before = score_pairs(sts.left[36:48], sts.right[36:48], [adapted.spec])
    assert np.isfinite(before.filter(like="score_").to_numpy()).all()


def test_the_corpus_is_read_from_a_log_folder_deduplicated_and_sampled(tmp_path):
    folder = tmp_path / "log"
    folder.mkdir()
    rows = pd.DataFrame({"query": [f"q{i % 300}" for i in range(1000)], "result": [f"r{i}" for i in range(1000)]})
    rows.iloc[:500].to_parquet(folder / "part-0.parquet", index=False)
    rows.iloc[500:].to_csv(folder / "part-1.csv", index=False)
    every = corpus_sample(folder, column=["query", "result"], most=10_000)
    assert len(every) == 300 + 1000 and len(set(every)) == len(every)
    some = corpus_sample(folder, column=["query", "result"], most=100, seed=1)
    assert len(some) == 100 and set(some) <= set(every)
    assert some == corpus_sample(folder, column=["query", "result"], most=100, seed=1)  # same seed, same texts
    assert some != corpus_sample(folder, column=["query", "result"], most=100, seed=2)
    # every distinct text has the same chance, however often it occurs: queries are 300 of 1,300
    shares = [np.mean([t.startswith("q") for t in corpus_sample(folder, column=["query", "result"], most=100,
                                                               seed=s)]) for s in range(20)]  # fmt: skip
    assert abs(np.mean(shares) - 300 / 1300) < 0.05
    with pytest.raises(TypeError, match="column"):
        corpus_sample(folder)
    with pytest.raises(ValueError, match="fewer than one batch"):
        adapt("minilm", ["one text", "two texts"], method="simcse", progress=False)
    with pytest.raises(ValueError, match="method must be one of"):
        adapt("minilm", ["a"], method="bert")


def test_cross_validate_takes_an_adapted_fine_tune_and_no_label_reaches_the_adaptation(sts, tmp_path, monkeypatch):
    monkeypatch.setenv("SIMWIDGETS_CACHE_DIR", str(tmp_path))
    seen = []
    from simwidgets.training import adaptation

    original = adaptation.AdaptRecipe.adapt

    def spy(self, folder, corpus):
        seen.append(list(corpus))
        return original(self, folder, corpus)

    monkeypatch.setattr(adaptation.AdaptRecipe, "adapt", spy)
    small = sts.iloc[:40]
    log_texts = list(sts.left[100:200])  # the unlabelled log
    result = sw.cross_validate(
        [
            sw.trainers.FineTune("minilm", device="cpu", epochs=1, adapt_on=log_texts, adapt="simcse",
                                 adapt_options={"batch_size": 16}),
            sw.trainers.FineTune("minilm", device="cpu", epochs=1, adapt_on="training", adapt="simcse",
                                 adapt_options={"batch_size": 16}),
        ],  # fmt: skip
        small.left, small.right, small.score, folds=2, n_boot=50, progress=False,
    )  # fmt: skip
    assert list(result.table.index) == ["minilm", "minilm simcse + fine-tuned", "minilm simcse + fine-tuned (2)"]
    assert result.table.loc["minilm simcse + fine-tuned", "beats_base"] in ("yes", "no: worse", "not shown")
    # the log corpus is adapted on once (then reused), each training fold's texts once each
    assert len(seen) == 3
    assert set(seen[0]) == set(log_texts)
    folds = result.scores["fold"].to_numpy()
    for k, corpus in zip((0, 1), seen[1:]):
        train = small[folds != k]
        assert set(corpus) == set(train.left) | set(train.right)  # the training fold's texts only
        held = small[folds == k]
        assert not (set(held.left) | set(held.right)) & set(corpus) - (set(train.left) | set(train.right))
    # texts only: no label is ever given to an adaptation
    assert all(isinstance(t, str) for corpus in seen for t in corpus)


class _SpyTeacher(sw.trainers.Trainer):
    """A cheap teacher that records the pairs it was fitted on and scores GloVe's cosine."""

    name = "spy teacher"

    def __init__(self):
        self.seen = []

    def fit(self, left, right, gold, *, seed=0, gold_range=None, progress=False):
        self.seen.append((set(zip(left, right)), list(gold)))
        return "glove-50d"


def test_silver_pairs_from_texts_are_neighbours_and_random_pairings():
    from simwidgets.training.silver import silver_pairs, teacher_labels

    texts = [f"a {w} sat on the mat" for w in ("cat", "dog", "fox", "bird")] + [
        f"stock prices fell {i}" for i in range(8)
    ]
    left, right = silver_pairs(texts, 10, base="glove-50d", neighbours=2)
    assert len(left) == len(right) and 8 <= len(left) <= 10
    assert all(a != b for a, b in zip(left, right)) and set(left) | set(right) <= set(texts)
    near = list(zip(left, right))[:5]  # the neighbour half: each text with one of its 2 nearest
    assert sum(a.split()[0] == b.split()[0] for a, b in near) >= 4
    given = silver_pairs((["q1", "q2", None, "q3"], ["r1", "r2", "r3", "q3"]), 10)
    assert sorted(given[0]) == ["q1", "q2"]  # pairs that occur: missing and self pairs never drawn
    labels = teacher_labels(load_model("glove-50d"), ["a cat"], ["a cat"], gold_range=(0, 5))
    assert labels[0] == pytest.approx(5.0, abs=1e-4)


def test_silver_labels_come_from_a_teacher_fitted_on_the_training_fold_only(sts, tmp_path, monkeypatch):
    monkeypatch.setenv("SIMWIDGETS_CACHE_DIR", str(tmp_path))
    teacher = _SpyTeacher()
    trained = []
    from simwidgets.training import encoder

    original = encoder.run_pair_job

    def spy(recipe, left, right, gold, **kwargs):
        trained.append((list(left), list(right), list(gold)))
        return original(recipe, left, right, gold, **kwargs)

    monkeypatch.setattr(encoder, "run_pair_job", spy)
    small = sts.iloc[:40]
    log = (list(sts.left[100:160]), list(sts.right[100:160]))  # the log's pairs, unlabelled
    result = sw.cross_validate(
        [sw.trainers.FineTune("minilm", device="cpu", epochs=1, silver=30, teacher=teacher, silver_from=log)],
        small.left, small.right, small.score, folds=2, n_boot=50, progress=False,
    )  # fmt: skip
    assert "minilm silver 30 + fine-tuned" in result.table.index
    folds = result.scores["fold"].to_numpy()
    for k, ((pairs, _gold), (left, right, labels)) in enumerate(zip(teacher.seen, trained)):
        train = small[folds != k]
        assert pairs == set(zip(train.left, train.right))  # the teacher saw the training fold's labels only
        assert len(left) == len(train) + 30  # gold plus 30 silver pairs from the log
        silver = list(zip(left[len(train) :], right[len(train) :]))
        assert set(silver) <= set(zip(*log))
        low, high = small.score.min(), small.score.max()  # the gold's range, as cross_validate gives it
        cosine = score_pairs([a for a, _ in silver], [b for _, b in silver], ["glove-50d"])["score_glove-50d"]
        expected = low + np.clip(cosine, 0, 1) * (high - low)
        np.testing.assert_allclose(labels[len(train) :], expected, atol=1e-4)  # the teacher's, on the gold scale
