#!/usr/bin/python3
"""twin.py -- the PyTorch twin of poisonfarm's seed model and recipe, for `make bench-peer`.

One training epoch (batch 256, shuffled, Adam lr 1e-3 beta 0.9/0.999 eps 1e-7, mean sparse
categorical cross-entropy) and one evaluation of the test set (batch 256, no gradients), on the
same files poisonfarm reads from its data directory, as `poisonfarm train --max-epochs 1` does.
Model: conv3x3 32 valid relu -> conv 32 -> maxpool2 -> conv 32 -> conv 32 -> maxpool2 -> conv 32 ->
conv 32 (same) -> flatten -> dense 128 relu -> dense 128 relu -> dense K; Glorot-uniform kernels,
zero biases. The threads: OMP_NUM_THREADS and OPENBLAS_NUM_THREADS are set by the caller before
Python starts; torch.set_num_threads here.

usage: twin.py DATA_DIR mnist|cifar10 TRAIN_ITEMS THREADS [channels_last]
Prints one line: dataset=... threads=... train_items=... test_items=... val_acc=... seconds=...
"""
import gzip
import os
import sys
import time

import numpy as np
import torch
from torch import nn


def read_maybe_gz(path):
    if os.path.exists(path):
        with open(path, "rb") as f:
            return f.read()
    with gzip.open(path + ".gz", "rb") as f:
        return f.read()


def load_idx_images(path):
    raw = read_maybe_gz(path)
    n, h, w = (int.from_bytes(raw[o:o + 4], "big") for o in (4, 8, 12))
    return np.frombuffer(raw, np.uint8, n * h * w, 16).reshape(n, 1, h, w)


def load_idx_labels(path):
    raw = read_maybe_gz(path)
    n = int.from_bytes(raw[4:8], "big")
    return np.frombuffer(raw, np.uint8, n, 8)


def load_cifar10_batches(paths):
    recs = [np.frombuffer(read_maybe_gz(p), np.uint8).reshape(-1, 3073) for p in paths]
    rec = np.concatenate(recs)
    return rec[:, 1:].reshape(-1, 3, 32, 32), rec[:, 0].copy()


def load(data_dir, dataset):
    d = os.path.join(data_dir, dataset)
    if dataset == "mnist":
        return (load_idx_images(os.path.join(d, "train-images-idx3-ubyte")),
                load_idx_labels(os.path.join(d, "train-labels-idx1-ubyte")),
                load_idx_images(os.path.join(d, "t10k-images-idx3-ubyte")),
                load_idx_labels(os.path.join(d, "t10k-labels-idx1-ubyte")), 10)
    train = [os.path.join(d, "data_batch_%d.bin" % i) for i in range(1, 6)]
    train = [p for p in train if os.path.exists(p) or os.path.exists(p + ".gz")]
    xtr, ytr = load_cifar10_batches(train)
    xte, yte = load_cifar10_batches([os.path.join(d, "test_batch.bin")])
    return xtr, ytr, xte, yte, 10


def seed_model(c, h, w, k):
    layers = [nn.Conv2d(c, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
              nn.Conv2d(32, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
              nn.Conv2d(32, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
              nn.Flatten()]
    hh, ww = h, w
    for step in ("c", "c", "p", "c", "c", "p", "c"):
        hh, ww = (hh - 2, ww - 2) if step == "c" else (hh // 2, ww // 2)
    layers += [nn.Linear(32 * hh * ww, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
               nn.Linear(128, k)]
    model = nn.Sequential(*layers)
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def main():
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__.split("\n\n")[2])
    data_dir, dataset, n_train, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    channels_last = len(sys.argv) == 6 and sys.argv[5] == "channels_last"
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    xtr, ytr, xte, yte, k = load(data_dir, dataset)
    if n_train > 0:
        xtr, ytr = xtr[:n_train], ytr[:n_train]
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    xtr = (torch.from_numpy(xtr.astype(np.float32)) / 255.0).contiguous(memory_format=fmt)
    xte = (torch.from_numpy(xte.astype(np.float32)) / 255.0).contiguous(memory_format=fmt)
    ytr = torch.from_numpy(ytr.astype(np.int64))
    yte = torch.from_numpy(yte.astype(np.int64))
    model = seed_model(xtr.shape[1], xtr.shape[2], xtr.shape[3], k).to(memory_format=fmt)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    bs = 256
    t0 = time.time()
    model.train()
    order = torch.randperm(len(xtr))
    for b0 in range(0, len(xtr), bs):
        idx = order[b0:b0 + bs]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xtr[idx]), ytr[idx])
        loss.backward()
        opt.step()
    model.eval()
    correct = 0
    with torch.no_grad():
        for b0 in range(0, len(xte), bs):
            correct += int((model(xte[b0:b0 + bs]).argmax(1) == yte[b0:b0 + bs]).sum())
    print("dataset=%s threads=%d train_items=%d test_items=%d val_acc=%.6f loop_seconds=%.2f "
          "torch=%s" % (dataset, threads, len(xtr), len(xte), correct / len(xte), time.time() - t0,
                        torch.__version__))


if __name__ == "__main__":
    main()
