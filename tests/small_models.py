"""Small real networks in torch, flax nnx and keras 3, built from a seed: a conv stem
(grouped or depthwise), norms, an embedding, a recurrent cell, dense layers. Shared by the
suite and benchmarks/model_calibration.py."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "jax")


def torch_model(seed: int):
    import torch
    from torch import nn

    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 32, 3), nn.BatchNorm2d(32), nn.ReLU(), nn.Conv2d(32, 64, 3, groups=2),
        nn.LayerNorm(10), nn.Flatten(), nn.Linear(64, 256), nn.Linear(256, 10),
        nn.Embedding(500, 64), nn.LSTM(32, 48),
    )


def flax_model(seed: int):
    from flax import nnx

    class Net(nnx.Module):
        def __init__(self, rngs):
            self.conv = nnx.Conv(3, 32, (3, 3), rngs=rngs)
            self.norm = nnx.LayerNorm(32, rngs=rngs)
            self.embed = nnx.Embed(500, 64, rngs=rngs)
            self.fc1 = nnx.Linear(64, 256, rngs=rngs)
            self.fc2 = nnx.Linear(256, 10, rngs=rngs)
            self.cell = nnx.GRUCell(32, 48, rngs=rngs)

    return Net(nnx.Rngs(seed))


def keras_model(seed: int):
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((16, 16, 3)), keras.layers.Conv2D(32, 3), keras.layers.BatchNormalization(),
        keras.layers.DepthwiseConv2D(3), keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(256), keras.layers.LayerNormalization(), keras.layers.Dense(10),
    ])
    return model


BUILDERS = {"torch": torch_model, "flax": flax_model, "keras": keras_model}
