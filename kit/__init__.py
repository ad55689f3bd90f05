"""Kaggle competition kit for image classification."""

import os

from kit.console import quiet

# TensorFlow's C++ start-up chatter (CUDA probing, absl's notices) hides the kit's own output
quiet.install()
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# TensorFlow's oneDNN CPU kernels, which it turns on by itself only on CPUs with AVX-512: on a
# 2-core AVX2 machine they train the Fashion-MNIST recipe about 1.4x as fast as its default Eigen
# kernels, on 40% less CPU time (bench/HISTORY.md). Read once, when TensorFlow loads; a user's
# own setting (0 turns them off) wins, and runs record it (provenance.environment).
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
