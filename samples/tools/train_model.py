#!/usr/bin/python3
"""Trains StreetNet on the sample's train split, reports known-class pixel accuracy on val, exports ONNX.

Run from the repository root with Debian's python3 (torch 1.13, CPU):
    /usr/bin/python3 samples/tools/train_model.py
Writes samples/street/model.onnx (input "image" [N, 3, H, W] float32, output "logits" [N, 13, H, W]) and
prints the accuracy. Deterministic on one machine: fixed seeds and one thread order (torch.manual_seed).
"""
import argparse
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from streetnet import ANOMALY, IGNORE, NUM_CLASSES, StreetNet, load_split, normalise

HERE = os.path.dirname(os.path.abspath(__file__))


def to_tensors(items):
    images = torch.stack([normalise(image) for _, image, _ in items])
    labels = torch.stack([torch.from_numpy(label.astype(np.int64)) for _, _, label in items])
    return images, labels


def known_pixel_accuracy(model, images, labels):
    """Returns the fraction of known-class pixels (0..12) whose arg-max logit is their label. Void and anomaly pixels are left out."""
    model.eval()
    with torch.no_grad():
        predicted = torch.cat([model(images[i:i + 8]).argmax(1) for i in range(0, len(images), 8)])
    known = (labels != IGNORE) & (labels != ANOMALY)
    return (predicted[known] == labels[known]).double().mean().item()


def augment(images, labels, generator):
    """Random horizontal flips and a mild brightness change (not enough to cover test-shifted's darkness)."""
    flip = torch.rand(len(images), generator=generator) < 0.5
    images = torch.where(flip.view(-1, 1, 1, 1), images.flip(-1), images)
    labels = torch.where(flip.view(-1, 1, 1), labels.flip(-1), labels)
    gain = 1 + (torch.rand(len(images), 1, 1, 1, generator=generator) - 0.5) * 0.2
    return images * gain, labels


def train(model, images, labels, epochs, batch_size):
    generator = torch.Generator().manual_seed(0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=4e-3, weight_decay=1e-4)
    steps = epochs * ((len(images) + batch_size - 1) // batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=4e-3, total_steps=steps, pct_start=0.15)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(images), generator=generator)
        total = 0.0
        for start in range(0, len(images), batch_size):
            index = order[start:start + batch_size]
            x, y = augment(images[index], labels[index], generator)
            loss = F.cross_entropy(model(x), y, ignore_index=IGNORE)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item() * len(index)
        if epoch % 5 == 4 or epoch == epochs - 1:
            print(f'epoch {epoch + 1:3d}  loss {total / len(images):.4f}', flush=True)


def export(model, path):
    model.eval()
    dummy = torch.zeros(1, 3, 128, 256)
    torch.onnx.export(model, dummy, path, input_names=['image'], output_names=['logits'], opset_version=17,
                      dynamic_axes={'image': {0: 'batch', 2: 'height', 3: 'width'}, 'logits': {0: 'batch', 2: 'height', 3: 'width'}},
                      do_constant_folding=True)


def main():
    parser = argparse.ArgumentParser(description='Train the HEAT Lens sample model.')
    parser.add_argument('--data', default=os.path.join(HERE, '..', 'street'))
    parser.add_argument('--out', default=os.path.join(HERE, '..', 'street', 'model.onnx'))
    parser.add_argument('--weights', default='', help='also save the PyTorch state dict here (make_golden.py does not need it)')
    parser.add_argument('--epochs', type=int, default=40)
    parser.add_argument('--batch-size', type=int, default=8)
    args = parser.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(2)
    train_images, train_labels = to_tensors(load_split(args.data, 'train'))
    val_images, val_labels = to_tensors(load_split(args.data, 'val'))
    assert not (train_labels == ANOMALY).any(), 'the train split must not contain anomaly pixels'

    model = StreetNet(NUM_CLASSES)
    print(f'parameters: {sum(p.numel() for p in model.parameters())}')
    started = time.time()
    train(model, train_images, train_labels, args.epochs, args.batch_size)
    print(f'training took {time.time() - started:.0f} s')

    print(f'known-class pixel accuracy: train {known_pixel_accuracy(model, train_images, train_labels):.4f}, '
          f'val {known_pixel_accuracy(model, val_images, val_labels):.4f}')
    if args.weights:
        torch.save(model.state_dict(), args.weights)
    export(model, args.out)
    print(f'wrote {args.out} ({os.path.getsize(args.out)} bytes)')


if __name__ == '__main__':
    main()
