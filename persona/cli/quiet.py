"""Keep third-party libraries off the terminal unless --verbose: their warnings, log lines and progress
bars ("Loading weights" while the embedding model is exported, ONNX Runtime's quantization advice) say
nothing a user of the twin can act on, and they break up a command's own output."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

# Read by each library when it is first imported, which happens inside a command (the CLI imports lazily).
QUIET_ENV = {
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # huggingface_hub's bars, and transformers' ("Loading weights")
    "HF_HUB_VERBOSITY": "error",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "TQDM_DISABLE": "1",  # any other tqdm bar
}


@contextmanager
def library_output(verbose: bool) -> Iterator[None]:
    """For one command: with `verbose`, libraries print as they like; without, only errors reach stderr.

    Undone on exit, so a process that runs commands in-process (tests) keeps its own logging and warnings.
    """
    if verbose:
        yield
        return
    saved_env = {key: os.environ.get(key) for key in QUIET_ENV}
    root = logging.getLogger()
    saved_level = root.level
    os.environ.update({key: value for key, value in QUIET_ENV.items() if key not in os.environ})
    root.setLevel(logging.ERROR)  # libraries that log to the root logger (onnxruntime.quantization does)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(saved_level)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
