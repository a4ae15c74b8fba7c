"""Reference values for test/core/torchGenerator.test.ts, from PyTorch's CPU generator.

Needs PyTorch (Debian: apt-get install python3-torch python3-numpy; PyTorch 1.13.1 was used).
Run once per CPU kernel:
  ATEN_CPU_CAPABILITY=avx2    /usr/bin/python3 scripts/reference/torch_rng.py avx2    > test/fixtures/torch-rng-avx2.json
  ATEN_CPU_CAPABILITY=default /usr/bin/python3 scripts/reference/torch_rng.py scalar  > test/fixtures/torch-rng-scalar.json
"""
import base64
import hashlib
import json
import sys

import torch

CASES = [(0, [5]), (0, [16]), (0, [17]), (3, [33]), (1000, [1, 4, 8, 8]), (1000, [1, 4, 7, 9]), (42, [1, 4, 128, 128])]

out = {"torch": torch.__version__, "kernel": sys.argv[1], "randn": [], "linspace": {}}
for seed, shape in CASES:
    values = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float32).flatten()
    raw = values.numpy().astype("<f4").tobytes()
    case = {"seed": seed, "shape": shape, "first": values[:4].tolist(), "sha256": hashlib.sha256(raw).hexdigest()}
    if values.numel() <= 256:
        case["base64"] = base64.b64encode(raw).decode()
    out["randn"].append(case)
for name, (start, end, steps) in {"scaled_linear_sdxl": (0.00085**0.5, 0.012**0.5, 1000), "linear_1100": (0.0001, 0.02, 1100)}.items():
    raw = torch.linspace(start, end, steps, dtype=torch.float32).numpy().astype("<f4").tobytes()
    out["linspace"][name] = hashlib.sha256(raw).hexdigest()
json.dump(out, sys.stdout, indent=1)
print()
