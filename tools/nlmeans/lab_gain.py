#!/usr/bin/python3
"""The spread of RGB Gaussian noise in OpenCV's 8-bit CIELAB (COLOR_LBGR2Lab, what fastNlMeansDenoisingColored
converts to), per unit sigma, on flat grey images: the basis of a colour NL-means rule that was tried and dropped
(ClassicalDenoisers.NonLocalMeans says why).
Run with Debian's /usr/bin/python3 (python3-opencv)."""
import cv2
import numpy as np

rng = np.random.RandomState(0)
print("grey  sigma  L/sigma  a/sigma  b/sigma")
for grey in (64, 128, 192):
    for sigma in (15, 25, 50):
        clean = np.full((256, 256, 3), grey, np.float64)
        noisy = np.clip(np.round(clean + sigma * rng.randn(*clean.shape)), 0, 255).astype(np.uint8)
        lab = cv2.cvtColor(noisy, cv2.COLOR_LBGR2Lab).astype(np.float64)
        print(f"{grey:4d}  {sigma:5d}  " + "  ".join(f"{lab[..., i].std() / sigma:7.3f}" for i in range(3)))
