"""iic_tutorial: Invariant Information Clustering (Ji, Henriques & Vedaldi, 2019) on MNIST.

The importable companion of the iic-tutorial Jupyter Book. Submodules, one concept each:
information (entropy, joint distribution, mutual information), losses (the IIC loss),
augment, model, data, train, metrics, plots, widgets, pretrained.
"""

import os as _os

# TensorFlow's C++ start-up chatter (CUDA probing, oneDNN notices) is noise for readers;
# only set it if the user has not chosen a level, and only before TensorFlow is imported.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
