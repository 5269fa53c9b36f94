#!/usr/bin/python3
"""PyTorch reference of the patchcore-ts pipeline, for `npm run bench` (bench/speed/side-by-side.ts).

Same steps as ours: WideResNet-50-2 (random weights, seed 0) layer2+layer3, resize 256 / crop 224 /
ImageNet normalisation, AvgPool2d(3,1,1) per layer, layer3 bilinearly upsampled onto layer2's grid
(align_corners=False), concat -> 1536 dims; approximate greedy coreset (projection to 128, 10 random
starts, torch ops per iteration as in the official PatchCore code); exact 1-NN with faiss IndexFlatL2
(torch.cdist fallback); map = bilinear upsample to 224 + Gaussian sigma 4 (scipy, torch fallback);
image score = max patch score.

Run with Debian's interpreter: /usr/bin/python3 bench/speed/reference/patchcore_ref.py --train a.png,... --test ...
or --train-list FILE --test-list FILE (one path per line). Prints one JSON object on stdout.
"""
import argparse
import json
import os
import resource
import sys
import time

# Idle OpenMP threads sleep instead of spinning: on a shared, loaded 2-core machine spinning made the
# coreset loop (thousands of small 2-thread ops) 4-8x slower; set before torch loads its OpenMP runtime.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image
from torchvision import transforms

try:
    import faiss  # type: ignore
except Exception:  # pragma: no cover - fallback path
    faiss = None
try:
    from scipy.ndimage import gaussian_filter  # type: ignore
except Exception:  # pragma: no cover
    gaussian_filter = None


def now() -> float:
    return time.perf_counter()


class Backbone(torch.nn.Module):
    """wide_resnet50_2 truncated after layer3; returns (layer2, layer3)."""

    def __init__(self) -> None:
        super().__init__()
        m = torchvision.models.wide_resnet50_2(weights=None)
        self.stem = torch.nn.Sequential(m.conv1, m.bn1, m.relu, m.maxpool)
        self.layer1, self.layer2, self.layer3 = m.layer1, m.layer2, m.layer3
        del m  # layer4 + fc are never run; drop them so they do not count in RSS

    def forward(self, x):
        x = self.layer1(self.stem(x))
        l2 = self.layer2(x)
        return l2, self.layer3(l2)


TRANSFORM = transforms.Compose([
    transforms.Resize(256),
    transforms.CenterCrop(224),
    transforms.ToTensor(),
    transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
])
POOL = torch.nn.AvgPool2d(3, 1, 1)


def load(path: str) -> torch.Tensor:
    with Image.open(path) as im:
        return TRANSFORM(im.convert('RGB'))


def aggregate(l2: torch.Tensor, l3: torch.Tensor) -> torch.Tensor:
    """[N,512,28,28],[N,1024,14,14] -> [N*28*28, 1536]."""
    a = POOL(l2)
    b = F.interpolate(POOL(l3), size=a.shape[-2:], mode='bilinear', align_corners=False)
    f = torch.cat([a, b], dim=1)
    return f.permute(0, 2, 3, 1).reshape(-1, f.shape[1])


