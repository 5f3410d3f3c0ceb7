#!/usr/bin/python3
"""Computes golden values for HEAT Lens with PyTorch and scikit-learn, independently of the TypeScript engine.

Run from the repository root with Debian's python3 (torch 1.13, numpy, scikit-learn, PIL, onnx):
    /usr/bin/python3 samples/tools/make_golden.py
Reads samples/street/model.onnx and the sample's train and test splits, and writes test/fixtures/golden/:
golden.json (manifest, scalars, conventions), *.npy arrays, and images/ (the three input crops and labels).

Every formula below is written out in float64 from the definitions in the project's design notes:
  energy          E = -T * logsumexp(z / T)                                   (higher = more anomalous)
  max softmax     max_c softmax(z)_c, max logit max_c z_c (raw values; the anomaly scores are their negatives)
  Mahalanobis     M = min over classes with statistics of sqrt(max(d2_c, 0)), d2_c = (f - mu_c)^T P (f - mu_c),
                  at feature resolution, then bilinear (align_corners=False) to the logits' size
  spatial KL      KL = sum_c p_c * log((p_c + 1e-8) / (q_c + 1e-8)), q = avgpool_k(p); S = -KL
  spatial var     V = sum_c (avgpool_k(p_c^2) - avgpool_k(p_c)^2); S = -V
  padding         'exclude': the average counts only cells inside the image (count_include_pad=False);
                  'zero': padded zeros count (count_include_pad=True)
  weights         w_E ~ 1/(H + 1e-6), H = -sum_c p_c log(p_c + 1e-8); w_M ~ 1;
                  w_S ~ 1/(avgpool_3(sum_c (p_c - mean_c p)^2) + 1e-6), same padding; divided by their sum
  HEAT            w_E * E + w_M * M + w_S * KL                 (tied covariance, T = 1, k = 3, 'exclude')
  normalized      EMA over the images in order: state = first image's (mean, unbiased std), then
                  state = alpha * state + (1 - alpha) * batch; update first, then (x - mean) / (std + 1e-6)
Statistics: train labels reduced to the 8x8 cells of the feature grid with purity 1.0 (a cell takes class c
only when all its label pixels are c; void 255 and anomaly 13 never count), per-class count, mean and scatter
in float64; tied covariance = sum_c scatter_c / (N - 1); class-wise = scatter_c / (n_c - 1); precision =
inverse of (covariance + 1e-4 * I).
Metrics: sklearn average_precision_score (AUPR), roc_auc_score (AUROC), and FPR95 = the FPR at the first
roc_curve threshold, from high scores down, whose TPR >= 0.95; anomaly is the positive class.
"""
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper
from PIL import Image
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from streetnet import ANOMALY, IGNORE, NUM_CLASSES, StreetNet, load_split, normalise  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SAMPLE = os.path.join(ROOT, 'samples', 'street')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'golden')

CROP_H, CROP_W = 48, 96          # golden inputs are crops, so that the fixtures stay small
CELL = 8                         # feature stride of layer3
TEMPERATURES = (1.0, 2.0)
KERNEL = 3
EPS_KL = 1e-8
EPS_ENTROPY = 1e-8
EPS_WEIGHT = 1e-6
EPS_NORMALIZER = 1e-6
REGULARIZATION = 1e-4
ALPHA = 0.9
CHECKED_CLASSES = (0, 7, 10)     # class-wise covariances (before regularisation) stored for these classes


# ---------------------------------------------------------------- model weights from model.onnx

def model_from_onnx(path):
    """Builds StreetNet with the exported (batch-norm-folded) weights of model.onnx, batch norms as identity.

    The export names each Conv node after its module scope ("/layer3/layer3.0/conv1/Conv"). A scope component
    such as "layer3.0" is the Sequential child "0", so those weights go back to the module "layer3.0.conv1".
    """
    graph = onnx.load(path).graph
    weights = {init.name: torch.from_numpy(numpy_helper.to_array(init).copy()) for init in graph.initializer}
    model = StreetNet(NUM_CLASSES)
    modules = dict(model.named_modules())
    loaded = set()
    for node in graph.node:
        if node.op_type != 'Conv':
            continue
        scopes = node.name.strip('/').split('/')[:-1]
        name = '.'.join(s.split('.')[-1] for s in scopes)
        conv = modules[name]
        conv.weight.data = weights[node.input[1]]
        conv.bias = nn.Parameter(weights[node.input[2]]) if len(node.input) > 2 else None
        loaded.add(name)
    convs = {n for n, m in modules.items() if isinstance(m, nn.Conv2d)}
    assert loaded == convs, f'convolutions without ONNX weights: {sorted(convs - loaded)}'
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.BatchNorm2d):
                setattr(module, child_name, nn.Identity())
    return model.eval()


