"""How fast can token ids be had on the host? The streaming encoder's tokenize() against
variants, on distinct texts, one process (the Rust tokenizer's own threads).

Usage: python benchmarks/bench_tokenize.py [--texts 1000000] [--model .gpu/minilm]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from common import record  # noqa: E402

from simwidgets.tokenization import tokenize, tokenizer_backend  # noqa: E402


def padded(backends, texts, pad_id):
    """encode_batch with the Rust side padding each call to its longest text, ids as one array."""
    cut, _ = backends
    encodings = cut.encode_batch(texts)
    ids = np.array([e.ids for e in encodings], dtype=np.int32)
    lengths = (ids != pad_id).sum(axis=1)
    return ids, lengths


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=1_000_000)
    parser.add_argument("--model", default=str(HERE.parent / ".gpu" / "minilm"))
    parser.add_argument("--chunk", type=int, default=65_536)
    opts = parser.parse_args()
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(opts.model)
    base = [line.strip() for line in open(HERE.parent / ".gpu" / "sentences.txt", encoding="utf-8") if line.strip()]
    texts = [f"{base[i % len(base)]} {i}" for i in range(opts.texts)]
    backends = tokenizer_backend(tokenizer, 256)
    figures = {"texts": len(texts), "cores": os.cpu_count(), "chunk": opts.chunk}
    start = time.perf_counter()
    for s in range(0, len(texts), opts.chunk):
        tokenize(backends, texts[s : s + opts.chunk])
    figures["tokenize_texts_per_s"] = len(texts) / (time.perf_counter() - start)
    start = time.perf_counter()
    for s in range(0, len(texts), opts.chunk):
        backends[0].encode_batch(texts[s : s + opts.chunk])
    figures["encode_batch_only_texts_per_s"] = len(texts) / (time.perf_counter() - start)
    pad_cut = tokenizer_backend(tokenizer, 256)
    pad_cut[0].enable_padding(pad_id=int(tokenizer.pad_token_id or 0))
    start = time.perf_counter()
    for s in range(0, len(texts), opts.chunk):
        padded(pad_cut, texts[s : s + opts.chunk], int(tokenizer.pad_token_id or 0))
    figures["padded_array_texts_per_s"] = len(texts) / (time.perf_counter() - start)
    record("tokenize_variants", figures)


if __name__ == "__main__":
    main()
