"""Time of one train_ulmfit epoch (default sizes) on 4,800 short sentences, and the vocabulary
size at fastai's default min_freq=3 against min_freq=1.

Sentences: STS-B train's first sentences when ../shared/data is present, else gensim's Lee
corpus cut into sentences (repeated to 4,800). Figures: seconds per epoch and tokens.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from common import record


def sentences(n: int = 4_800) -> tuple[list[str], str]:
    stsb = Path(__file__).resolve().parents[2] / "shared" / "data" / "sts" / "stsb-en-train.csv"
    if stsb.is_file():
        from simwidgets.readers import read_stsb

        texts = list(dict.fromkeys(read_stsb(stsb)["left"]))[:n]
        return texts, "STS-B train sentences"
    from simwidgets.models.ulmfit import lee_corpus

    parts = [s.strip() for p in lee_corpus() for s in re.split(r"(?<=[.!?])\s+", p) if s.strip()]
    return (parts * (n // len(parts) + 1))[:n], "Lee corpus sentences"


def main() -> None:
    from simwidgets import train_ulmfit

    texts, source = sentences()
    figures = {"texts": len(texts), "source": source}
    for min_freq in (3, 1):
        start = time.perf_counter()
        model = train_ulmfit(texts, epochs=1, progress=False, min_freq=min_freq)
        figures[f"seconds_one_epoch_min_freq_{min_freq}"] = time.perf_counter() - start
        figures[f"vocab_min_freq_{min_freq}"] = len(model.vocab)
    print(figures, flush=True)
    record("ulmfit_train", figures)


if __name__ == "__main__":
    main()
