"""GPU embedding throughput: simwidgets' streaming encoder vs SentenceTransformer.encode,
same card, same run, texts in and normalized float32 vectors out on the host.

    python benchmarks/bench_gpu.py [--assets .gpu] [--texts 1000000] [--baseline-texts 100000]

Workloads: (1) distinct texts made from STS-B sentences (each numbered, so none repeats);
(2) the 1,000,000-pair Zipf search log of the scale benchmarks (2,000,000 texts, where
deduplication counts too). ``encode`` runs at its default (fp32, batch 32) and at its best
batch size; as it keeps a steady rate, it runs on the first ``--baseline-texts`` texts of
each workload, while simwidgets runs on all of them; then through sentence-transformers'
multi-process pool on the one card (``--pool-processes``, fp16: on an H100 the strongest
baseline), so every "vs strongest" ratio is against the fastest of them. ``--compile`` times
the first pass under ``torch.compile`` modes too. Each encoder first embeds ``--warmup``
other texts (default: as many as it will be timed on): the first call of that size in a
process pays a one-time cost (17.8 s against 5.6 s for the next million new texts on an H100,
``bench_gpu_passes.py``; memory the process has never touched is the likely part, the cause is
not pinned down) that a running job pays once; the
"second pass" repeats the timed texts with the caches cleared. A profile says where each path spends
its time. Then ``simwidgets score --device cuda`` scores the search log on one GPU worker
and, on a host with several GPUs, on one worker per GPU (``--score-only``: just that).
Figures are printed, appended to benchmarks/results.jsonl, and written to ``$OUT/gpu.json``
when OUT is set. ``.gpu`` comes from ``benchmarks/gpu_assets.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def _sync():
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(fn):
    _sync()
    start = time.perf_counter()
    out = fn()
    _sync()
    return time.perf_counter() - start, out


def two_passes(model, distinct: list[str], base: list[str], warmup: int, tag: str, key: str, results: dict):
    """Warm ``model`` up on ``warmup`` other texts (tagged ``tag``, so none repeats a timed one),
    then time a first and a second pass over ``distinct`` (caches cleared before each) into
    ``results`` under ``key``; returns the first pass's vectors.

    The warm-up loads each batch shape's kernels and touches the memory a large call needs
    (the first large call of a process pays for that once), so the first pass is what a
    running job sees on new texts.
    """
    warm, _ = timed(lambda: model.embed([f"{base[i % len(base)]} [{tag}{i}]" for i in range(warmup)], progress=False))
    results[f"{key}_warmup_seconds"] = warm
    first = None
    for pass_ in ("", "_second_pass"):
        model._caches.clear()
        seconds, vectors = timed(lambda: model.embed(distinct, progress=False))
        first = vectors if first is None else first
        results[f"{key}{pass_}_seconds"] = seconds
        results[f"{key}{pass_}_texts_per_s"] = len(distinct) / seconds
        results[f"{key}{pass_}_profile"] = model.stream_encoder.profile.summary()
    return first


def encode_profile(st, texts: list[str], batch_size: int) -> dict:
    """``encode``'s own loop, replayed stage by stage with a sync after each: where its time goes."""
    import torch

    stages = dict.fromkeys(("tokenize", "copy_in", "compute", "pool", "copy_out"), 0.0)
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # as encode sorts
    device = st.device
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            batch = [texts[i] for i in order[start : start + batch_size]]
            t0 = time.perf_counter()
            features = (getattr(st, "preprocess", None) or st.tokenize)(batch)
            t1 = time.perf_counter()
            features = {k: v.to(device) if hasattr(v, "to") else v for k, v in features.items()}
            _sync()
            t2 = time.perf_counter()
            out = st[0](features)
            _sync()
            t3 = time.perf_counter()
            for module in list(st)[1:]:
                out = module(out)
            _sync()
            t4 = time.perf_counter()
            out["sentence_embedding"].float().cpu().numpy()
            t5 = time.perf_counter()
            for stage, seconds in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                stages[stage] += seconds
    total = sum(stages.values())
    return {f"{k}_share": round(v / total, 3) for k, v in stages.items()} | {"texts_per_s": len(texts) / total}


