"""IR-Net's temperature schedule for the tanh-shaped weight STE (Eq. 5).

The paper gives no values for α and t. IR-Net raises t from 0.1 to 10 over training,
``t = 10^(-1 + 2e/E)`` at epoch e of E, and scales its gradient ``k·t·(1 - tanh²(t·w))`` by
``k = max(1/t, 1)``; in Eq. 5's form that is ``α = k·t = max(1, t)``. Early epochs get a wide,
flat slope (every weight learns), late epochs a sharp one close to the sign's Dirac delta.
"""
from __future__ import annotations

from ..utils.errors import ConfigError


def irnet_schedule(epoch: int, max_epochs: int) -> tuple[float, float]:
    """(temperature t, scale α) for 0-based ``epoch`` of ``max_epochs``."""
    if max_epochs < 1:
        raise ConfigError("max_epochs", max_epochs, "a positive number of epochs")
    if epoch < 0:
        raise ConfigError("epoch", epoch, "a non-negative epoch index")
    temperature = 10.0 ** (-1.0 + 2.0 * epoch / max_epochs)
    return temperature, max(1.0, temperature)
