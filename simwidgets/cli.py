"""The ``simwidgets`` command line (also ``python -m simwidgets``)."""

from __future__ import annotations

import argparse
import errno
import os
import sys
from pathlib import Path

import pandas as pd

from .columns import is_reason, is_score, model_of
from .errors import InputError, NotFoundError, SimwidgetsError

#: What a user did wrong: the package's own errors and a missing file, told in one line (exit 2).
#: Anything else is a bug and shows its traceback.
USAGE_ERRORS = (SimwidgetsError, FileNotFoundError)
#: A full disk, a quota, a file size limit: one line, not a traceback.
NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def _models_help() -> str:
    from .models import KNOWN_SPECS

    return "model spec, repeatable; one of: " + ", ".join(KNOWN_SPECS)


def _print(frame: pd.DataFrame) -> None:
    with pd.option_context(
        "display.width",
        200,
        "display.max_columns",
        50,
        "display.max_colwidth",
        60,
        "display.float_format",
        "{:.3f}".format,
    ):
        print(frame.to_string())


def cmd_similarity(args) -> int:
    from .similarity import score_pairs

    if len(args.texts) < 2:
        raise InputError("give at least two texts: the first is compared with each of the others")
    first, others = args.texts[0], args.texts[1:]
    frame = score_pairs([first] * len(others), others, args.model or ["minilm"])
    frame = frame.drop(columns="left").rename(columns={"right": f"compared with {first!r}"})
    frame.columns = [model_of(c) if is_score(c) else c for c in frame.columns]
    reasons = [c for c in frame.columns if is_reason(c)]
    shown = frame.drop(columns=[c for c in reasons if frame[c].isna().all()])
    _print(shown.reset_index(drop=True))
    return 0


def cmd_neighbours(args) -> int:
    from .models import load_model
    from .similarity import neighbours

    if args.k < 1:
        raise InputError(f"-k must be at least 1, got {args.k}")
    tables, missing = [], []
    for spec in args.model or ["glove-50d"]:
        model = load_model(spec)
        try:
            table = neighbours(args.query, model, k=args.k)
        except (KeyError, ValueError) as exc:  # this model lacks the word: show the others
            missing.append((model.name, exc.args[0] if exc.args else str(exc)))
            continue
        tables.append(table.set_index("rank")[["token", "score"]].add_prefix(f"{model.name} "))
    if not tables:
        reasons = "; ".join(f"{name}: {why}" for name, why in missing)
        raise NotFoundError(f"no model has {args.query!r} in its vocabulary ({reasons})")
    _print(pd.concat(tables, axis=1))
    for name, why in missing:
        print(f"{name}: {args.query!r} is not in this model's vocabulary ({why})")
    return 0


def _default_data_dir() -> Path:
    """``$SIMWIDGETS_DATA``, else the open sets shipped with the package."""
    from .evaluation.datasets import DATA

    env = os.environ.get("SIMWIDGETS_DATA")
    return Path(env) if env else DATA


def cmd_evaluate(args) -> int:
    from .evaluation import evaluate_files, standard_benchmarks

    models = args.model or (["minilm", "glove-50d", "tfidf"] if args.standard else ["minilm"])
    if args.sts_dir:
        from .evaluation import evaluate_sts_dir

        if args.file or args.standard:
            raise InputError("give either --sts-dir DIR, or a pairs FILE / --standard, not both")
        table = evaluate_sts_dir(args.sts_dir, models)
        print("Spearman of cosine scores, pooled over each set's test pairs (MTEB prints these x 100)\n")
        _print(table)
        return 0
    if args.standard:
        data_dir = Path(args.file) if args.file else _default_data_dir()
        files = standard_benchmarks(data_dir)
        if not files:
            raise FileNotFoundError(
                f"no standard benchmark files under {data_dir} (expected word-sim/EN-WS-353-ALL.txt, "
                "word-sim/EN-SIMLEX-999.txt, sts/stsb-en-dev.csv); pass the data folder"
            )
    elif not args.file:
        raise InputError("give a pairs FILE, or --standard to run the standard benchmarks")
    else:
        files = {Path(args.file).name: Path(args.file)}
    own = [args.left, args.right, args.label]
    columns = tuple(own) if any(own) else None
    result = evaluate_files(files, models, format=args.format, columns=columns, sep=args.sep, n_boot=args.bootstrap)
    if "spearman" in result and args.standard:
        print("Spearman correlation (95% bootstrap interval); unscored = share of pairs a model could not score\n")
        result["spearman [95% CI]"] = [
            f"{r.spearman:.3f}" + ("" if pd.isna(r.spearman_low) else f" [{r.spearman_low:.3f}, {r.spearman_high:.3f}]")
            for r in result.itertuples()
        ]
        _print(result.pivot(index="model", columns="benchmark", values="spearman [95% CI]"))
        print()
        _print(
            result.pivot(index="model", columns="benchmark", values="unscored_share").rename_axis(
                columns="unscored share"
            )
        )
    else:
        _print(result.set_index(["benchmark", "model"]))
        if "f1_keeps_all" in result and result["f1_keeps_all"].fillna(False).astype(bool).any():
            keep_all = result[result["f1_keeps_all"].fillna(False).astype(bool)]
            print(
                f"\nnote: the best-F1 threshold of {', '.join(keep_all['model'])} keeps every pair: its F1 is the "
                f"'keep all' F1 ({keep_all['keep_all_f1'].iloc[0]:.3f}, {keep_all['positive_share'].iloc[0]:.0%} "
                "of pairs are similar), so it tells nothing; compare roc_auc and average_precision instead"
            )
    return 0


