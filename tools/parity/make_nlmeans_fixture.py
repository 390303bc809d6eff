#!/usr/bin/python3
"""Coloured non-local means as a user of OpenCV's Python binding calls it (cv2.imread gives B, G, R), for
ClassicalDenoisersTests: writes nlmeans-colour.noisy.png and nlmeans-colour.expected.png into the test fixtures.
h = hColor = 0.9 x 25 (the rule for sigma 25). Run with Debian's /usr/bin/python3 (python3-opencv)."""
import os
import sys

import cv2
import numpy as np

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../tests/Denoiser.Tests/Fixtures")
rng = np.random.RandomState(5)
y, x = np.mgrid[0:40, 0:48]
rgb = np.stack([x * 4 + 20, y * 5 + 10, (x + y) * 2 + 60], axis=-1).astype(np.float64)  # distinct ramps per channel
noisy = np.clip(np.round(rgb + 25 * rng.randn(*rgb.shape)), 0, 255).astype(np.uint8)
bgr = noisy[..., ::-1].copy()
cv2.imwrite(os.path.join(out, "nlmeans-colour.noisy.png"), bgr)
denoised = cv2.fastNlMeansDenoisingColored(bgr, None, 0.9 * 25, 0.9 * 25, 7, 21)
cv2.imwrite(os.path.join(out, "nlmeans-colour.expected.png"), denoised)
print(cv2.__version__)
