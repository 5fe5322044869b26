"""Where a GPU worker's start-up goes, in a fresh process: imports, CUDA context, model, first texts.

Run on a GPU machine: ``python benchmarks/gpu_startup.py`` (MiniLM from ``SIMWIDGETS_MINILM_DIR``
when set, as in ``tests/test_gpu.py``, else the bundled package). Prints one JSON line of seconds.
"""

from __future__ import annotations

import json
import os
import time


def main() -> None:
    seconds: dict[str, float] = {}
    last = time.perf_counter()

    def mark(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        seconds[name] = round(now - last, 3)
        last = now

    import numpy  # noqa: F401
    import pandas  # noqa: F401

    mark("numpy_pandas")
    import torch

    mark("torch")
    torch.zeros(1, device="cuda")
    torch.cuda.synchronize()
    mark("cuda_context")
    import transformers  # noqa: F401

    mark("transformers")
    from transformers import AutoModel  # noqa: F401  (the model-loading code: the costly part)

    mark("transformers_auto_model")
    import sentence_transformers  # noqa: F401

    mark("sentence_transformers")
    from simwidgets import load_model

    spec = f"st:{os.environ['SIMWIDGETS_MINILM_DIR']}" if os.environ.get("SIMWIDGETS_MINILM_DIR") else "minilm"
    model = load_model(spec, device="cuda")
    mark("load_model")
    model.embed([f"text number {i}" for i in range(2000)], progress=False)
    mark("first_2000_texts")
    print(json.dumps(seconds))


if __name__ == "__main__":
    main()
