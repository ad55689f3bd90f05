"""Kaggle competition kit for image classification."""

import os

# TensorFlow's C++ start-up chatter (oneDNN, CUDA probing) hides the kit's own output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
