"""Writes a full-size SVHN-shaped train file (73,257 random 32x32x3 uint8 images, labels 1..10)
with SciPy's savemat, for bench/svhn-memory.ts.

    .venv/bin/python bench/svhn-memory.py DIR    # writes DIR/train_32x32.mat and DIR/test_32x32.mat
"""
import os
import sys

import numpy as np
from scipy.io import savemat

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(0)
for name, n in [("train_32x32.mat", 73257), ("test_32x32.mat", 26032)]:
    X = rng.integers(0, 256, size=(32, 32, 3, n), dtype=np.uint8)
    y = rng.integers(1, 11, size=(n, 1)).astype(np.float64)
    savemat(os.path.join(out, name), {"X": X, "y": y}, do_compression=False)
    print("wrote", name, n)