CLI_RUN = """
import json, resource, sys, time
start = time.perf_counter()
from simwidgets.cli import main
code = main(sys.argv[1:])
seconds = time.perf_counter() - start
torch = sys.modules.get("torch")
card = torch.cuda.max_memory_allocated() if torch is not None and torch.cuda.is_available() else 0
rss = [resource.getrusage(w).ru_maxrss * 1024 for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
print("CLI_FIGURES " + json.dumps({"seconds": seconds, "host_peak_bytes": max(rss), "card_peak_bytes": card}))
sys.exit(code)
"""


def save(results: dict, name: str = "gpu.json") -> None:
    """Write what is measured so far to ``$OUT`` (a run stopped at its time limit keeps it)."""
    if os.environ.get("OUT"):
        Path(os.environ["OUT"], name).write_text(json.dumps(results, indent=1, default=str))


def write_log(log, path: Path, row_group_size: int = 125_000, part: int = 10_000_000) -> None:
    """The log as one Parquet file, converted and written ``part`` rows at a time (a
    100,000,000-row frame converted at once would hold every string twice)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    for start in range(0, len(log), part):
        table = pa.Table.from_pandas(log.iloc[start : start + part], preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=row_group_size)
    writer.close()


def cli_score(source: Path, out: Path, spec: str, *extra: str) -> dict:
    """``simwidgets score --device cuda`` in a fresh Python, timed from outside: start-up,
    imports, model load and the job, with the process's peak host and card memory."""
    import subprocess

    argv = [
        "score",
        str(source),
        "-o",
        str(out),
        "--left",
        "query",
        "--right",
        "result",
        "-m",
        spec,
        "--device",
        "cuda",
        "-q",
        *extra,
    ]
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CLI_RUN, *argv],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    wall = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(done.stdout[-2000:] + done.stderr[-4000:])
    line = next(x for x in done.stdout.splitlines() if x.startswith("CLI_FIGURES "))
    return {"wall_seconds": wall, **json.loads(line[len("CLI_FIGURES ") :])}


def score_log(log, model_dir: str, threads=(4, 8), variants=("threads", "processes")) -> dict:
    """``simwidgets score --device cuda`` on the search log, end to end in a fresh process
    (start-up included), with the default local worker (threads of that process) and with
    ``--processes`` (a worker process per GPU, the default before); then jobs on a running
    in-process cluster whose worker holds the model: the first finds an empty embedding cache,
    the second every text cached. Per GPU count when the host has several."""
    import tempfile

    from distributed import Client

    from simwidgets.batch import score_file
    from simwidgets.batch.cluster import _load_on_worker, local_cluster
    from simwidgets.batch.gpus import visible_gpus

    n_gpus = len(visible_gpus())
    spec = f"st:{model_dir}?name=minilm"
    figures = {"score_gpus": n_gpus, "score_rows": len(log)}
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "log.parquet"
        seconds, _ = timed(lambda: write_log(log, source))
        print(f"  wrote the {len(log):,}-pair log in {seconds:.1f} s", flush=True)
        for label, extra in (("threads", ()), ("processes", ("--processes",))):
            if label not in variants:
                continue
            run = cli_score(source, Path(tmp) / f"out-cli-{label}", spec, *extra)
            key = f"score_cli_{label}"
            figures[f"{key}_seconds"] = run["wall_seconds"]
            figures[f"{key}_pairs_per_s"] = len(log) / run["wall_seconds"]
            figures[f"{key}_host_peak_gib"] = run["host_peak_bytes"] / 2**30
            figures[f"{key}_card_peak_gib"] = run["card_peak_bytes"] / 2**30
            print(
                f"  simwidgets score --device cuda ({label}), start-up included: "
                f"{len(log) / run['wall_seconds']:,.0f} pairs/s ({run['wall_seconds']:.1f} s)",
                flush=True,
            )
            save(figures, "gpu-score.json")
        for n_threads in threads:
            with local_cluster(device="cuda", threads=n_threads, workers=1) as cluster, Client(cluster) as client:
                client.run(_load_on_worker, [spec], {"device": "cuda"})
                for job in ("first", "second"):
                    seconds, summary = timed(
                        lambda job=job, n_threads=n_threads: score_file(
                            source,
                            Path(tmp) / f"out-{n_threads}-{job}",
                            "query",
                            "result",
                            [spec],
                            device="cuda",
                            client=client,
                            progress=False,
                        )
                    )
                    key = f"score_running_{n_threads}_threads_{job}_job"
                    figures[f"{key}_pairs_per_s"] = summary.rows / seconds
                    print(
                        f"  running cluster, {n_threads} threads, {job} job: {summary.rows / seconds:,.0f} pairs/s",
                        flush=True,
                    )
            from simwidgets.models.loading import _LOADED

            _LOADED.clear()  # the next cluster loads (and caches) afresh
    return figures


