"""IIC for segmentation: the other half of the paper, per-pixel clustering.

- ``losses``: the per-pixel joint over a window of displacements and the IIC
  segmentation loss (collapsed and uncollapsed, mask, warp back), TensorFlow
- ``warp``: the view's affine part (official conventions), its inverse, the mask
- ``scenes``: the toy scenes, MNIST digits over textured backgrounds, with truth per pixel
- ``model``: a small fully convolutional network with per-pixel softmax heads
- ``train``: the train step, the trainer with crash-safe checkpoints, evaluation
- ``cli``: ``python -m iic_tutorial train-seg``
- ``plots``: the chapter's figures

Import the modules you need (``from iic_tutorial.segmentation.losses import
iic_segmentation_loss``); nothing here imports TensorFlow until a module does.
"""
