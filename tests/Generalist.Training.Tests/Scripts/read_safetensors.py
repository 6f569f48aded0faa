#!/usr/bin/env python3
"""Standard-library-only safetensors reader: proves files the project writes follow the format.

Prints JSON: {name: {"dtype", "shape", "sum"}} plus "__metadata__", after checking the header
layout, that offsets tile the data section, and the sha256 in __metadata__.
"""
import array
import hashlib
import json
import struct
import sys

SIZES = {"F64": ("d", 8), "F32": ("f", 4), "I64": ("q", 8), "I32": ("i", 4), "U8": ("B", 1), "I8": ("b", 1)}


def main(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n].decode("utf-8"))
    data = blob[8 + n :]
    meta = header.pop("__metadata__", {})
    if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
        raise SystemExit("checksum mismatch")
    out = {"__metadata__": meta}
    end = 0
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        b, eo = e["data_offsets"]
        if b != end:
            raise SystemExit("offsets do not tile the data section")
        end = eo
        code, size = SIZES[e["dtype"]]
        count = 1
        for d in e["shape"]:
            count *= d
        if count * size != eo - b:
            raise SystemExit("shape does not match offsets")
        values = array.array(code)
        values.frombytes(data[b:eo])
        if sys.byteorder != "little":
            values.byteswap()
        out[name] = {"dtype": e["dtype"], "shape": e["shape"], "sum": float(sum(values))}
    if end != len(data):
        raise SystemExit("trailing bytes")
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
