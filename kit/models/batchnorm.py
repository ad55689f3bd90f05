"""`BatchNorm`: Keras' BatchNormalization, trained with TensorFlow's fused kernel.

tf.keras normalised a batch in one fused op (FusedBatchNormV3: the batch moments and the
normalisation in one pass, backed by oneDNN on a CPU and cuDNN on a GPU). Keras 3 computes the
moments and the normalisation as separate element-wise ops, each a pass over the activations, and
as many more for their gradients. On TensorFlow this layer runs the fused kernel in training; one
training step of the `air` network on a 2-core CPU took 16% less time (bench/HISTORY.md).
Inference, other backends and the cases the kernel does not cover (masks, renorm, synchronised
statistics, tensors that are not 4-D channels-last, no scale or centre) take Keras' own path,
which gives the same numbers: the fused kernel changes how they are computed, not what.
"""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="kit")
class BatchNorm(keras.layers.BatchNormalization):
    def call(self, inputs, training=None, mask=None):
        if training and self.trainable and mask is None and self._fusable(inputs):
            return self._fused_training_step(inputs)
        return super().call(inputs, training=training, mask=mask)

    def _fusable(self, inputs) -> bool:
        return (
            keras.backend.backend() == "tensorflow"
            and len(inputs.shape) == 4
            and self.axis in (-1, 3)
            and self.center
            and self.scale
            and not getattr(self, "renorm", False)  # newer than Keras 3.13 (Kaggle's image)
            and not self.synchronized
        )

    def _fused_training_step(self, inputs):
        import tensorflow as tf

        outputs, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            inputs, self.gamma, self.beta, epsilon=self.epsilon, data_format="NHWC", is_training=True
        )
        # the kernel returns the unbiased (n-1) variance; Keras' moving statistics use the batch's own
        count = tf.cast(tf.reduce_prod(tf.shape(inputs)[:-1]), variance.dtype)
        variance = variance * (count - 1.0) / tf.maximum(count, 1.0)
        momentum = self.momentum
        self.moving_mean.assign(self.moving_mean * momentum + mean * (1.0 - momentum))
        self.moving_variance.assign(self.moving_variance * momentum + variance * (1.0 - momentum))
        return outputs
