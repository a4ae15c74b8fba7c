"""Reference values for test/core/image.test.ts, from Pillow (Debian: apt-get install python3-pil; 9.4 used).

Run: /usr/bin/python3 scripts/reference/pil_resize.py > test/fixtures/pil-resize.json
The input images are synthetic (the same formula in the test), so no image file is needed.
"""
import hashlib
import json
import sys

from PIL import Image


def synthetic(width, height):
    data = bytes(((x * 7 + y * 13 + c * 50 + (x * y) % 31) % 256) for y in range(height) for x in range(width) for c in range(3))
    return Image.frombytes("RGB", (width, height), data)


def resize_and_crop(image, width, height):
    # diffusers VaeImageProcessor._resize_and_crop (resize_mode="crop")
    ratio = width / height
    src_ratio = image.width / image.height
    src_w = width if ratio > src_ratio else image.width * height // image.height
    src_h = height if ratio <= src_ratio else image.height * width // image.width
    resized = image.resize((src_w, src_h), resample=Image.LANCZOS)
    res = Image.new("RGB", (width, height))
    res.paste(resized, box=(width // 2 - src_w // 2, height // 2 - src_h // 2))
    return res


cases = []
for (w, h), (tw, th), mode in [((97, 61), (40, 30), "resize"), ((17, 11), (64, 48), "resize"), ((64, 64), (64, 48), "resize"),
                                ((120, 80), (64, 64), "crop"), ((50, 90), (72, 56), "crop"), ((300, 200), (88, 48), "crop")]:
    src = synthetic(w, h)
    out = src.resize((tw, th), resample=Image.LANCZOS) if mode == "resize" else resize_and_crop(src, tw, th)
    cases.append({"source": [w, h], "target": [tw, th], "mode": mode, "sha256": hashlib.sha256(out.tobytes()).hexdigest(), "first": list(out.tobytes()[:6])})
json.dump({"pillow": Image.__version__, "cases": cases}, sys.stdout, indent=1)
print()