def forward(model, images_uint8):
    """Returns float32 logits [N, 13, H, W] and layer3 features [N, 64, H/8, W/8]."""
    x = torch.stack([normalise(image) for image in images_uint8])
    with torch.no_grad():
        return model(x, return_features=True)


# ---------------------------------------------------------------- statistics (float64)

def pure_cells(labels):
    """Reduces [N, H, W] labels to [N, H/8, W/8] cell classes with purity 1.0, where -1 marks a mixed cell."""
    n, h, w = labels.shape
    cells = labels.reshape(n, h // CELL, CELL, w // CELL, CELL).transpose(0, 1, 3, 2, 4).reshape(n, h // CELL, w // CELL, CELL * CELL)
    first = cells[..., 0].astype(np.int64)
    pure = (cells == cells[..., :1]).all(-1)
    return np.where(pure, first, -1)


def class_statistics(features, cell_class):
    """Computes the per-class count, mean and scatter over the cells whose class is a known class 0..12."""
    d = features.shape[1]
    flat = features.permute(0, 2, 3, 1).reshape(-1, d).double()
    classes = torch.from_numpy(cell_class.reshape(-1))
    counts = np.zeros(NUM_CLASSES, np.int64)
    means = torch.zeros(NUM_CLASSES, d, dtype=torch.float64)
    scatters = torch.zeros(NUM_CLASSES, d, d, dtype=torch.float64)
    for c in range(NUM_CLASSES):
        x = flat[classes == c]
        counts[c] = len(x)
        if len(x) == 0:
            continue
        means[c] = x.mean(0)
        centred = x - means[c]
        scatters[c] = centred.T @ centred
    return counts, means, scatters


def regularised_inverse(cov):
    return torch.linalg.inv(cov + REGULARIZATION * torch.eye(cov.shape[0], dtype=torch.float64))


def mahalanobis(features, means, precisions, counts):
    """Computes M = min_c sqrt(max(d2_c, 0)) over classes with count > 0 at feature resolution, float64 [N, h, w].

    precisions: one [D, D] matrix (tied) or a list indexed by class (class-wise).
    """
    n, d, h, w = features.shape
    flat = features.permute(0, 2, 3, 1).reshape(-1, d).double()
    best = torch.full((flat.shape[0],), float('inf'), dtype=torch.float64)
    for c in range(NUM_CLASSES):
        if counts[c] == 0:
            continue
        precision = precisions if torch.is_tensor(precisions) else precisions[c]
        diff = flat - means[c]
        d2 = ((diff @ precision) * diff).sum(1)
        best = torch.minimum(best, torch.sqrt(torch.clamp(d2, min=0.0)))
    return best.reshape(n, h, w)


# ---------------------------------------------------------------- score maps (float64)

def avg_pool(x, k, padding):
    return F.avg_pool2d(x, k, stride=1, padding=k // 2, count_include_pad=(padding == 'zero'))


def energy(z, t):
    return -t * torch.logsumexp(z / t, dim=1)


def spatial_kl(p, k, padding):
    q = avg_pool(p, k, padding)
    return (p * torch.log((p + EPS_KL) / (q + EPS_KL))).sum(1)


def spatial_variance(p, k, padding):
    return (avg_pool(p * p, k, padding) - avg_pool(p, k, padding) ** 2).sum(1)


def reliability_weights(p, padding):
    entropy = -(p * torch.log(p + EPS_ENTROPY)).sum(1)
    w_e = 1.0 / (entropy + EPS_WEIGHT)
    w_m = torch.ones_like(w_e)
    deviation = avg_pool((p - p.mean(1, keepdim=True)) ** 2, 3, padding).sum(1)
    w_s = 1.0 / (deviation + EPS_WEIGHT)
    total = w_e + w_m + w_s
    return entropy, torch.stack([w_e / total, w_m / total, w_s / total], 1)


def upsample(m, size):
    return F.interpolate(m[:, None], size=size, mode='bilinear', align_corners=False)[:, 0]


def ema_normalize(maps, alpha):
    """Normalizes each map in order with the EMA of (mean, unbiased std), updated before it is applied."""
    state, out, states = None, [], []
    for m in maps:
        batch = (m.mean().item(), m.std(unbiased=True).item())
        state = batch if state is None else (alpha * state[0] + (1 - alpha) * batch[0], alpha * state[1] + (1 - alpha) * batch[1])
        states.append({'batchMean': batch[0], 'batchStd': batch[1], 'mean': state[0], 'std': state[1]})
        out.append((m - state[0]) / (state[1] + EPS_NORMALIZER))
    return out, states


# ---------------------------------------------------------------- golden inputs

def choose_crops(items, count=3):
    """Picks the first test images with an anomaly, cropped to CROP_H x CROP_W around the anomaly (8-aligned)."""
    crops = []
    for stem, image, label in items:
        ys, xs = np.nonzero(label == ANOMALY)
        if len(ys) < 40:
            continue
        y0 = int(np.clip(round((ys.mean() - CROP_H / 2) / CELL) * CELL, 0, label.shape[0] - CROP_H))
        x0 = int(np.clip(round((xs.mean() - CROP_W / 2) / CELL) * CELL, 0, label.shape[1] - CROP_W))
        crop_label = label[y0:y0 + CROP_H, x0:x0 + CROP_W]
        known = np.unique(crop_label[(crop_label != IGNORE) & (crop_label != ANOMALY)])
        if (crop_label == ANOMALY).sum() < 20 or len(known) < 3:
            continue
        crops.append((stem, y0, x0, image[y0:y0 + CROP_H, x0:x0 + CROP_W], crop_label))
        if len(crops) == count:
            break
    return crops


def metric_sets():
    """Returns fixed score sets for the metric tests: float32-valued scores and uint8 labels (1 = anomaly)."""
    rng = np.random.default_rng(7)
    sets = {}
    known, anomaly = rng.normal(0, 1, 2000), rng.normal(1.5, 1, 100)
    sets['gaussian'] = (np.concatenate([known, anomaly]), np.r_[np.zeros(2000), np.ones(100)])
    # Rounded to one decimal: many ties between known and anomaly scores.
    sets['ties'] = (np.round(sets['gaussian'][0], 1), sets['gaussian'][1])
    # Two 4x4 images pooled: image A known 0 / anomaly 1, image B known 10 / anomaly 11.
    a = np.r_[np.zeros(15), 1.0]
    sets['pooled_two_images'] = (np.r_[a, a + 10], np.r_[np.zeros(15), 1, np.zeros(15), 1])
    # Ten anomaly pixels: TPR moves in steps of 0.1, so FPR95 is taken where TPR first reaches 1.0.
    k10, a10 = rng.normal(0, 1, 300), rng.normal(2, 1, 10)
    sets['ten_anomalies'] = (np.r_[k10, a10], np.r_[np.zeros(300), np.ones(10)])
    # Energies of realistic magnitude (-40..-5), never squashed.
    sets['energies'] = (np.r_[rng.normal(-30, 4, 500), rng.normal(-22, 5, 40)], np.r_[np.zeros(500), np.ones(40)])
    # Rounded to float32 first: the engine's metrics take float32 scores, and both sides must rank the same values.
    return {name: (scores.astype(np.float32).astype(np.float64), labels.astype(np.uint8)) for name, (scores, labels) in sets.items()}


def metrics(scores, labels):
    fpr, tpr, thresholds = roc_curve(labels, scores, drop_intermediate=False)
    first = int(np.argmax(tpr >= 0.95))
    precision, recall, pr_thresholds = precision_recall_curve(labels, scores)
    f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-300)
    best = int(np.argmax(f1))
    return {
        'aupr': float(average_precision_score(labels, scores)),
        'auroc': float(roc_auc_score(labels, scores)),
        'fpr95': float(fpr[first]),
        'fpr95Threshold': float(thresholds[first]),
        'bestF1': float(f1[best]),
        'bestF1Threshold': float(pr_thresholds[best]),
        'positives': int(labels.sum()),
        'negatives': int(len(labels) - labels.sum()),
    }


# ---------------------------------------------------------------- main

class Writer:
    def __init__(self, out):
        self.out = out
        self.arrays = {}

    def save(self, name, array, dtype, description):
        array = np.ascontiguousarray(np.asarray(array, dtype=dtype))
        np.save(os.path.join(self.out, name + '.npy'), array)
        self.arrays[name] = {'file': name + '.npy', 'dtype': str(array.dtype), 'shape': list(array.shape), 'description': description}


def main():
    torch.set_num_threads(2)
    os.makedirs(os.path.join(OUT, 'images'), exist_ok=True)
    model_path = os.path.join(SAMPLE, 'model.onnx')
    model = model_from_onnx(model_path)
    writer = Writer(OUT)

    # Statistics from the full train split, at feature resolution.
    train = load_split(SAMPLE, 'train')
    _, train_features = forward(model, [image for _, image, _ in train])
    cell_class = pure_cells(np.stack([label for _, _, label in train]))
    counts, means, scatters = class_statistics(train_features, cell_class)
    n_total = int(counts.sum())
    tied = scatters.sum(0) / (n_total - 1)
    tied_precision = regularised_inverse(tied)
    classwise = [scatters[c] / (counts[c] - 1) if counts[c] > 1 else None for c in range(NUM_CLASSES)]
    classwise_precision = [regularised_inverse(cov) if cov is not None else None for cov in classwise]
    raw_eigen = torch.linalg.eigvalsh(tied)
    reg_eigen = torch.linalg.eigvalsh(tied + REGULARIZATION * torch.eye(tied.shape[0], dtype=torch.float64))
    writer.save('stats_counts', counts, np.int64, 'pure feature cells per class 0..12 in train')
    writer.save('stats_means', means.numpy(), np.float64, 'class means [13, 64]; zero rows for classes without cells')
    writer.save('stats_tied_covariance', tied.numpy(), np.float64, 'tied covariance before regularisation [64, 64]')
    writer.save('stats_tied_precision', tied_precision.numpy(), np.float64, 'inverse of tied covariance + 1e-4 I')
    writer.save('stats_class_covariances', np.stack([classwise[c].numpy() for c in CHECKED_CLASSES]), np.float64,
                f'class-wise covariances before regularisation of classes {list(CHECKED_CLASSES)} [3, 64, 64]')
    dim = tied.shape[0]
    all_precisions = np.stack([pr.numpy() if pr is not None else np.zeros((dim, dim)) for pr in classwise_precision])
    writer.save('stats_class_precisions', all_precisions, np.float64,
                'inverses of class-wise covariance + 1e-4 I [13, 64, 64]; zero for classes with fewer than 2 cells')

    # Score maps of three test crops.
    crops = choose_crops(load_split(SAMPLE, 'test'))
    logits, features = forward(model, [crop[3] for crop in crops])
    writer.save('logits', logits.numpy(), np.float32, 'pre-softmax logits [3, 13, 48, 96] (PyTorch, float32)')
    writer.save('features', features.numpy(), np.float32, 'layer3 features [3, 64, 6, 12] (PyTorch, float32)')
    writer.save('labels', np.stack([crop[4] for crop in crops]), np.uint8, 'label crops [3, 48, 96]: 0..12 known, 13 anomaly, 255 void')

    z = logits.double()
    p = torch.softmax(z, 1)
    size = z.shape[-2:]
    for t in TEMPERATURES:
        writer.save(f'energy_t{t:g}', energy(z, t).numpy(), np.float32, f'energy E = -T logsumexp(z/T), T = {t:g}')
    writer.save('max_softmax', p.max(1).values.numpy(), np.float32, 'max_c softmax(z)_c (anomaly score is its negative)')
    writer.save('max_logit', z.max(1).values.numpy(), np.float32, 'max_c z_c (anomaly score is its negative)')
    entropy, weights = reliability_weights(p, 'exclude')
    writer.save('entropy', entropy.numpy(), np.float32, 'softmax entropy -sum p log(p + 1e-8)')

    maha_tied_coarse = mahalanobis(features, means, tied_precision, counts)
    # A class with a single cell has no class-wise covariance, so it is left out like an empty class.
    classwise_counts = np.array([counts[c] if classwise_precision[c] is not None else 0 for c in range(NUM_CLASSES)])
    maha_classwise_coarse = mahalanobis(features, means, classwise_precision, classwise_counts)
    writer.save('mahalanobis_tied_coarse', maha_tied_coarse.numpy(), np.float32, 'tied Mahalanobis at feature resolution [3, 6, 12]')
    writer.save('mahalanobis_classwise_coarse', maha_classwise_coarse.numpy(), np.float32, 'class-wise Mahalanobis at feature resolution [3, 6, 12]')
    maha_tied = upsample(maha_tied_coarse, size)
    writer.save('mahalanobis_tied', maha_tied.numpy(), np.float32, 'tied Mahalanobis, bilinear to the logits size')
    writer.save('mahalanobis_classwise', upsample(maha_classwise_coarse, size).numpy(), np.float32, 'class-wise Mahalanobis, bilinear to the logits size')

    for padding in ('exclude', 'zero'):
        writer.save(f'spatial_kl_{padding}', spatial_kl(p, KERNEL, padding).numpy(), np.float32, f'KL(p || avgpool_3(p)), padding {padding} (= -S)')
        writer.save(f'spatial_variance_{padding}', spatial_variance(p, KERNEL, padding).numpy(), np.float32, f'summed 3x3 variance of p, padding {padding} (= -S)')
        writer.save(f'weights_{padding}', reliability_weights(p, padding)[1].numpy(), np.float32, f'reliability weights [3, (E, M, S), 48, 96], padding {padding}')

    heat = weights[:, 0] * energy(z, 1.0) + weights[:, 1] * maha_tied + weights[:, 2] * spatial_kl(p, KERNEL, 'exclude')
    writer.save('heat', heat.numpy(), np.float32, 'HEAT = w_E E + w_M M_tied + w_S KL (T 1, k 3, exclude)')
    normalized, states = ema_normalize(list(heat), ALPHA)
    writer.save('heat_normalized', torch.stack(normalized).numpy(), np.float32, f'adaptive normalization of heat, alpha {ALPHA}, images in order')

    for i, (stem, y0, x0, image, label) in enumerate(crops):
        Image.fromarray(image).save(os.path.join(OUT, 'images', f'golden_{i}.png'))
        Image.fromarray(label).save(os.path.join(OUT, 'images', f'golden_{i}_label.png'))

    metric_results = {}
    for name, (scores, labels) in metric_sets().items():
        writer.save(f'metrics_{name}_scores', scores, np.float32, f'metric set {name}: scores (float32, as the engine takes them)')
        writer.save(f'metrics_{name}_labels', labels, np.uint8, f'metric set {name}: 1 = anomaly')
        metric_results[name] = metrics(scores, labels)

    manifest = {
        'description': 'Golden values computed by samples/tools/make_golden.py with PyTorch and scikit-learn, independently of the TypeScript engine.',
        'model': {'file': 'samples/street/model.onnx', 'featureTensor': '/layer3/layer3.1/relu_1/Relu_output_0', 'mean': [0.485, 0.456, 0.406], 'std': [0.229, 0.224, 0.225], 'scale': 1 / 255},
        'images': [{'file': f'images/golden_{i}.png', 'label': f'images/golden_{i}_label.png', 'source': f'samples/street/test/images/{stem}.png', 'cropTopLeft': [y0, x0], 'cropSize': [CROP_H, CROP_W]}
                   for i, (stem, y0, x0, _, _) in enumerate(crops)],
        'settings': {'temperatures': list(TEMPERATURES), 'kernelSize': KERNEL, 'alpha': ALPHA, 'regularization': REGULARIZATION, 'purity': 1.0,
                     'epsilons': {'kl': EPS_KL, 'entropy': EPS_ENTROPY, 'weight': EPS_WEIGHT, 'normalizer': EPS_NORMALIZER},
                     'heat': {'temperature': 1.0, 'kernelSize': KERNEL, 'padding': 'exclude', 'spatialMethod': 'kl', 'covariance': 'tied'}},
        'statistics': {
            'trainImages': len(train), 'cellSize': CELL, 'dim': int(train_features.shape[1]), 'featureGrid': list(train_features.shape[2:]),
            'counts': counts.tolist(), 'total': n_total, 'checkedClasses': list(CHECKED_CLASSES),
            'classesWithoutCells': [c for c in range(NUM_CLASSES) if counts[c] == 0],
            'tiedSmallestEigenvalue': float(raw_eigen[0]), 'tiedLargestEigenvalue': float(raw_eigen[-1]),
            'tiedRegularisedSmallestEigenvalue': float(reg_eigen[0]),
            'tiedRegularisedConditionNumber': float(reg_eigen[-1] / reg_eigen[0]),
        },
        'normalizer': states,
        'metrics': metric_results,
        'arrays': writer.arrays,
    }
    with open(os.path.join(OUT, 'golden.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')
    total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(OUT) for fn in fns)
    print(f'wrote {len(writer.arrays)} arrays and golden.json to {OUT} ({total} bytes)')
    print('counts', counts.tolist(), 'smallest eigenvalue', float(raw_eigen[0]), 'condition', float(reg_eigen[-1] / reg_eigen[0]))


if __name__ == '__main__':
    main()
