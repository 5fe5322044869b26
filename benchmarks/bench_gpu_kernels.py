"""Where the streaming encoder's card time goes, kernel by kernel, and what fewer kernels save.

``--texts`` texts (the STS-B sentences, numbered apart) are tokenized once and every batch is
planned and staged on the card as the streaming encoder does, so no tokenizing or copying is
timed. Then, for each forward pass (``--kernels``: transformers' ``BertModel``, the fused
pass, the fused pass with GELU in the matrix product; ``NAME:MODE`` runs it under ``torch.compile``;
``NAME@BACKEND`` holds PyTorch's attention to one backend, or to several joined by ``+``: flash,
efficient, cudnn, math; ``fused-short/wN/gM`` runs the short-text attention kernel with N warps
and M heads per program), one pass over all the batches is timed
three ways: issued from Python as the encoder issues it (host and card), replayed from CUDA
graphs (the card alone, no Python in between), and under ``torch.profiler`` (the kernels'
own time, the longest kernels printed). Every pass's vectors are compared with the
transformers pass (least cosine). Run on a GPU:

    python benchmarks/bench_gpu_kernels.py [--assets .gpu] [--texts 200000] [--kernels transformers,fused,fused-gelu,fused:default,fused-gelu@efficient,fused-short,fused-short/w4/g2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import record  # noqa: E402

HERE = Path(__file__).resolve().parent


def staged_batches(encoder, texts):
    """``(ids, lengths, uniform, rows)`` per batch, on the card, as the encoder plans them (rows
    in sorted order: every pass here writes them in that order, so passes compare row by row),
    and the real tokens."""
    from simwidgets.models.bucketing import plan_batches
    from simwidgets.models.streaming import batch_views
    from simwidgets.tokenization import tokenize

    tok = tokenize(encoder.backends, texts)
    batches = plan_batches(tok.lengths, encoder.token_budget, encoder.max_batch, encoder.multiple, encoder.exact_share)
    staged, layout, ids_end, slots = encoder._stage(0, tok, batches)
    on_device = staged.to(encoder.device)
    out = list(batch_views(on_device, layout, ids_end, slots))
    return out, int(tok.lengths.sum())


def sync(torch):
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def one_pass(step, batches, n, dim, torch):
    """Every batch through ``step``, results written in sorted order; (host seconds, total seconds, vectors)."""
    out = torch.empty((n, dim), dtype=torch.float32, device=batches[0][0].device)
    sync(torch)
    start = time.perf_counter()
    row = 0
    with torch.inference_mode():
        for ids, lengths, uniform, rows in batches:
            out[row : row + rows] = step(ids, lengths, uniform)[:rows]
            row += rows
    issued = time.perf_counter() - start
    sync(torch)
    return issued, time.perf_counter() - start, out


def with_attention(step, backends: str):
    """``step`` run with PyTorch's attention held to ``backends`` ("efficient", "flash+efficient", ...)."""
    if not backends:
        return step
    from torch.nn.attention import SDPBackend, sdpa_kernel

    names = {"flash": "FLASH_ATTENTION", "efficient": "EFFICIENT_ATTENTION", "cudnn": "CUDNN_ATTENTION", "math": "MATH"}
    chosen = [getattr(SDPBackend, names[b]) for b in backends.split("+")]

    def run(*args):
        with sdpa_kernel(chosen):
            return step(*args)

    return run


def short_settings(options: list[str]) -> dict:
    """The short-text kernel's settings a ``/wN/gM`` suffix names (warps, heads per program)."""
    from simwidgets.models import short_attention

    settings = {"WARPS": dict(short_attention.WARPS), "HEADS_PER_PROGRAM": short_attention.HEADS_PER_PROGRAM}
    for option in options:
        if option.startswith("w"):
            settings["WARPS"] = dict.fromkeys(settings["WARPS"], int(option[1:]))
        elif option.startswith("g"):
            settings["HEADS_PER_PROGRAM"] = int(option[1:])
        else:
            raise SystemExit(f"unknown kernel option /{option}: use /wN (warps) or /gM (heads per program)")
    return settings


