"""Weight EMA (`train.ema`, the momentum): the optimizer keeps the average (Keras' `use_ema`), and
these two callbacks decide which weights each reader of an epoch sees.

    Keras' validation pass          the averaged weights (SwapEMAWeights' own test-time swap)
    ValidationMetric, CSV log, best checkpoint (best.keras)
                                    the averaged weights: `SwapInAverage` puts them in the model
                                    at epoch end, as the first callback
    the backup, early stopping, the next epoch
                                    the raw weights again: `SwapOutAverage`, placed just before
                                    the backup, swaps them back, so a resumed run continues the
                                    raw weights with their average in the optimizer's state

Without a swap the checkpoint would hold the raw weights and validation would score them, so
`ema` would change nothing a user sees (Keras only writes the average in when `fit` ends).
"""

from __future__ import annotations

import keras


class SwapInAverage(keras.callbacks.SwapEMAWeights):
    """The averaged weights in the model for Keras' validation pass and from each epoch's end."""

    def __init__(self):
        super().__init__(swap_on_epoch=False)

    def on_epoch_end(self, epoch, logs=None):
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def swap_out(self) -> None:
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_train_end(self, logs=None):
        self.swap_out()  # fit's end then writes the average in (finalize_variable_values)


class SwapOutAverage(keras.callbacks.Callback):
    """The raw weights back in the model, before the backup saves them."""

    def __init__(self, swap_in: SwapInAverage):
        super().__init__()
        self.swap_in = swap_in

    def on_epoch_end(self, epoch, logs=None):
        self.swap_in.swap_out()


def callbacks(momentum: float) -> tuple[list, list]:
    """(first callbacks, callbacks to place just before the backup); both empty without EMA."""
    if not momentum:
        return [], []
    swap_in = SwapInAverage()
    return [swap_in], [SwapOutAverage(swap_in)]
