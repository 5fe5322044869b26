"""MiniLM texts/s on a GPU: simwidgets' SentenceTransformerModel vs SentenceTransformer.encode,
same card, same run, same 100,000 distinct texts (STS-B sentences, numbered to be distinct).

Usage (on a GPU machine): python benchmarks/bench_gpu_minilm.py MODEL_DIR SENTENCES_TXT [N]
Only torch, sentence-transformers, numpy, pandas, scipy and tqdm are needed there: the
simwidgets package is imported without its widget and evaluation layers.
"""

from __future__ import annotations

import json
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if "simwidgets" not in sys.modules:  # import the model layer only (no widgets, no Dask, no gensim)
    package = types.ModuleType("simwidgets")
    package.__path__ = [str(ROOT / "simwidgets")]
    sys.modules["simwidgets"] = package


def main(model_dir: str, sentences: str, n: int = 100_000) -> None:
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    from simwidgets.models.transformer import SentenceTransformerModel

    base = [line for line in Path(sentences).read_text().splitlines() if line.strip()]
    texts = [f"{base[i % len(base)]} ({i // len(base)})" for i in range(n)]
    device = "cuda" if torch.cuda.is_available() else "cpu"
    card = torch.cuda.get_device_name(0) if device == "cuda" else "CPU"
    st = SentenceTransformer(model_dir, device=device)
    st.encode(texts[:2048], batch_size=256)  # warm up kernels

    def timed(fn):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        out = fn()
        if device == "cuda":
            torch.cuda.synchronize()
        return len(texts) / (time.perf_counter() - start), out

    results = {"card": card, "texts": n}
    default_rate, reference = timed(lambda: st.encode(texts, convert_to_numpy=True))
    results["st_encode_batch32_texts_per_s"] = default_rate
    best = 0.0
    for bs in (256, 1024):
        rate, _ = timed(lambda bs=bs: st.encode(texts, batch_size=bs, convert_to_numpy=True))
        results[f"st_encode_batch{bs}_texts_per_s"] = rate
        best = max(best, rate)
    for bs in (128, 1024):
        model = SentenceTransformerModel(model_dir, name="minilm-gpu", device=device)
        model.batch_size = bs
        rate, ours = timed(lambda m=model: m.embed(texts, progress=False))
        results[f"simwidgets_batch{bs}_texts_per_s"] = rate
        cos = np.sum(ours * reference, axis=1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(reference, axis=1))
        results[f"simwidgets_batch{bs}_min_cosine_vs_encode"] = float(cos.min())
    results["ratio_best_simwidgets_vs_encode_default"] = max(
        results["simwidgets_batch128_texts_per_s"], results["simwidgets_batch1024_texts_per_s"]) / default_rate
    results["ratio_best_simwidgets_vs_encode_best"] = max(
        results["simwidgets_batch128_texts_per_s"], results["simwidgets_batch1024_texts_per_s"]) / best
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *(int(a) for a in sys.argv[3:]))