def kernel_time(step, batches, n, dim, torch):
    """The card's kernel time for one pass (seconds) and the profiler's table of the longest kernels."""
    from torch.profiler import ProfilerActivity, profile

    on_gpu = torch.cuda.is_available()
    with profile(activities=[ProfilerActivity.CUDA if on_gpu else ProfilerActivity.CPU]) as prof:
        one_pass(step, batches, n, dim, torch)
    events = prof.key_averages()

    def own(e):
        if not on_gpu:  # a dry run on a CPU: the operators' own CPU time
            return e.self_cpu_time_total
        return getattr(e, "self_device_time_total", None) or getattr(e, "self_cuda_time_total", 0) or 0

    total = sum(own(e) for e in events) / 1e6
    top = sorted(events, key=own, reverse=True)[:12]
    table = [(e.key[:90], round(own(e) / 1e6, 4), e.count) for e in top]
    return total, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", default=str(HERE.parent / ".gpu"))
    parser.add_argument("--texts", type=int, default=200_000)
    parser.add_argument("--kernels", default="transformers,fused,fused-gelu")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import torch

    from simwidgets.models.shape_graphs import ShapeGraphs
    from simwidgets.models.transformer import SentenceTransformerModel

    assets = Path(args.assets)
    base = [line for line in (assets / "sentences.txt").read_text().splitlines() if line.strip()]
    texts = [f"{base[i % len(base)]} ({i // len(base)})" for i in range(args.texts)]
    on_gpu = torch.cuda.is_available()
    figures: dict = {"card": torch.cuda.get_device_name(0) if on_gpu else "CPU (a dry run)", "texts": args.texts}
    reference = None
    from simwidgets.models import short_attention

    defaults = short_settings([])
    for kernels in args.kernels.split(","):
        kernels_name, *options = kernels.split("/")  # "fused-short/w4/g2": the short kernel's settings
        for key, value in short_settings(options).items():
            setattr(short_attention, key, value)
        spec, _, attention = kernels_name.partition("@")  # "fused@efficient": one attention backend
        name, _, mode = spec.partition(":")  # "fused:default": the fused pass under torch.compile
        start = time.perf_counter()
        model = SentenceTransformerModel(
            str(assets / "minilm"), name="minilm", streaming=True, kernels=name, compile=mode or None
        )
        encoder = model.stream_encoder
        step = with_attention(encoder._step, attention)
        batches, tokens = staged_batches(encoder, texts)
        dim = encoder.model.config.hidden_size
        figures.update(tokens=tokens, batches=len(batches))
        one_pass(step, batches, len(texts), dim, torch)  # warm-up: each shape's kernels loaded
        warm_s = time.perf_counter() - start
        runs = [one_pass(step, batches, len(texts), dim, torch) for _ in range(args.repeats)]
        issued = statistics.median(r[0] for r in runs)
        total = statistics.median(r[1] for r in runs)
        vectors = runs[0][2]
        if reference is None:
            reference = vectors
        least = float((vectors * reference).sum(1).min())
        graphs = ShapeGraphs(step, after=0) if on_gpu else step
        one_pass(graphs, batches, len(texts), dim, torch)  # captures every shape
        replayed = statistics.median(one_pass(graphs, batches, len(texts), dim, torch)[1] for _ in range(args.repeats))
        kernels_s, table = kernel_time(step, batches, len(texts), dim, torch)
        row = {
            "load_and_warm_up_s": round(warm_s, 2),
            "issued_s": round(issued, 4),
            "pass_s": round(total, 4),
            "texts_per_s": len(texts) / total,
            "graph_replay_s": round(replayed, 4),
            "graph_replay_texts_per_s": len(texts) / replayed,
            "kernel_s": round(kernels_s, 4),
            "kernel_texts_per_s": len(texts) / kernels_s,
            "graphs_captured": len(graphs.graphs) if on_gpu else 0,
            "graph_failure": graphs.failed if on_gpu else "no GPU",
            "least_cosine_vs_transformers": least,
            "top_kernels": table,
        }
        figures[kernels] = row
        print(
            f"{kernels}: pass {total:.3f} s ({len(texts) / total:,.0f} texts/s; host issuing {issued:.3f} s), "
            f"graph replay {replayed:.3f} s, kernels {kernels_s:.3f} s; least cosine {least:.6f}",
            flush=True,
        )
        for name, seconds, count in table:
            print(f"    {seconds:8.4f} s  {count:6d}  {name}")
        del model, encoder, batches, graphs
        for key, value in defaults.items():
            setattr(short_attention, key, value)
        if on_gpu:
            torch.cuda.empty_cache()
    first = args.kernels.split(",")[0]
    for kernels in args.kernels.split(",")[1:]:
        for key in ("pass_s", "graph_replay_s", "kernel_s"):
            figures[kernels][f"speedup_{key}_vs_{first}"] = figures[first][key] / figures[kernels][key]
    record("gpu_kernels", figures)


if __name__ == "__main__":  # the tokenizer may start processes: they import this file
    main()
