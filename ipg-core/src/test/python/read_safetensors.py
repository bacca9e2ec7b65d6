#!/usr/bin/env python3
"""Independent reader for safetensors files, used to check the files ipg writes.

Usage: read_safetensors.py PATH
  PATH is a .safetensors file, or a directory holding model.safetensors.index.json and its shards.

Checks the layout the reference implementation requires of files it reads (u64 little-endian
header length, a multiple of 8 when padded with spaces, a UTF-8 JSON object, tensors back to back
from offset 0 covering the whole data buffer, byte counts matching dtype and shape; for an index,
every tensor present in its shard and total_size equal to the sum of tensor bytes), then prints
one JSON object on stdout:

  {"files": [{"file": NAME, "metadata": {...}, "header_len": N,
              "tensors": [{"name", "dtype", "shape", "bits": [float32 bit patterns as ints]}]}],
   "total_size": int or null}

Values are decoded to float32 by numpy alone (BF16 by shifting the 16 bits into the high half of
a float32) and reported as unsigned 32-bit patterns, so NaN, infinities and -0.0 compare exactly.
Exit status: 0 ok, 2 malformed input, 3 numpy missing.
"""
import json
import os
import struct
import sys

try:
    import numpy as np
except ImportError:
    print("read_safetensors.py: numpy is not installed for " + sys.executable, file=sys.stderr)
    sys.exit(3)

WIDTH = {"F32": 4, "F16": 2, "BF16": 2}


def fail(msg):
    print("read_safetensors.py: " + msg, file=sys.stderr)
    sys.exit(2)


def decode(dtype, raw):
    """Raw little-endian bytes -> numpy float32 array."""
    if dtype == "F32":
        return np.frombuffer(raw, dtype="<f4").astype(np.float32)
    if dtype == "F16":
        return np.frombuffer(raw, dtype="<f2").astype(np.float32)
    if dtype == "BF16":
        hi = np.frombuffer(raw, dtype="<u2").astype(np.uint32)
        return (hi << np.uint32(16)).view(np.float32)
    fail("unsupported dtype " + dtype)


def read_file(path):
    with open(path, "rb") as f:
        blob = f.read()
    name = os.path.basename(path)
    if len(blob) < 8:
        fail(name + ": shorter than 8 bytes")
    (n,) = struct.unpack("<Q", blob[:8])
    if n % 8 != 0:
        fail(name + ": header length %d is not a multiple of 8" % n)
    if 8 + n > len(blob):
        fail(name + ": header runs past the end of the file")
    header_bytes = blob[8:8 + n]
    text = header_bytes.decode("utf-8")
    stripped = text.rstrip(" ")
    if not stripped.endswith("}"):
        fail(name + ": header is not a JSON object padded with spaces")
    header = json.loads(stripped)
    if not isinstance(header, dict):
        fail(name + ": header is not an object")
    data = blob[8 + n:]
    metadata = header.pop("__metadata__", None) or {}
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        fail(name + ": __metadata__ must map strings to strings")

    tensors = []
    expected_begin = 0
    for tname, entry in header.items():  # json keeps file order
        dtype = entry["dtype"]
        shape = entry["shape"]
        begin, end = entry["data_offsets"]
        if dtype not in WIDTH:
            fail(name + ": tensor %s has dtype %s" % (tname, dtype))
        count = 1
        for d in shape:
            count *= d
        if begin != expected_begin:
            fail(name + ": tensor %s starts at %d, expected %d (not back to back)" % (tname, begin, expected_begin))
        if end - begin != count * WIDTH[dtype]:
            fail(name + ": tensor %s has %d bytes for shape %s %s" % (tname, end - begin, shape, dtype))
        if end > len(data):
            fail(name + ": tensor %s ends past the data buffer" % tname)
        expected_begin = end
        values = decode(dtype, data[begin:end])
        tensors.append({
            "name": tname,
            "dtype": dtype,
            "shape": shape,
            "bits": [int(b) for b in values.view(np.uint32)],
        })
    if expected_begin != len(data):
        fail(name + ": data buffer has %d bytes, tensors cover %d" % (len(data), expected_begin))
    return {"file": name, "metadata": metadata, "header_len": n, "tensors": tensors}


def main():
    if len(sys.argv) != 2:
        fail("usage: read_safetensors.py FILE_OR_DIR")
    path = sys.argv[1]
    if not os.path.isdir(path):
        print(json.dumps({"files": [read_file(path)], "total_size": None}))
        return
    with open(os.path.join(path, "model.safetensors.index.json"), "r", encoding="utf-8") as f:
        index = json.load(f)
    weight_map = index["weight_map"]
    shards = []
    for shard in weight_map.values():
        if shard not in shards:
            shards.append(shard)
    shards.sort()
    files = [read_file(os.path.join(path, s)) for s in shards]
    total = 0
    found = {}
    for s, content in zip(shards, files):
        for t in content["tensors"]:
            found[t["name"]] = s
            total += (1 if not t["shape"] else int(np.prod(t["shape"]))) * WIDTH[t["dtype"]]
    if found != weight_map:
        fail("index weight_map does not match the shards' contents")
    if index["metadata"]["total_size"] != total:
        fail("index total_size %s, shards hold %d bytes" % (index["metadata"]["total_size"], total))
    print(json.dumps({"files": files, "total_size": total}))


if __name__ == "__main__":
    main()