def cmd_threshold(args) -> int:
    from .evaluation import threshold_report
    from .evaluation.datasets import read_table

    frame = read_table(args.file, args.sep, allow_partial=args.partial)
    for column in [args.score, args.label]:
        if column is not None and column not in frame:
            raise NotFoundError(f"column {column!r} not in {args.file}; its columns are {list(frame.columns)}")
    thresholds = args.threshold or [0.5]
    table = threshold_report(frame[args.score], frame[args.label] if args.label else None, thresholds, good=args.good)
    _print(table.set_index("threshold"))
    return 0


def cmd_audit(args) -> int:
    client = None
    if args.scheduler:  # each pass over the log: a task per part, on that cluster's workers
        from distributed import Client

        client = Client(args.scheduler)
    try:
        return _audit(args, client)
    finally:
        if client is not None:
            client.close()


def _audit(args, client) -> int:
    from .evaluation.audit import audit_sample, estimate_on_log

    if args.draw:
        sample = audit_sample(
            args.scored, args.score, args.draw, bands=args.band or None, seed=args.seed, client=client
        )
        sample.to_csv(args.labels, index=False)
        print(f"{len(sample)} rows drawn into {args.labels}: label them in a 'label' column, then run this command "
              "again without --draw")  # fmt: skip
        return 0
    table = estimate_on_log(
        args.scored, args.labels, args.score, args.threshold or [0.5], good=args.good, client=client
    )
    print(
        "On every row of the log: kept counts exact; precision, recall, F1 and good pairs lost estimated from "
        f"{table.attrs['labels']} audit labels (95% intervals). sample_*: what the labels claim unweighted.\n"
    )
    _print(table)
    return 0


def _worker_options(p) -> None:
    p.add_argument(
        "--workers",
        type=int,
        help="CPU: threads of the local worker (processes with --processes; default: one per core); "
        "GPU: cards to use (default: all)",
    )
    p.add_argument(
        "--threads", type=int, help="partitions scored at once per worker (default: one per core; 4 per GPU)"
    )
    p.add_argument(
        "--processes",
        action="store_true",
        help="one process per worker instead of threads of this one (for a model whose code holds Python's GIL)",
    )


def cmd_score(args) -> int:
    from .batch import score_file

    summary = score_file(
        args.input,
        args.output,
        left=args.left,
        right=args.right,
        models=args.model or ["minilm"],
        scheduler=args.scheduler,
        workers=args.workers,
        blocksize=args.blocksize,
        device=args.device,
        sep=args.sep,
        on_bad_rows=args.on_bad_rows,
        ensemble=args.ensemble,
        calibrate=args.calibrate,
        cascade=args.cascade,
        text_columns=args.text_column,
        max_record_bytes=args.max_record_bytes,
        progress=not args.quiet,
        threads=args.threads,
        processes=True if args.processes else None,
    )
    print(summary)
    return 0


