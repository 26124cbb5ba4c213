"""Loading model weights from another run: ``init_from`` (ReActNet's step 2 starts from step 1)
and the distillation teacher.

Unlike ``ckpt_path`` (which resumes a run: optimizer, epoch, RNG states), these load only the
network's tensors, and they load them strictly: every parameter and buffer of the model
(quantizers' activation ranges included) must be in the file with the same shape, and the file
must hold nothing else. A silent partial load would train from a half-random model without a
word, so any mismatch is a ``ConfigError`` naming the first offending keys.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .errors import ConfigError

LIGHTNING_PREFIX = "net."   # CIMClassifier keeps the model as ``self.net``
SHOWN_KEYS = 3
ALLOWED = "a .ckpt of this project, a plain state_dict file, or a run folder with checkpoints/last.ckpt"


def resolve_checkpoint(key: str, value: str) -> Path:
    """The file ``value`` names: a file as is; a run folder → its ``checkpoints/last.ckpt``
    (the end of that run's training, which is what ReActNet's step 2 starts from)."""
    path = Path(str(value)).expanduser()
    if path.is_dir():
        path = path / "checkpoints" / "last.ckpt"
    if not path.is_file():
        raise ConfigError(key, str(value), ALLOWED, hint=f"{path} does not exist.")
    return path


def read_state_dict(key: str, path: Path) -> dict[str, torch.Tensor]:
    """The model's tensors in ``path``: a Lightning checkpoint's ``state_dict`` with the ``net.``
    prefix removed, or a plain ``{name: tensor}`` file saved with ``torch.save``."""
    try:
        # Our checkpoints hold only tensors and plain types (see RNGStateCallback).
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise ConfigError(key, str(path), ALLOWED,
                          hint=f"Reading it failed: {type(err).__name__}: {err}".split("\n")[0])
    if isinstance(blob, Mapping) and "state_dict" in blob:
        state = blob["state_dict"]
        if not any(k.startswith(LIGHTNING_PREFIX) for k in state):
            raise ConfigError(key, str(path), ALLOWED,
                              hint=f"Its state_dict has no '{LIGHTNING_PREFIX}*' model tensors.")
        # Anything outside ``net.`` (e.g. metrics' states) is not part of the model.
        return {k[len(LIGHTNING_PREFIX):]: v for k, v in state.items()
                if k.startswith(LIGHTNING_PREFIX)}
    if isinstance(blob, Mapping) and blob and all(torch.is_tensor(v) for v in blob.values()):
        return dict(blob)
    raise ConfigError(key, str(path), ALLOWED, hint="It holds no state_dict of a model.")


def state_dict_mismatch(model: nn.Module, state: Mapping[str, Any]) -> list[str]:
    """Human-readable differences between ``model``'s tensors and ``state`` (empty: they match)."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [f"{k} {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
              for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    problems = []
    for label, keys in (("missing", missing), ("unexpected", unexpected), ("shape", shapes)):
        if keys:
            more = f" and {len(keys) - SHOWN_KEYS} more" if len(keys) > SHOWN_KEYS else ""
            problems.append(f"{len(keys)} {label}: {', '.join(keys[:SHOWN_KEYS])}{more}")
    return problems


def load_weights_strict(model: nn.Module, key: str, value: str) -> Path:
    """Copy the tensors of the checkpoint ``value`` into ``model``; all or nothing."""
    path = resolve_checkpoint(key, value)
    state = read_state_dict(key, path)
    problems = state_dict_mismatch(model, state)
    if problems:
        raise ConfigError(key, str(value), "a checkpoint of exactly this model and quantization",
                          hint="Tensors differ: " + "; ".join(problems) + ".")
    model.load_state_dict(state, strict=True)
    return path
