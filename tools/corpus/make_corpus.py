#!/usr/bin/python3
"""Generates tests/Denoiser.Tests/Corpus: bad inputs for the real `denoiser` program, and cases.json saying how each
is run and what it must answer (exit code and a piece of its one error line). Regenerate with /usr/bin/python3."""
import gzip
import json
import shutil
import struct
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "Denoiser.Tests" / "Corpus"
FIX = ROOT / "tests" / "Denoiser.Tests" / "Fixtures"
cases = []


def idx3(n, rows=28, cols=28):
    return struct.pack(">iiii", 0x803, n, rows, cols) + bytes((i * 7) % 256 for i in range(n * rows * cols))


def idx1(n):
    return struct.pack(">ii", 0x801, n) + bytes(i % 10 for i in range(n))


def png(w, h, declared=None, bits=8):
    """A grey PNG of 8 or 16 bits (16: big-endian samples, as PNG stores them)."""
    raw = b"".join(b"\x00" + b"".join(((x + y) * (1 if bits == 8 else 251) % (1 << bits)).to_bytes(bits // 8, "big") for x in range(w)) for y in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    dw, dh = declared or (w, h)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", dw, dh, bits, 0, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def tiff(w, h, declared=None, bits=8, sample_format=1):
    """A little-endian, uncompressed grey TIFF: one strip, its size as declared; bits 8, 16 or 32, sample_format 1
    (unsigned integer) or 3 (IEEE float)."""
    dw, dh = declared or (w, h)
    pixels = b"".join(((x + y) % 256).to_bytes(bits // 8, "little") for y in range(h) for x in range(w))
    entries = [(256, 4, dw), (257, 4, dh), (258, 3, bits), (259, 3, 1), (262, 3, 1), (273, 4, 0), (277, 3, 1), (278, 4, dh), (279, 4, len(pixels))]
    entries += [(339, 3, sample_format)] if sample_format != 1 else []
    ifd_size = 2 + 12 * len(entries) + 4
    data_offset = 8 + ifd_size
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHI", tag, kind, 1) + (struct.pack("<I", data_offset) if tag == 273 else
                                             struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value))
        for tag, kind, value in entries) + struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + pixels


def write(rel, data):
    p = OUT / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data if isinstance(data, bytes) else data.encode())
    return rel


def mnist(folder, **bad):
    """A small MNIST folder with the named files replaced."""
    files = {"train-images-idx3-ubyte": idx3(40), "train-labels-idx1-ubyte": idx1(40),
             "t10k-images-idx3-ubyte": idx3(20), "t10k-labels-idx1-ubyte": idx1(20)}
    for name, data in bad.items():
        files.pop(name.replace(".gz", ""), None)
        files[name] = data
    for name, data in files.items():
        write(f"{folder}/{name}", data)
    return folder


def case(name, args, exit_code, expect, env=None):
    cases.append({"name": name, "args": args, "exit": exit_code, "expect": expect, "env": env or {}})


shutil.rmtree(OUT, ignore_errors=True)
good_images = idx3(20)

# IDX files: train reads them all.
for name, files, expect in [
    ("idx truncated raw images", {"t10k-images-idx3-ubyte": good_images[:-100]}, "truncated or not IDX"),
    ("idx truncated raw labels", {"t10k-labels-idx1-ubyte": idx1(20)[:-3]}, "truncated or not IDX"),
    ("idx wrong magic", {"t10k-images-idx3-ubyte": b"\x00\x00\x0d\x03" + good_images[4:]}, "magic number is 00000D03"),
    ("idx labels given as images", {"t10k-images-idx3-ubyte": idx1(20)}, "magic number is 00000801"),
    ("idx zero count", {"t10k-images-idx3-ubyte": struct.pack(">iiii", 0x803, 0, 28, 28)}, "dimension 0 is 0"),
    ("idx lying length", {"t10k-images-idx3-ubyte": struct.pack(">iiii", 0x803, 999, 28, 28) + good_images[16:]}, "declares 999 items"),
    ("idx padded", {"t10k-images-idx3-ubyte": good_images + b"\x00" * 10}, "truncated or not IDX"),
    ("idx huge rows", {"t10k-images-idx3-ubyte": struct.pack(">iiii", 0x803, 20, 99999, 28)}, "dimension 1 is 99999"),
    ("idx header only", {"t10k-images-idx3-ubyte": good_images[:6]}, "file ends while reading dimension 0"),
    ("idx empty images", {"t10k-images-idx3-ubyte": b""}, "file ends while reading the 4-byte magic number"),
    ("idx empty labels", {"t10k-labels-idx1-ubyte": b""}, "file ends while reading the 4-byte magic number"),
    ("idx counts disagree", {"t10k-labels-idx1-ubyte": idx1(19)}, "do not belong together"),
    ("gz truncated", {"t10k-images-idx3-ubyte.gz": gzip.compress(good_images)[:200]}, "truncated"),
    ("gz corrupt", {"t10k-images-idx3-ubyte.gz": gzip.compress(good_images)[:30] + b"\xff" * 40 + gzip.compress(good_images)[70:]}, "t10k-images-idx3-ubyte.gz"),
    ("gz longer than declared", {"t10k-images-idx3-ubyte.gz": gzip.compress(good_images + b"\x01" * 50)}, "longer than its header declares"),
    ("gz bomb header", {"t10k-images-idx3-ubyte.gz": gzip.compress(struct.pack(">iiii", 0x803, 2_000_000, 28, 28) + good_images[16:])}, "truncated"),
]:
    folder = mnist("data-" + name.replace(" ", "-"), **files)
    case(name, ["train", "--epochs", "1", "--data-dir", folder, "--run-dir", "runs/x"], 1, expect)

mnist("data")
write("images/good.png", png(28, 28))
write("images/empty.png", b"")
write("images/text.png", "this is not an image")
write("images/truncated.png", png(64, 64)[:120])
write("images/bomb.png", png(1, 1, declared=(60000, 60000)))
write("images/truncated.jpg", (FIX / "exif-orientation-6.jpg").read_bytes()[:200])
write("images/bomb.tif", tiff(1, 1, declared=(60000, 60000)))
write("images/header-only.tif", tiff(8, 8)[:8])
write("images/cut.tif", tiff(64, 64)[:300])
write("images/bomb16.png", png(1, 1, declared=(60000, 60000), bits=16))
write("images/truncated16.png", png(64, 64, bits=16)[:300])
write("images/float.tif", tiff(8, 8, bits=32, sample_format=3))
write("images/cut16.tif", tiff(64, 64, bits=16)[:300])
write("images/none/readme.txt", "no images here")
weights = write("weights/model.safetensors", (FIX / "parity-init.safetensors").read_bytes())
W = ["--weights", weights]
for name, file, expect in [
    ("image empty", "images/empty.png", "empty (0 bytes)"),
    ("image text", "images/text.png", "not a readable image"),
    ("image truncated png", "images/truncated.png", "images/truncated.png"),
    ("image truncated jpeg", "images/truncated.jpg", "images/truncated.jpg"),
    ("image bomb", "images/bomb.png", "declares 60000x60000 pixels"),
    ("image missing", "images/missing.png", "file not found"),
    ("image tiff bomb", "images/bomb.tif", "declares 60000x60000 pixels"),
    ("image tiff header only", "images/header-only.tif", "the TIFF header is damaged or truncated"),
    ("image tiff cut", "images/cut.tif", "images/cut.tif"),
    ("image 16-bit png bomb", "images/bomb16.png", "declares 60000x60000 pixels"),
    ("image 16-bit png truncated", "images/truncated16.png", "images/truncated16.png: the PNG data is damaged"),
    ("image 16-bit tiff cut", "images/cut16.tif", "images/cut16.tif: the TIFF data is damaged"),
]:
    case(name, ["denoise", file, "-o", "out/x.png"] + W, 1, expect)
case("folder with no images", ["denoise", "images/none"] + W, 1, "holds no images")
case("pattern matching nothing", ["denoise", "images/*.webp"] + W, 1, "matches no images")
case("output is the input", ["denoise", "images/good.png", "-o", "images/good.png"] + W, 2, "is the input itself")
case("output inside recursive input", ["denoise", "images", "-r", "-o", "images/out"] + W, 2, "lies inside the input folder")
case("output folder is a file", ["denoise", "images/good.png", "-o", "images/text.png/x.png"] + W, 1, "images/text.png/x.png")

# Checkpoints and weights.
ckpt_ok = None
for name, data, expect in [
    ("checkpoint empty", b"", "the file is empty"),
    ("checkpoint random", bytes(range(256)) * 4, "signature"),
    ("checkpoint zip", b"PK\x03\x04" + b"\x00" * 100, "signature"),
    ("checkpoint truncated", b"DNSRCKPT" + struct.pack("<I", 1) + b"\x00" * 60, "checksum does not match"),
]:
    write(f"ckpt/{name.replace(' ', '-')}.ckpt", data)
    case(name, ["denoise", "images/good.png", "-o", "out/x.png", "--checkpoint", f"ckpt/{name.replace(' ', '-')}.ckpt"], 1, expect)
def checkpoint(model="conv-denoiser", version=1, damage=False):
    """Denoiser's checkpoint layout (Training/Checkpoint.cs) with empty weight blocks: enough for the checks before them."""
    import hashlib
    header = json.dumps({"Model": model, "Epoch": 1, "NextEpoch": 2, "Settings": {}, "History": [], "BestTestLoss": 0.1,
                         "Saved": "2026-01-01T00:00:00+00:00"}).encode()
    body = b"DNSRCKPT" + struct.pack("<II", version, len(header)) + header + struct.pack("<QQ", 0, 0)
    digest = bytearray(hashlib.sha256(body).digest())
    if damage:
        digest[0] ^= 1
    return body + bytes(digest)


for name, data, expect in [
    ("checkpoint of another model", checkpoint(model="resnet-denoiser"), "is a checkpoint of model 'resnet-denoiser', which this Denoiser does not know"),
    ("checkpoint with weights of another model", checkpoint(model="unet"), "its weights do not fit unet"),
    ("checkpoint from a newer version", checkpoint(version=9), "written by a newer Denoiser"),
    ("checkpoint with a wrong checksum", checkpoint(damage=True), "checksum does not match"),
]:
    write(f"ckpt/{name.replace(' ', '-')}.ckpt", data)
    case(name, ["denoise", "images/good.png", "-o", "out/x.png", "--checkpoint", f"ckpt/{name.replace(' ', '-')}.ckpt"], 1, expect)
case("checkpoint missing", ["denoise", "images/good.png", "-o", "out/x.png", "--checkpoint", "ckpt/none.ckpt"], 1, "checkpoint not found")
case("safetensors given as checkpoint", ["denoise", "images/good.png", "-o", "out/x.png", "--checkpoint", weights], 1, "signature")
write("weights/truncated.safetensors", (FIX / "parity-init.safetensors").read_bytes()[:500])
case("weights truncated", ["denoise", "images/good.png", "-o", "out/x.png", "--weights", "weights/truncated.safetensors"], 1, "not a valid safetensors file")
hdr = json.dumps({"a": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}}).encode()
write("weights/f16.safetensors", struct.pack("<Q", len(hdr)) + hdr + b"\x00" * 4)
case("weights half precision", ["denoise", "images/good.png", "-o", "out/x.png", "--weights", "weights/f16.safetensors"], 1, "only F32")
hdr = json.dumps({"fc.weight": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
write("weights/other.safetensors", struct.pack("<Q", len(hdr)) + hdr + b"\x00" * 4)
case("weights of another model", ["denoise", "images/good.png", "-o", "out/x.png", "--weights", "weights/other.safetensors"], 1, "missing conv1.weight")
write("weights/garbage.onnx", b"not a protobuf at all \x00\xff")
case("onnx garbage", ["denoise", "images/good.png", "-o", "out/x.png", "--runtime", "onnx", "--weights", "weights/garbage.onnx"], 1, "not a loadable ONNX model")
case("import truncated", ["import", "weights/truncated.safetensors", "--run-dir", "runs/imp"], 1, "not a valid safetensors file")

# Configuration.
write("config/malformed.json", '{ "Train": { "Epochs": 3, }')
write("config/typed.json", '{ "Train": { "Epochs": "many" } }')
write("config/unknown.json", '{ "Train": { "Epoch": 3 } }')
case("config malformed", ["train"], 2, "malformed JSON", {"DENOISER_CONFIG": "config/malformed.json"})
case("config wrongly typed", ["train"], 2, "Train:Epochs", {"DENOISER_CONFIG": "config/typed.json"})
case("config unknown key", ["train"], 2, "Epoch", {"DENOISER_CONFIG": "config/unknown.json"})
case("config file missing", ["train"], 2, "does not exist", {"DENOISER_CONFIG": "config/none.json"})
case("config env out of range", ["train", "--data-dir", "data"], 2, "--epochs must be at least 1", {"DENOISER_Train__Epochs": "0"})

# Options.
for name, args, expect in [
    ("unknown option", ["train", "--epochz", "3"], "--epochz"),
    ("unknown command", ["trian"], "trian"),
    ("epochs zero", ["train", "--epochs", "0"], "--epochs must be at least 1"),
    ("epochs not a number", ["train", "--epochs", "ten"], "ten"),
    ("batch zero", ["train", "--batch-size", "0"], "--batch-size"),
    ("negative noise", ["train", "--noise", "-0.5"], "--noise"),
    ("noise kind", ["train", "--noise", "blur:2"], "unknown kind 'blur'"),
    ("learning rate zero", ["train", "--lr", "0"], "--lr must be a positive number"),
    ("threads negative", ["train", "--threads", "-1"], "--threads"),
    ("cuda without a gpu", ["train", "--device", "cuda", "--data-dir", "data"], "CUDA is not available"),
    ("quality zero", ["denoise", "images/good.png", "--quality", "0", "-o", "out/q.jpg"] + W, "--quality"),
]:
    case(name, args, 2, expect)

(OUT / "cases.json").write_text(json.dumps(cases, indent=1))
print(f"{len(cases)} cases in {OUT}")
