"""Res3D (Tran et al., "ConvNet Architecture Search for Spatiotemporal Feature Learning"): a 3D ResNet with
basic blocks, as used by SLAC (paper section 4.1: Res3D-34, 32 input frames).

    conv1   3x7x7, 64, stride (1, 2, 2)          T   x H/2  x W/2
    conv2_x [3x3x3, 64]  x 2  x {2 | 3} blocks    T   x H/2  x W/2
    conv3_x [3x3x3, 128] x 2  x {2 | 4}, stride 2 T/2 x H/4  x W/4
    conv4_x [3x3x3, 256] x 2  x {2 | 6}, stride 2 T/4 x H/8  x W/8
    conv5_x [3x3x3, 512] x 2  x {2 | 3}, stride 2 T/8 x H/16 x W/16
    global average pool, fully connected (K+1 classes)

for depth 18 | 34.  A 32 x 112 x 112 clip gives a 512 x 4 x 7 x 7 trunk output (the input of the CDC
localization head, paper section 5).  The Res3D-34 trunk has 63.4M parameters (``trunk_parameters``),
the number the paper gives.  ``width`` scales every stage's channels (64 at paper scale; the CPU demo uses
a narrow model), ``in_channels`` is 3 for RGB and 2 for optical flow.
"""

from __future__ import annotations

import torch
import torch.nn as nn

BLOCKS = {10: (1, 1, 1, 1), 18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}


class BasicBlock3D(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv3d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm3d(cout)
        self.conv2 = nn.Conv3d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm3d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv3d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm3d(cout))

    def forward(self, x):
        idt = x if self.down is None else self.down(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + idt)


class Res3D(nn.Module):
    """Res3D-{10,18,34}: ``trunk`` (conv1..conv5_x) then pooling and a linear classifier."""

    def __init__(self, num_classes: int, depth: int = 34, width: int = 64, in_channels: int = 3, dropout: float = 0.0):
        super().__init__()
        if depth not in BLOCKS:
            raise ValueError(f"Res3D depth must be one of {sorted(BLOCKS)}, got {depth}")
        self.depth, self.width, self.in_channels = depth, width, in_channels
        chans = [width, 2 * width, 4 * width, 8 * width]
        layers: list[nn.Module] = [
            nn.Sequential(
                nn.Conv3d(in_channels, width, (3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False),
                nn.BatchNorm3d(width),
                nn.ReLU(inplace=True),
            )
        ]
        cin = width
        for i, (c, n) in enumerate(zip(chans, BLOCKS[depth])):
            blocks = [BasicBlock3D(cin, c, stride=1 if i == 0 else 2)] + [BasicBlock3D(c, c) for _ in range(n - 1)]
            layers.append(nn.Sequential(*blocks))
            cin = c
        self.trunk = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(chans[-1], num_classes)
        self.feature_dim = chans[-1]
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        for m in self.modules():  # zero-init the last BN of each block: every block starts as an identity
            if isinstance(m, BasicBlock3D):
                nn.init.zeros_(m.bn2.weight)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, T, H, W) -> trunk output (N, 8*width, T/8, H/16, W/16)."""
        return self.trunk(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(x).mean((2, 3, 4))
        return self.fc(self.dropout(f))


def trunk_parameters(model: Res3D) -> int:
    return sum(p.numel() for p in model.trunk.parameters())


def replace_head(model: Res3D, num_classes: int) -> Res3D:
    """A new classifier for fine-tuning on another dataset (the trunk is kept)."""
    model.fc = nn.Linear(model.feature_dim, num_classes)
    return model


def load_trunk(model: Res3D, checkpoint_state: dict) -> list[str]:
    """Load the trunk of a pre-trained Res3D (e.g. SLAC) into model; returns the keys not loaded (the head)."""
    own = model.state_dict()
    take = {
        k: v for k, v in checkpoint_state.items() if k.startswith("trunk.") and k in own and own[k].shape == v.shape
    }
    missing_trunk = [k for k in own if k.startswith("trunk.") and k not in take]
    if missing_trunk:
        raise ValueError(
            f"checkpoint does not match this Res3D trunk (e.g. {missing_trunk[:3]}); depth/width/in_channels differ?"
        )
    model.load_state_dict({**own, **take})
    return [k for k in own if k not in take]
