"""Where a first pass over new texts loses its time on a GPU: the first large call against
later ones, and ``embed`` (cleaning, deduplicating, caching) against the streaming encoder alone.

After a warm-up on ``--warmup`` texts, three calls of ``--texts`` new texts each (the STS-B
sentences numbered apart, so no text repeats between calls or within one) go through
``model.embed`` twice with the caches cleared, then once through ``model.stream_encoder.encode``
alone (clean texts straight to the encoder: no cleaning, deduplication or cache); a fourth
``embed`` runs under cProfile, and the host functions that took the most time are printed.
On a fresh machine the first large call has paid for memory the process had never touched:
``bench_gpu.py``'s "first pass" is such a call, so read it beside the second one here.

    python benchmarks/bench_gpu_passes.py [--assets .gpu] [--texts 1000000] [--warmup 100000] [--kernels fused] [--graphs]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import record  # noqa: E402

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assets", default=str(HERE.parent / ".gpu"))
    parser.add_argument("--texts", type=int, default=1_000_000)
    parser.add_argument("--warmup", type=int, default=100_000)
    parser.add_argument(
        "--kernels", default=None, help="the streaming encoder's forward pass (transformers, fused, ...)"
    )
    parser.add_argument("--graphs", action="store_true", help="replay each batch shape from a CUDA graph")
    args = parser.parse_args()
    from simwidgets.models.transformer import SentenceTransformerModel

    assets = Path(args.assets)
    base = [line for line in (assets / "sentences.txt").read_text().splitlines() if line.strip()]
    model = SentenceTransformerModel(
        str(assets / "minilm"), name="minilm", streaming=True, kernels=args.kernels, graphs=args.graphs
    )
    model.embed([f"{base[i % len(base)]} [w{i}]" for i in range(args.warmup)], progress=False)

    def texts(tag: str) -> list[str]:
        return [f"{base[i % len(base)]} ({tag}{i // len(base)})" for i in range(args.texts)]

    figures: dict = {
        "texts": args.texts,
        "warmup_texts": args.warmup,
        "kernels": model.stream_encoder.kernels,
        "graphs": args.graphs,
    }
    for label, tag in (("embed_first_call", "a"), ("embed_second_call", "b")):
        batch = texts(tag)
        model._caches.clear()
        start = time.perf_counter()
        model.embed(batch, progress=False)
        figures[f"{label}_seconds"] = time.perf_counter() - start
        figures[f"{label}_texts_per_s"] = args.texts / figures[f"{label}_seconds"]
        print(f"{label}: {figures[f'{label}_texts_per_s']:,.0f} texts/s", flush=True)
    batch = texts("c")
    start = time.perf_counter()
    model.stream_encoder.encode(batch)
    figures["stream_encoder_seconds"] = time.perf_counter() - start
    figures["stream_encoder_texts_per_s"] = args.texts / figures["stream_encoder_seconds"]
    figures["stream_encoder_profile"] = model.stream_encoder.profile.summary()
    print(f"stream encoder alone: {figures['stream_encoder_texts_per_s']:,.0f} texts/s", flush=True)
    batch = texts("d")
    model._caches.clear()
    profiler = cProfile.Profile()
    profiler.enable()
    model.embed(batch, progress=False)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    print(out.getvalue()[-6000:])
    model.stream_encoder.close()
    record("gpu_passes", figures)


if __name__ == "__main__":  # the tokenizer processes are spawned: they import this file
    main()