def cmd_cluster(args) -> int:
    import time

    from .batch.cluster import start_cluster

    start = time.perf_counter()
    cluster, client = start_cluster(
        device=args.device,
        workers=args.workers,
        port=args.port,
        preload=args.preload or [],
        threads=args.threads,
        processes=True if args.processes else None,
    )
    address = client.scheduler.address
    info = client.scheduler_info()["workers"].values()
    workers, threads = len(info), sum(w.get("nthreads", 1) for w in info)
    loaded = f", {', '.join(args.preload)} loaded on each" if args.preload else ""
    print(
        f"simwidgets cluster: {workers} worker(s), {threads} thread(s){loaded}, "
        f"ready in {time.perf_counter() - start:.1f} s"
    )
    print(f"scheduler: {address}")
    print(f"score on it: simwidgets score INPUT -o OUT ... --scheduler {address}; Ctrl-C stops it", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        client.close()
        cluster.close()


def cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(args.dir, port=args.port, no_browser=args.no_browser)


def cmd_models(args) -> int:
    from .models import KNOWN_SPECS

    for spec, text in KNOWN_SPECS.items():
        print(f"{spec:<18} {text}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .batch.inputs import MAX_RECORD_BYTES

    parser = argparse.ArgumentParser(
        prog="simwidgets",
        description="Compare text-embedding models for semantic similarity.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser(
        "similarity",
        help="cosine similarity of texts under one or more models",
        description="Score the first text against each of the others.",
    )
    p.add_argument("texts", nargs="+", metavar="TEXT")
    p.add_argument("-m", "--model", action="append", help=_models_help())
    p.set_defaults(func=cmd_similarity)

    p = sub.add_parser(
        "neighbours",
        aliases=["neighbors"],
        help="nearest vocabulary tokens of a word",
        description="Nearest tokens of the model's vocabulary, by cosine, exact search.",
    )
    p.add_argument("query", metavar="WORD")
    p.add_argument("-m", "--model", action="append", help=_models_help() + " (default glove-50d)")
    p.add_argument("-k", type=int, default=10, help="number of neighbours (default 10)")
    p.set_defaults(func=cmd_neighbours)

    p = sub.add_parser(
        "evaluate",
        help="metrics of models on a labelled pairs file",
        description="Spearman/Pearson (graded) or ROC-AUC etc. (binary) per model. "
        "With --standard: WS-353, SimLex-999 and STS-B dev from a data "
        "folder (default: $SIMWIDGETS_DATA, else the open sets shipped with simwidgets).",
    )
    p.add_argument("file", nargs="?", metavar="FILE", help="pairs file (or, with --standard, the data folder)")
    p.add_argument(
        "--format", choices=["wordsim", "stsb", "mrpc", "sick"], help="file format (guessed from its first line, name)"
    )
    p.add_argument("--left", help="your own file: column of the first text (with --right and --label)")
    p.add_argument("--right", help="your own file: column of the second text")
    p.add_argument("--label", help="your own file: column of the human label (0/1, or graded)")
    p.add_argument("--sep", help="your own CSV file's separator (default: tab for .tsv, else comma)")
    p.add_argument("--standard", action="store_true", help="run the standard benchmarks")
    p.add_argument(
        "--sts-dir",
        metavar="DIR",
        help="SemEval STS 2012-2016 test files (YEAR/NAME.test.tsv or YEAR.NAME.test.tsv) and SICK*.txt "
        "in DIR: each set's Spearman, pooled over its pairs as MTEB reports them",
    )
    p.add_argument("-m", "--model", action="append", help=_models_help())
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for intervals (0: none)")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser(
        "score",
        help="score a CSV/Parquet file of pairs on Dask",
        description="Score every (left, right) pair of a CSV or Parquet input (file, folder or glob) "
        "with each model, on a local Dask cluster or an existing one, into a folder of Parquet "
        "parts. Rerun the same command to resume an interrupted job.",
    )
    p.add_argument("input", metavar="INPUT")
    p.add_argument("-o", "--output", required=True, help="output folder (Parquet parts)")
    p.add_argument("--left", required=True, help="column of the first text")
    p.add_argument("--right", required=True, help="column of the second text")
    p.add_argument("-m", "--model", action="append", help=_models_help())
    p.add_argument("--scheduler", help="address of an existing Dask scheduler (default: a local cluster)")
    _worker_options(p)
    p.add_argument(
        "--blocksize", type=int, default=None, help="CSV bytes per partition (default: input size / 32, 1-16 MB)"
    )
    p.add_argument("--device", help="cpu or cuda (default: cuda when present)")
    p.add_argument("--sep", help="CSV field separator (default: tab for .tsv files, else comma)")
    p.add_argument(
        "--on-bad-rows",
        choices=["keep", "fail"],
        default="keep",
        help="a row with a field too many or too few: keep it unscored with its reason (default), or stop",
    )
    p.add_argument(
        "--text-column",
        action="append",
        default=[],
        metavar="COL",
        help="keep this CSV column as text although it looks numeric (repeatable); other columns keep "
        "the types inferred on the first block",
    )
    p.add_argument("--ensemble", metavar="PATH", help="add a saved stacked model's prediction (score_ensemble)")
    p.add_argument(
        "--calibrate", metavar="PATH", help="a calibrators file (save_calibrators): adds prob_<model> columns"
    )
    p.add_argument(
        "--cascade",
        metavar="PATH",
        help="a cascade file (choose_cascade(...).save): its expensive model scores only the pairs whose cheap "
        "score is in the band; adds keep_cascade",
    )
    p.add_argument(
        "--max-record-bytes",
        type=int,
        default=MAX_RECORD_BYTES,
        metavar="N",
        help=f"longest record a compressed input may hold (default {MAX_RECORD_BYTES:,}); a longer one stops the job",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser(
        "threshold",
        help="what thresholds keep and lose on a scored, labelled file",
        description="Per threshold (keep score >= t): kept and removed counts and, with labels, precision, "
        "recall, F1 and the good pairs lost. FILE: CSV, TSV, Parquet, or the output folder of 'score'.",
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("--score", required=True, help="column of scores (e.g. score_minilm)")
    p.add_argument("--label", help="column of human labels (0/1, or graded with --good)")
    p.add_argument("-t", "--threshold", type=float, action="append", help="a threshold, repeatable (default 0.5)")
    p.add_argument("--good", type=float, help="graded labels: labels >= this are good pairs")
    p.add_argument("--sep", help="CSV separator (default: tab for .tsv, else comma)")
    p.add_argument(
        "--partial",
        action="store_true",
        help="read the output folder of an unfinished 'score' job as it is (by default it is refused)",
    )
    p.set_defaults(func=cmd_threshold)

    p = sub.add_parser(
        "audit",
        help="what thresholds keep and lose on every row of a scored log, from an audit sample's labels",
        description="With --draw N: draw N rows of the scored log to label, stratified by score band, into "
        "LABELS (a CSV). Without: estimate, for each threshold, the kept count (exact) and the precision, "
        "recall, F1 and good pairs lost on the whole log, with intervals, from LABELS' 'label' column.",
    )
    p.add_argument("scored", metavar="SCORED", help="the output folder of 'score' (or a Parquet file)")
    p.add_argument("--score", required=True, help="the score column (e.g. score_minilm)")
    p.add_argument("--labels", required=True, metavar="CSV", help="the audit sample (written by --draw)")
    p.add_argument("--draw", type=int, metavar="N", help="draw N rows to label into --labels")
    p.add_argument("--band", type=float, action="append", help="a score band edge for the draw (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="the draw's seed")
    p.add_argument("-t", "--threshold", type=float, action="append", help="a threshold, repeatable (default 0.5)")
    p.add_argument("--good", type=float, help="a label at or above it is a good pair (default: middle of the labels)")
    p.add_argument("--scheduler", help="address of a Dask scheduler: each pass over the log runs a task per part there")
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser(
        "demo",
        help="start JupyterLab on a copy of the example notebooks",
        description="Copy the example notebooks into a folder (files already there are kept) and start "
        "JupyterLab there, opening quickstart.ipynb.",
    )
    p.add_argument("--dir", default="simwidgets-demo", help="folder for the notebooks (default ./simwidgets-demo)")
    p.add_argument("--port", type=int, help="port for JupyterLab (default: its own choice)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "cluster",
        help="start a local Dask cluster that score jobs reuse (--scheduler), models kept loaded",
        description="Start a local Dask cluster (its worker is threads of this process; one worker process "
        "per GPU when several are used, or per core with --processes), load --preload models on every "
        "worker, print the scheduler address and wait until Ctrl-C. "
        "Jobs run on it with `simwidgets score ... --scheduler ADDRESS` skip the workers' start-up "
        "and model loads.",
    )
    p.add_argument("--device", help="cuda: score on the GPU(s); default: the CPU")
    _worker_options(p)
    p.add_argument("--port", type=int, default=8786, help="scheduler port (default 8786; 0: any free port)")
    p.add_argument("--preload", action="append", metavar="MODEL", help="model spec to load on every worker")
    p.set_defaults(func=cmd_cluster)

    p = sub.add_parser("models", help="list the model specs")
    p.set_defaults(func=cmd_models)
    return parser


def _interruptible() -> None:
    """Ctrl-C (SIGINT) stops a scoring job with its one-line message even when the process was
    started with SIGINT ignored (as a parent may leave it), where Python would not raise
    KeyboardInterrupt at all."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in ("score", "cluster"):
        _interruptible()
    try:
        return args.func(args)
    except KeyboardInterrupt:
        if args.command == "cluster":
            print("\nsimwidgets cluster: stopped", file=sys.stderr)
            return 0
        if args.command == "score":
            print(
                "\nsimwidgets score: interrupted; finished parts are kept: run the same command again to resume",
                file=sys.stderr,
            )
        else:
            print(f"\nsimwidgets {args.command}: interrupted", file=sys.stderr)
        return 130
    except USAGE_ERRORS as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"simwidgets {args.command}: error: {message}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.errno not in NO_ROOM:
            raise
        where = f" writing {exc.filename}" if exc.filename else ""
        resume = "; finished parts are kept: run the same command again to resume" if args.command == "score" else ""
        print(f"simwidgets {args.command}: error: no room left{where} ({exc.strerror}): free some space{resume}",
              file=sys.stderr)  # fmt: skip
        return 1


if __name__ == "__main__":
    sys.exit(main())
