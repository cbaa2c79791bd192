"""Shared test data, small model configs, and a numpy-only safetensors
reader and writer (docs/checkpoint-format.md): the proof that a checkpoint
can be read without the library."""
import json
import os
import struct
import zlib
from pathlib import Path

import numpy as np

import genmodel

REPO = Path(__file__).resolve().parents[3]

# small enough that a step takes microseconds
TINY_VAE = dict(input_dim=16, latent_dim=2, enc_hidden=(8,), dec_hidden=(8,), seed=3)
TINY_GAN = dict(data_dim=16, noise_dim=4, gen_hidden=(8,), disc_hidden=(8,), seed=3)
TINY_SR = dict(body_channels=(8,), body_kernel=(3,), patch=2, seed=3)


def under_asan():
    """True when the AddressSanitizer runtime is loaded (a sanitizer build)."""
    with open("/proc/self/maps") as maps:
        return "libasan" in maps.read()


def python_env(**changes):
    """The environment for a child python3 that imports this same genmodel
    package; changes set variables, or remove them when None."""
    package_parent = str(Path(genmodel.__file__).resolve().parents[1])
    path = os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, **changes}
    return {k: v for k, v in env.items() if v is not None}


def patterns(n, dim=16, classes=4, flip=0.05, seed=0):
    """Binary images: `classes` random prototypes, each pixel flipped with
    probability `flip`. Returns (x float32 (n, dim), labels int32 (n,))."""
    rng = np.random.default_rng(seed)
    prototypes = rng.random((classes, dim)) < 0.5
    labels = rng.integers(0, classes, n).astype(np.int32)
    x = prototypes[labels] ^ (rng.random((n, dim)) < flip)
    return x.astype(np.float32), labels


def read_safetensors(blob):
    """(tensors by name, metadata) of a safetensors file's bytes."""
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = memoryview(blob)[8 + n:]
    tensors = {}
    for name, t in header.items():
        assert t["dtype"] == "F32", t
        begin, end = t["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype="<f4").reshape(t["shape"])
    return tensors, meta


def write_safetensors(tensors, meta):
    """A checkpoint's bytes from tensors (name -> little-endian numpy array)
    and metadata, with both CRCs recomputed: gm.crc32.data over the data,
    gm.crc32.header over the length prefix and padded header while its own
    value reads 00000000."""
    dtypes = {np.dtype("<f4"): "F32", np.dtype("<f2"): "F16"}
    header, chunks, at = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        header[name] = {"dtype": dtypes[a.dtype], "shape": list(a.shape), "data_offsets": [at, at + a.nbytes]}
        chunks.append(a.tobytes())
        at += a.nbytes
    data = b"".join(chunks)
    meta = dict(meta, **{"gm.crc32.data": f"{zlib.crc32(data):08x}", "gm.crc32.header": "00000000"})
    text = json.dumps({"__metadata__": dict(sorted(meta.items())), **header}, separators=(",", ":")).encode()
    text += b" " * (-(8 + len(text)) % 64)
    head = struct.pack("<Q", len(text)) + text
    crc = f"{zlib.crc32(head):08x}".encode()
    return head.replace(b'"gm.crc32.header":"00000000"', b'"gm.crc32.header":"' + crc + b'"') + data


def write_idx_labels(path, labels):
    """A 1-D IDX file of unsigned bytes: the MNIST labels format."""
    labels = np.asarray(labels, dtype=np.uint8)
    Path(path).write_bytes(struct.pack(">II", 0x0801, len(labels)) + labels.tobytes())


def table(rng, n, shift=0.0):
    """n rows of a table, float32 (n, 4): columns on scales from 0.01 to
    1000 that move together (a 1-D factor and some noise), shifted off it
    by shift."""
    t = rng.normal(size=(n, 1))
    scales = np.array([0.01, 1.0, 30.0, 1000.0])
    return ((t + 0.1 * rng.normal(size=(n, 4)) + shift * np.array([1.0, -1.0, 1.0, -1.0])) * scales
            + 5 * scales).astype(np.float32)

