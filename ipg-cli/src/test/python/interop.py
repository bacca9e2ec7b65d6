#!/usr/bin/env python3
"""What a Python user does with ipg's files, with numpy alone (no safetensors, gguf or pandas
package): read and write safetensors, read a GGUF control vector as repeng's import_gguf does, and
read the JSON / CSV score tables the way pandas would (a list of records; a header line + rows).

Usage:
  interop.py read-safetensors FILE        -> {"metadata": {...}, "tensors": {name: {"dtype", "shape", "values"}}}
  interop.py write-safetensors FILE JSON  JSON = {name: {"shape": [...], "values": [...]}}; F32, no metadata
  interop.py read-gguf FILE               -> {"kv": {key: value}, "tensors": {name: {"shape", "type", "values"}}}
  interop.py read-json FILE               -> {"columns": [...], "rows": N, "data": {column: [...]}}
  interop.py read-csv FILE                -> same, from numpy.genfromtxt(names=True)
  interop.py top-direction SAFETENSORS TENSOR K
                                          -> {"order": [...], "direction": [...]}: components by score
                                             (largest first, ties by lower index) and the unit-norm
                                             direction of the top K
Values are printed as Python floats of the float32 numbers read. Exit status 2 on malformed input.
"""
import json
import struct
import sys

import numpy as np


def fail(msg):
    print("interop.py: " + msg, file=sys.stderr)
    sys.exit(2)


DTYPES = {"F32": "<f4", "F16": "<f2", "F64": "<f8"}


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = blob[8 + n:]
    meta = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        if e["dtype"] == "BF16":
            hi = np.frombuffer(data[b:end], dtype="<u2").astype(np.uint32)
            arr = (hi << np.uint32(16)).view(np.float32)
        else:
            arr = np.frombuffer(data[b:end], dtype=DTYPES[e["dtype"]])
        arr = arr.reshape(e["shape"])
        tensors[name] = arr
    return meta, tensors


def write_safetensors(path, tensors):
    """Like safetensors.numpy.save_file: F32 tensors back to back, header padded to 8 bytes with spaces."""
    header = {}
    chunks = []
    offset = 0
    for name, arr in tensors.items():
        raw = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        chunks.append(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)


class Reader:
    def __init__(self, blob):
        self.blob = blob
        self.pos = 0

    def take(self, fmt):
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.blob):
            fail("GGUF file ends early")
        v = struct.unpack_from(fmt, self.blob, self.pos)
        self.pos += size
        return v[0] if len(v) == 1 else v

    def string(self):
        n = self.take("<Q")
        s = self.blob[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return s


SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def gguf_value(r, t):
    if t in SCALARS:
        return r.take(SCALARS[t])
    if t == 8:
        return r.string()
    if t == 9:
        inner = r.take("<I")
        n = r.take("<Q")
        return [gguf_value(r, inner) for _ in range(n)]
    fail("unknown GGUF value type %d" % t)


def read_gguf(path):
    """The GGUF v3 layout of the ggml specification (docs/gguf.md)."""
    with open(path, "rb") as f:
        blob = f.read()
    r = Reader(blob)
    if r.take("<4s") != b"GGUF":
        fail("not a GGUF file")
    version = r.take("<I")
    if version != 3:
        fail("GGUF version %d" % version)
    n_tensors = r.take("<Q")
    n_kv = r.take("<Q")
    kv = {}
    for _ in range(n_kv):
        key = r.string()
        t = r.take("<I")
        kv[key] = gguf_value(r, t)
    infos = []
    for _ in range(n_tensors):
        name = r.string()
        n_dims = r.take("<I")
        dims = [r.take("<Q") for _ in range(n_dims)]
        ggml_type = r.take("<I")
        offset = r.take("<Q")
        infos.append((name, dims, ggml_type, offset))
    align = kv.get("general.alignment", 32)
    start = (r.pos + align - 1) // align * align
    if any(b != 0 for b in blob[r.pos:start]):
        fail("padding before the data section is not zeros")
    tensors = {}
    for name, dims, ggml_type, offset in infos:
        if ggml_type != 0:
            fail("tensor %s has ggml type %d, expected F32 (0)" % (name, ggml_type))
        if offset % align != 0:
            fail("tensor %s at offset %d is not aligned to %d" % (name, offset, align))
        count = int(np.prod(dims))
        b = start + offset
        if b + 4 * count > len(blob):
            fail("tensor %s runs past the end of the file" % name)
        # ggml lists dimensions innermost first; numpy shape is the reverse
        arr = np.frombuffer(blob[b:b + 4 * count], dtype="<f4").reshape(list(reversed(dims)))
        tensors[name] = {"shape": list(arr.shape), "type": ggml_type, "values": [float(x) for x in arr.ravel()]}
    return {"version": version, "kv": kv, "tensors": tensors}


def table(columns, data):
    return {"columns": columns, "rows": len(data[columns[0]]) if columns else 0, "data": data}


def read_json(path):
    with open(path, "r", encoding="utf-8") as f:
        records = json.load(f)
    if not isinstance(records, list) or not all(isinstance(x, dict) for x in records):
        fail("not a list of records")
    columns = list(records[0].keys()) if records else []
    if any(list(x.keys()) != columns for x in records):
        fail("records do not all have the columns " + ",".join(columns))
    data = {}
    for c in columns:
        values = [x[c] for x in records]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            arr = np.asarray(values, dtype=np.float64)
            data[c] = [float(v) for v in arr]
        else:
            data[c] = [str(v) for v in values]
    return table(columns, data)


def read_csv(path):
    arr = np.genfromtxt(path, delimiter=",", names=True, dtype=None, encoding="utf-8")
    arr = np.atleast_1d(arr)
    columns = list(arr.dtype.names)
    data = {}
    for c in columns:
        col = arr[c]
        if col.dtype.kind in "iuf":
            data[c] = [float(v) for v in col]
        else:
            data[c] = [str(v) for v in col]
    return table(columns, data)


def top_direction(path, tensor, k):
    _, tensors = read_safetensors(path)
    s = tensors[tensor].astype(np.float32).ravel()
    # stable sort on -score: ties keep the lower index first
    order = np.argsort(-s.astype(np.float64), kind="stable")
    chosen = order[:k]
    d = np.zeros(s.shape, dtype=np.float64)
    d[chosen] = s[chosen]
    d /= np.linalg.norm(d)
    return {"order": [int(i) for i in order], "direction": [float(x) for x in d]}


def main():
    if len(sys.argv) < 3:
        fail(__doc__)
    cmd, path = sys.argv[1], sys.argv[2]
    if cmd == "read-safetensors":
        meta, tensors = read_safetensors(path)
        out = {"metadata": meta, "tensors": {n: {"dtype": str(a.dtype), "shape": list(a.shape),
                                                 "values": [float(x) for x in a.ravel()]} for n, a in tensors.items()}}
    elif cmd == "write-safetensors":
        spec = json.loads(sys.argv[3])
        write_safetensors(path, {n: np.asarray(t["values"], dtype=np.float32).reshape(t["shape"]) for n, t in spec.items()})
        out = {"written": path}
    elif cmd == "read-gguf":
        out = read_gguf(path)
    elif cmd == "read-json":
        out = read_json(path)
    elif cmd == "read-csv":
        out = read_csv(path)
    elif cmd == "top-direction":
        out = top_direction(path, sys.argv[3], int(sys.argv[4]))
    else:
        fail("unknown command " + cmd)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
