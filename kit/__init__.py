"""Kaggle competition kit for image classification."""

import os

from kit.console import quiet

# TensorFlow's C++ start-up chatter (CUDA probing, absl's notices) hides the kit's own output
quiet.install()
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