def st_baselines(args, model_dir: str, distinct: list[str], log_texts: list[str], results: dict):
    """sentence-transformers' ``encode`` at its default, at its best batch and dtype, and through
    its multi-process pool: the reference vectors, the best rate and the strongest (name, rate)."""
    import torch
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(model_dir, device="cuda" if torch.cuda.is_available() else "cpu")
    st.float()  # as published: fp32 weights (the copy that travelled stores them in fp16)
    st.encode(distinct[:4096], batch_size=256)  # warm up
    sample = distinct[: args.baseline_texts]
    seconds, reference = timed(lambda: st.encode(sample, convert_to_numpy=True, normalize_embeddings=True))
    results["encode_default_texts_per_s"] = len(sample) / seconds
    best_rate, best = 0.0, None
    for dtype in ("float32", "float16"):
        st.to(getattr(torch, dtype))
        for bs in (256, 1024, 2048):
            seconds, _ = timed(
                lambda bs=bs: st.encode(sample, batch_size=bs, convert_to_numpy=True, normalize_embeddings=True)
            )
            rate = len(sample) / seconds
            results[f"encode_{dtype}_batch{bs}_texts_per_s"] = rate
            print(f"  encode {dtype} batch {bs}: {rate:,.0f} texts/s", flush=True)
            if rate > best_rate:
                best_rate, best = rate, (dtype, bs)
    results["encode_best"] = f"{best[0]} batch {best[1]}"
    results["encode_best_texts_per_s"] = best_rate
    st.to(getattr(torch, best[0]))
    log_sample = log_texts[: args.baseline_texts]
    seconds, _ = timed(
        lambda: st.encode(log_sample, batch_size=best[1], convert_to_numpy=True, normalize_embeddings=True)
    )
    results["log_encode_best_texts_per_s"] = len(log_sample) / seconds
    st.float()
    seconds, _ = timed(lambda: st.encode(log_sample, convert_to_numpy=True, normalize_embeddings=True))
    results["log_encode_default_texts_per_s"] = len(log_sample) / seconds
    profile_texts = distinct[: min(50_000, args.baseline_texts)]
    results["encode_default_profile"] = encode_profile(st, profile_texts, 32)
    st.to(getattr(torch, best[0]))
    results["encode_best_profile"] = encode_profile(st, profile_texts, best[1])
    # sentence-transformers at its strongest on one card: fp16, several processes through its own pool
    # (last of its runs: in the one run where the pools came first, the encode runs after them were
    # 3-4x slower than in every earlier run)
    strongest, strongest_rate = results["encode_best"], best_rate
    for k in [int(c) for c in args.pool_processes.split(",") if c]:
        st.to(torch.float16)
        pool = st.start_multi_process_pool(["cuda:0"] * k)
        pool_sample = distinct[: args.pool_texts]
        st.encode(distinct[-20_000:], pool=pool, batch_size=best[1])  # each process loads and warms up
        seconds, _ = timed(
            lambda pool=pool, pool_sample=pool_sample: st.encode(
                pool_sample, pool=pool, batch_size=best[1], convert_to_numpy=True, normalize_embeddings=True
            )
        )
        st.stop_multi_process_pool(pool)
        rate = len(pool_sample) / seconds
        results[f"encode_pool{k}_float16_texts_per_s"] = rate
        print(
            f"  encode, multi-process pool of {k} on one card, fp16, batch {best[1]}: {rate:,.0f} texts/s", flush=True
        )
        if rate > strongest_rate:
            strongest, strongest_rate = f"pool of {k} processes, float16 batch {best[1]}", rate
    results["encode_strongest"] = strongest
    results["encode_strongest_texts_per_s"] = strongest_rate
    save(results)
    st = None
    torch.cuda.empty_cache()
    return reference, best_rate, strongest, strongest_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", default=str(HERE.parent / ".gpu"))
    parser.add_argument("--texts", type=int, default=1_000_000)
    parser.add_argument("--baseline-texts", type=int, default=100_000)
    parser.add_argument("--log-pairs", type=int, default=1_000_000)
    parser.add_argument(
        "--warmup",
        type=int,
        default=None,
        help="other texts embedded before timing (default: as many as --texts, so the timed "
        "pass does not pay the first large call's one-time cost)",
    )
    parser.add_argument("--skip-score", action="store_true", help="leave out the Dask scoring job")
    parser.add_argument("--score-only", action="store_true", help="only the Dask scoring jobs")
    parser.add_argument("--score-pairs", type=int, default=None, help="pairs of the log the scoring jobs read")
    parser.add_argument("--score-threads", default="4,8", help="threads of the running cluster's GPU worker")
    parser.add_argument("--score-cli", default="threads,processes", help="fresh-process jobs: threads, processes")
    parser.add_argument(
        "--also-processes",
        default="",
        help="tokenizer process counts to time a first pass with too: variants named processes_N",
    )
    parser.add_argument(
        "--pool-processes",
        default="2,4",
        help="sentence-transformers multi-process pool sizes (fp16, one card) to time as baselines ('': none); "
        "every ratio 'vs strongest' is against the fastest of encode and these",
    )
    parser.add_argument("--pool-texts", type=int, default=300_000, help="texts each pool baseline embeds")
    parser.add_argument(
        "--compile",
        default="",
        help="torch.compile modes to time a first pass with too (default, reduce-overhead, ...): "
        "variants named compile_MODE",
    )
    parser.add_argument("--skip-threads", action="store_true", help="leave out the tokenizer-threads first pass")
    parser.add_argument(
        "--skip-baselines",
        action="store_true",
        help="leave out sentence-transformers' runs (and every ratio against them): variants against our defaults only",
    )
    parser.add_argument(
        "--variants",
        default="",
        help="JSON object {label: {streaming encoder options}} (e.g. graphs, max_batch, token_budget, "
        "chunk_size; '_allocator': CUDA allocator settings from that variant on): each times a first and a "
        "second pass beside the defaults",
    )
    args = parser.parse_args()

    import numpy as np
    import torch
    from common import record, search_log

    from simwidgets.models.transformer import SentenceTransformerModel

    if args.warmup is None:
        args.warmup = args.texts
    assets = Path(args.assets)
    if not (assets / "minilm").exists():
        from gpu_assets import prepare

        prepare(assets)
    model_dir = str(assets / "minilm")
    base = [line for line in (assets / "sentences.txt").read_text().splitlines() if line.strip()]
    distinct = [f"{base[i % len(base)]} ({i // len(base)})" for i in range(args.texts)]
    words = (assets / "words.txt").read_text(encoding="utf-8").splitlines()
    log = search_log(args.log_pairs, words=words)
    log_texts = log["query"].tolist() + log["result"].tolist()
    card = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"
    results: dict = {
        "card": card,
        "cores": os.cpu_count(),
        "distinct_texts": len(distinct),
        "log_texts": len(log_texts),
        "log_distinct_texts": len(set(log_texts)),
        "baseline_texts": args.baseline_texts,
    }
    print(f"on {card}: {len(distinct):,} distinct texts, search log of {len(log_texts):,} texts", flush=True)

    score_threads = tuple(int(t) for t in args.score_threads.split(",") if t)
    score_source = log if not args.score_pairs else search_log(args.score_pairs, words=words)
    if args.score_only:
        results.update(score_log(score_source, model_dir, score_threads, args.score_cli.split(",")))
        record("gpu_minilm_score", results)
        save(results, "gpu-score.json")
        return

    # -- SentenceTransformer.encode -------------------------------------------------------------
    if args.skip_baselines:
        reference, best_rate, strongest, strongest_rate = None, None, None, None
    else:
        reference, best_rate, strongest, strongest_rate = st_baselines(args, model_dir, distinct, log_texts, results)

    # -- simwidgets' streaming encoder ----------------------------------------------------------
    model = SentenceTransformerModel(model_dir, name="minilm", streaming=True)
    ours = two_passes(model, distinct, base, args.warmup, "w", "simwidgets", results)
    if reference is not None:
        cosine = np.sum(ours[: len(reference)] * reference, axis=1)
        results["min_cosine_vs_encode_fp32"] = float(cosine.min())
    results["tokenizer_processes"] = model.stream_encoder.processes
    print(
        f"first pass: {results['simwidgets_texts_per_s']:,.0f} texts/s; second "
        f"{results['simwidgets_second_pass_texts_per_s']:,.0f}",
        flush=True,
    )
    save(results)
    if not args.skip_threads:
        tokenizer_threads = SentenceTransformerModel(model_dir, name="minilm", streaming=True, processes=0)
        seconds, _ = timed(lambda: tokenizer_threads.embed(distinct, progress=False))
        results["simwidgets_tokenizer_threads_not_processes_texts_per_s"] = len(distinct) / seconds
        tokenizer_threads = None
    variants = {f"compile_{mode}": {"compile": mode} for mode in args.compile.split(",") if mode}
    variants.update({f"processes_{n}": {"processes": int(n)} for n in args.also_processes.split(",") if n})
    variants.update(json.loads(args.variants) if args.variants else {})
    for label, options in variants.items():
        allocator = options.pop("_allocator", None)
        if allocator:  # e.g. "expandable_segments:True"; process-wide from here on, so put such variants last
            torch.cuda.memory._set_allocator_settings(allocator)
            results[f"variant_{label}_allocator"] = allocator
        other = SentenceTransformerModel(model_dir, name="minilm", streaming=True, **options)
        key = f"variant_{label}"
        results[f"{key}_options"] = options
        theirs = two_passes(other, distinct, base, args.warmup, label, key, results)
        results[f"{key}_min_cosine_vs_defaults"] = float(np.sum(theirs * ours, axis=1).min())
        results[f"{key}_ratio_vs_defaults_same_run"] = results[f"{key}_texts_per_s"] / results["simwidgets_texts_per_s"]
        print(
            f"  {label} {options}: first pass {results[f'{key}_texts_per_s']:,.0f} texts/s "
            f"({results[f'{key}_ratio_vs_defaults_same_run']:.2f}x defaults), second "
            f"{results[f'{key}_second_pass_texts_per_s']:,.0f}; min cosine vs defaults "
            f"{results[f'{key}_min_cosine_vs_defaults']:.6f}",
            flush=True,
        )
        other.stream_encoder.close()
        other = None
        torch.cuda.empty_cache()
        save(results)
    model._caches.clear()
    seconds, _ = timed(lambda: model.embed(log_texts, progress=False))
    results["log_simwidgets_texts_per_s"] = len(log_texts) / seconds
    results["log_simwidgets_profile"] = model.stream_encoder.profile.summary()
    model.stream_encoder.close()

    if strongest_rate is not None:  # ratios against sentence-transformers, measured in this run
        results["ratio_vs_encode_default"] = results["simwidgets_texts_per_s"] / results["encode_default_texts_per_s"]
        results["ratio_vs_encode_best"] = results["simwidgets_texts_per_s"] / best_rate
        results["ratio_vs_encode_strongest"] = results["simwidgets_texts_per_s"] / strongest_rate
        print(
            f"first pass: {results['simwidgets_texts_per_s']:,.0f} texts/s, "
            f"{results['ratio_vs_encode_strongest']:.2f}x "
            f"sentence-transformers at its strongest ({strongest}: {strongest_rate:,.0f})",
            flush=True,
        )
        for key in [k[: -len("_options")] for k in results if k.startswith("variant_") and k.endswith("_options")]:
            for pass_ in ("", "_second_pass"):
                results[f"{key}{pass_}_ratio_vs_encode_strongest"] = (
                    results[f"{key}{pass_}_texts_per_s"] / strongest_rate
                )
        results["second_pass_ratio_vs_encode_strongest"] = (
            results["simwidgets_second_pass_texts_per_s"] / strongest_rate
        )
        results["log_ratio_vs_encode_default"] = (
            results["log_simwidgets_texts_per_s"] / results["log_encode_default_texts_per_s"]
        )
        results["log_ratio_vs_encode_best"] = (
            results["log_simwidgets_texts_per_s"] / results["log_encode_best_texts_per_s"]
        )
    model = None
    torch.cuda.empty_cache()

    if not args.skip_score:
        results.update(score_log(score_source, model_dir, score_threads, args.score_cli.split(",")))

    record("gpu_minilm", results)
    save(results)


if __name__ == "__main__":
    main()
