"""Where a model comes from: a local folder or a hub name, checked before anything loads, and
the loading of one kept quiet. Public because the trainers load their bases the same way."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path


def looks_like_path(path_or_name: str) -> bool:
    """Whether a model source names a local path rather than a model of the Hugging Face hub."""
    return path_or_name.startswith((".", "/", "~")) or Path(path_or_name).suffix != ""


def check_source(path_or_name: str, family: str) -> str:
    """Refuse early, with a clear message, a path that does not exist.

    Hub names (``org/model``) are passed through: they load when cached locally or online.
    """
    path_or_name = str(path_or_name)
    path = Path(path_or_name).expanduser()
    if looks_like_path(path_or_name) and not path.exists():
        raise FileNotFoundError(f"{family} model folder not found: {path}")
    return str(path) if path.exists() else path_or_name


@contextmanager
def quiet_loading():
    """Hide transformers' per-load "Loading weights" bar and load reports (one model load is
    not long work, and a new head's "newly initialized" weights are what training starts from)."""
    import logging

    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    level = hf_logging.get_verbosity()
    st_logger = logging.getLogger("sentence_transformers")
    st_level = st_logger.level
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    st_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        st_logger.setLevel(st_level)
        if was_enabled:
            hf_logging.enable_progress_bar()
