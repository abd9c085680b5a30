"""The original AlexNet of Krizhevsky et al. (2012), the network of Table 5, as a torch model."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

__all__ = ["original_alexnet"]


def original_alexnet(seed: int) -> nn.Module:
    """Krizhevsky et al. (2012) AlexNet as analysed in Table 5, randomly initialised.

    Input 3x227x227. conv1 96x3x11x11 stride 4; conv2 256 5x5 pad 2 groups 2; conv3 384
    3x3 pad 1; conv4 384 3x3 pad 1 groups 2; conv5 256 3x3 pad 1 groups 2 (the two-GPU
    split as groups); ReLU, local response normalisation after conv1 and conv2, 3x3 stride 2
    max-pooling after conv1, conv2 and conv5; FC 9216 -> 4096 -> 4096 -> 1000 with dropout.
    Weights ~ N(0, 0.01^2) and biases 1 in conv2, conv4, conv5 and the FC layers, 0
    elsewhere, as in the original paper, drawn from a generator seeded with seed (the
    global RNG is untouched). Trained weights are not available offline.
    """

    pool = {"kernel_size": 3, "stride": 2}
    lrn = {"size": 5, "alpha": 1e-4, "beta": 0.75, "k": 2.0}
    model = nn.Sequential(
        OrderedDict(
            [
                ("conv1", nn.Conv2d(3, 96, 11, stride=4)),
                ("relu1", nn.ReLU(inplace=True)),
                ("norm1", nn.LocalResponseNorm(**lrn)),
                ("pool1", nn.MaxPool2d(**pool)),
                ("conv2", nn.Conv2d(96, 256, 5, padding=2, groups=2)),
                ("relu2", nn.ReLU(inplace=True)),
                ("norm2", nn.LocalResponseNorm(**lrn)),
                ("pool2", nn.MaxPool2d(**pool)),
                ("conv3", nn.Conv2d(256, 384, 3, padding=1)),
                ("relu3", nn.ReLU(inplace=True)),
                ("conv4", nn.Conv2d(384, 384, 3, padding=1, groups=2)),
                ("relu4", nn.ReLU(inplace=True)),
                ("conv5", nn.Conv2d(384, 256, 3, padding=1, groups=2)),
                ("relu5", nn.ReLU(inplace=True)),
                ("pool5", nn.MaxPool2d(**pool)),
                ("flatten", nn.Flatten()),
                ("drop6", nn.Dropout(0.5)),
                ("fc6", nn.Linear(256 * 6 * 6, 4096)),
                ("relu6", nn.ReLU(inplace=True)),
                ("drop7", nn.Dropout(0.5)),
                ("fc7", nn.Linear(4096, 4096)),
                ("relu7", nn.ReLU(inplace=True)),
                ("fc8", nn.Linear(4096, 1000)),
            ]
        )
    )
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, layer in model.named_children():
            if isinstance(layer, nn.Conv2d | nn.Linear):
                layer.weight.normal_(0.0, 0.01, generator=generator)
                layer.bias.fill_(0.0 if name in ("conv1", "conv3") else 1.0)
    return model.eval()