def greedy_coreset(features: torch.Tensor, ratio: float, seed: int) -> torch.Tensor:
    """Approximate greedy coreset as in the official PatchCore code: random bias-free linear projection
    to 128 dims, delta = mean distance to 10 random starts (not added), then per iteration
    c = argmax delta, delta = min(delta, |z - z_c|), torch ops on the N x 128 matrix.
    |z - z_c|^2 uses the official matmul expansion |z|^2 - 2 z.z_c + |z_c|^2, with |z|^2 computed once,
    one addmv into a preallocated buffer, and delta kept squared (same argmax/min): the fewest torch
    ops per iteration, since each small op is a 2-thread fork/join (the official code recomputes |z|^2,
    allocates and takes sqrt every iteration; z - z_c with linalg.norm allocates N x 128 and measured slower)."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    proj = torch.nn.Linear(features.shape[1], 128, bias=False)
    z = proj(features).contiguous()
    n = z.shape[0]
    starts = np.random.choice(n, min(10, n), replace=False).tolist()
    delta = torch.cdist(z, z[starts]).mean(dim=1).contiguous()
    # delta is kept squared (argmax and min are unchanged by squaring): 2 torch ops per iteration
    delta2 = delta * delta
    z2 = (z * z).sum(1)
    z2n = z2.numpy()
    buf = torch.empty(n)
    idx = []
    for _ in range(int(n * ratio)):
        c = int(torch.argmax(delta2).item())
        idx.append(c)
        torch.addmv(z2, z, z[c], alpha=-2, out=buf)  # |z|^2 - 2 z.z_c
        buf.add_(float(z2n[c]))
        torch.minimum(delta2, buf, out=delta2)
    return torch.tensor(idx, dtype=torch.long)


class NN:
    def __init__(self, bank: torch.Tensor) -> None:
        self.bank = bank
        if faiss is not None:
            faiss.omp_set_num_threads(torch.get_num_threads())
            self.index = faiss.IndexFlatL2(bank.shape[1])
            self.index.add(np.ascontiguousarray(bank.numpy(), dtype=np.float32))

    def search(self, q: torch.Tensor) -> torch.Tensor:
        """1-NN Euclidean distance (faiss returns d^2; sqrt for parity with ours, which reports d)."""
        if faiss is not None:
            d2, _ = self.index.search(np.ascontiguousarray(q.numpy(), dtype=np.float32), 1)
            return torch.from_numpy(np.sqrt(np.maximum(d2[:, 0], 0)))
        return torch.cdist(q, self.bank).min(dim=1).values


def gaussian_torch(m: torch.Tensor, sigma: float) -> np.ndarray:
    r = int(4 * sigma + 0.5)
    x = torch.arange(-r, r + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    k = k / k.sum()
    t = F.pad(m[None, None], (r, r, r, r), mode='reflect')
    t = F.conv2d(t, k.reshape(1, 1, 1, -1))
    t = F.conv2d(t, k.reshape(1, 1, -1, 1))
    return t[0, 0].numpy()


def anomaly_map(scores: torch.Tensor, grid: int, size: int = 224, sigma: float = 4.0) -> np.ndarray:
    up = F.interpolate(scores.reshape(1, 1, grid, grid), size=(size, size), mode='bilinear', align_corners=False)[0, 0]
    if gaussian_filter is not None:
        return gaussian_filter(up.numpy(), sigma=sigma)  # reflect mode, truncate 4 (official)
    return gaussian_torch(up, sigma)


def pct(xs, p):
    return float(np.percentile(np.asarray(xs), p)) if xs else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--train', default='')
    ap.add_argument('--test', default='')
    ap.add_argument('--train-list', default='')
    ap.add_argument('--test-list', default='')
    ap.add_argument('--ratio', type=float, default=0.1)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--warmup', type=int, default=1, help='untimed predicts before the timed ones')
    a = ap.parse_args()

    def files(inline: str, listfile: str):
        if listfile:
            with open(listfile) as fh:
                return [l.strip() for l in fh if l.strip()]
        return [f for f in inline.split(',') if f]

    train, test = files(a.train, a.train_list), files(a.test, a.test_list)
    if not train or not test:
        sys.exit('need --train/--train-list and --test/--test-list')

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    t = now()
    model = Backbone().eval()
    init_s = now() - t

    with torch.no_grad():
        # ---- fit
        t_fit = now()
        feats = []
        for i in range(0, len(train), a.batch):
            x = torch.stack([load(f) for f in train[i:i + a.batch]])
            l2, l3 = model(x)
            feats.append(aggregate(l2, l3))
        features = torch.cat(feats)
        del feats
        grid = int(round((features.shape[0] / len(train)) ** 0.5))
        t_feat = now() - t_fit

        t = now()
        idx = greedy_coreset(features, a.ratio, a.seed)
        bank = features[idx].contiguous()
        t_coreset = now() - t
        del features

        t = now()
        nn = NN(bank)
        t_index = now() - t
        fit_s = now() - t_fit

        # ---- predict, one image at a time
        def predict(path):
            t0 = now()
            x = load(path)[None]
            t1 = now()
            l2, l3 = model(x)
            f = aggregate(l2, l3)
            t2 = now()
            s = nn.search(f)
            t3 = now()
            m = anomaly_map(s, grid)
            score = float(s.max())
            t4 = now()
            return score, m, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0)

        for f in test[:a.warmup]:
            predict(f)
        load_t, feat_t, nn_t, map_t, tot_t, scores = [], [], [], [], [], []
        for f in test:
            score, _, (tl, tf, tn, tm, tt) = predict(f)
            load_t.append(tl); feat_t.append(tf); nn_t.append(tn); map_t.append(tm); tot_t.append(tt)
            scores.append(score)

        # feature extraction split (first 10 test images): preprocess, backbone run, aggregation
        prep_t, net_t, agg_t = [], [], []
        for f in test[:10]:
            with Image.open(f) as im:
                im = im.convert('RGB')
            t0 = now()
            x = TRANSFORM(im)[None]
            t1 = now()
            l2, l3 = model(x)
            t2 = now()
            aggregate(l2, l3)
            t3 = now()
            prep_t.append(t1 - t0); net_t.append(t2 - t1); agg_t.append(t3 - t2)

    ms = lambda s: s * 1000.0
    out = {
        'impl': 'pytorch-reference',
        'torch': torch.__version__,
        'torchvision': torchvision.__version__,
        'nn': 'faiss IndexFlatL2' if faiss is not None else 'torch.cdist',
        'gaussian': 'scipy.ndimage.gaussian_filter' if gaussian_filter is not None else 'torch conv2d',
        'threads': torch.get_num_threads(),
        'ompWaitPolicy': os.environ.get('OMP_WAIT_POLICY'),
        'train': len(train), 'test': len(test), 'ratio': a.ratio, 'batch': a.batch,
        'trainPatches': int(len(train) * grid * grid), 'bankSize': int(bank.shape[0]), 'dim': int(bank.shape[1]),
        'backboneInitMs': ms(init_s),
        'featuresTotalMs': ms(t_feat),
        'featuresPerImageMs': ms(t_feat) / len(train),
        'coresetMs': ms(t_coreset),
        'indexMs': ms(t_index),
        'fitMs': ms(fit_s),
        'fitNoTrainScoringMs': ms(fit_s),  # the reference does not score training images
        'predictLoadMsMean': ms(float(np.mean(load_t))),
        'predictFeaturesMsMean': ms(float(np.mean(feat_t))),
        'predictPrepMsMean': ms(float(np.mean(prep_t))),
        'predictBackboneMsMean': ms(float(np.mean(net_t))),
        'predictAggregateMsMean': ms(float(np.mean(agg_t))),
        'nnPerImageMs': ms(float(np.mean(nn_t))),
        'mapPerImageMs': ms(float(np.mean(map_t))),
        'predictP50Ms': ms(pct(tot_t, 50)),
        'predictP95Ms': ms(pct(tot_t, 95)),
        'scores': scores,
        'peakRssMB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }
    print(json.dumps(out))


if __name__ == '__main__':
    main()
