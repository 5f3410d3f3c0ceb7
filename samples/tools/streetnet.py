"""StreetNet: the small ResNet-style segmentation network of the HEAT Lens sample, and its data loading.

Shared by train_model.py (training and ONNX export) and make_golden.py (reference values).

Layout (input H x W, both multiples of 8):
  stem    conv 3x3 stride 2                       -> 24 ch, H/2
  layer1  residual block, stride 2                -> 32 ch, H/4
  layer2  residual block, stride 2                -> 48 ch, H/8
  layer3  two residual blocks                     -> 64 ch, H/8   (the HEAT feature layer, D = 64)
  layer4  residual block, dilation 2              -> 96 ch, H/8
  head    1x1 conv on layer4, upsampled to H/4, joined with layer1, 3x3 conv, 1x1 conv to 13 classes,
          bilinear upsampling to H x W (align_corners=False): pre-softmax logits [N, 13, H, W].
"""
import glob
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

NUM_CLASSES = 13
IGNORE = 255
ANOMALY = 13
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
CLASS_NAMES = ['unlabelled', 'building', 'fence', 'other', 'pedestrian', 'pole', 'road line', 'road',
               'sidewalk', 'vegetation', 'car', 'wall', 'traffic sign']


class Block(nn.Module):
    """Basic residual block: two 3x3 convolutions with batch norm, a projected shortcut when the shape changes."""

    def __init__(self, cin, cout, stride=1, dilation=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.shortcut is None else self.shortcut(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class StreetNet(nn.Module):
    def __init__(self, num_classes=NUM_CLASSES):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 24, 3, 2, 1, bias=False), nn.BatchNorm2d(24), nn.ReLU(inplace=True))
        self.layer1 = nn.Sequential(Block(24, 32, stride=2))
        self.layer2 = nn.Sequential(Block(32, 48, stride=2))
        self.layer3 = nn.Sequential(Block(48, 64), Block(64, 64))
        self.layer4 = nn.Sequential(Block(64, 96, dilation=2))
        self.reduce = nn.Sequential(nn.Conv2d(96, 48, 1, bias=False), nn.BatchNorm2d(48), nn.ReLU(inplace=True))
        self.skip = nn.Sequential(nn.Conv2d(32, 16, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True))
        self.fuse = nn.Sequential(nn.Conv2d(64, 48, 3, padding=1, bias=False), nn.BatchNorm2d(48), nn.ReLU(inplace=True))
        self.classifier = nn.Conv2d(48, num_classes, 1)

    def forward(self, x, return_features=False):
        size = x.shape[-2:]
        x = self.stem(x)
        f1 = self.layer1(x)
        f3 = self.layer3(self.layer2(f1))
        f4 = self.layer4(f3)
        y = F.interpolate(self.reduce(f4), size=f1.shape[-2:], mode='bilinear', align_corners=False)
        y = self.fuse(torch.cat([y, self.skip(f1)], dim=1))
        logits = F.interpolate(self.classifier(y), size=size, mode='bilinear', align_corners=False)
        return (logits, f3) if return_features else logits


def normalise(rgb_uint8):
    """(H, W, 3) uint8 RGB -> [3, H, W] float32: (pixel / 255 - mean) / std, the preprocessing in settings.json."""
    x = torch.from_numpy(np.asarray(rgb_uint8, np.float32) / 255.0).permute(2, 0, 1)
    mean = torch.tensor(MEAN, dtype=torch.float32).view(3, 1, 1)
    std = torch.tensor(STD, dtype=torch.float32).view(3, 1, 1)
    return (x - mean) / std


def load_split(root, split):
    """Loads every (stem, image uint8 [H, W, 3], label uint8 [H, W]) of a split, sorted by file name."""
    items = []
    for path in sorted(glob.glob(os.path.join(root, split, 'images', '*.png'))):
        stem = os.path.splitext(os.path.basename(path))[0]
        image = np.asarray(Image.open(path).convert('RGB'))
        label = np.asarray(Image.open(os.path.join(root, split, 'labels', stem + '.png')))
        items.append((stem, image, label))
    return items
