#!/usr/bin/python3
"""onnx-run --input FILE.npz and --check-output NAME=FILE.npy / FILE.npz.

    check_npz.py ONNX_RUN WORK_DIR

Archives are written by numpy itself (savez: stored members, savez_compressed:
deflate), then damaged byte by byte: every damaged archive must be refused
with exit 5 and a message naming the archive, never read as data.
"""
import io
import json
import os
import struct
import sys
import warnings
import zipfile

import numpy as np
import onnx
from onnx import TensorProto, helper

from cli_check import expect, failures, run  # noqa: E402 (beside this script)


def write_model(path):
    """y = x * 2 and z = x + 1, x float[N, 3]."""
    two = helper.make_tensor("two", TensorProto.FLOAT, [], [2.0])
    one = helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])
    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "two"], ["y"], name="double"),
         helper.make_node("Add", ["x", "one"], ["z"], name="plus_one")],
        "npz", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3]),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", 3])], [two, one])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)


def check_good_archives(onnx_run, model, work, x):
    for save in (np.savez, np.savez_compressed):
        tag = save.__name__
        inputs = f"{work}/{tag}_inputs.npz"
        save(inputs, x=x)
        refs = f"{work}/{tag}_refs.npz"
        save(refs, y=x * 2, z=x + 1)
        code, out, err = run(onnx_run, model, "--input", inputs, "--check-output", refs, "--json")
        expect(code == 0, f"{tag}: --input/--check-output archives: exit {code}: {err}")
        if code == 0:
            report = json.loads(out)
            expect(report["outputs"][0]["shape"] == [4, 3], f"{tag}: the archive's x fed shape {report['outputs'][0]['shape']}")
            check = report["check"]
            expect(check["pass"] and check["compared"] == 2, f"{tag}: check {check}")
            expect(check["outputs"][0]["reference"] == refs + " member 'y'", f"{tag}: reference {check['outputs'][0]}")
        wrong = f"{work}/{tag}_wrong.npz"
        bad_z = (x + 1).copy()
        bad_z[2, 1] += 0.5
        save(wrong, y=x * 2, z=bad_z)
        code, out, err = run(onnx_run, model, "--input", inputs, "--check-output", wrong, "--json")
        expect(code == 1, f"{tag}: a wrong reference: exit {code} (want 1): {err}")
        if out:
            z = json.loads(out)["check"]["outputs"][1]
            expect(z["name"] == "z" and not z["pass"] and z["worst_index"] == 7 and z["mismatches"] == 1,
                   f"{tag}: structured mismatch {z}")
            expect(abs(z["abs_err"] - 0.5) < 1e-6, f"{tag}: abs_err {z['abs_err']}")


def check_npy_references(onnx_run, model, work, x):
    np.save(f"{work}/x.npy", x)
    np.save(f"{work}/y.npy", x * 2)
    np.save(f"{work}/z_wrong.npy", x)
    code, out, err = run(onnx_run, model, "--input", f"x={work}/x.npy", "--check-output", f"y={work}/y.npy")
    expect(code == 0 and "PASS: 1 of 1 outputs match" in out, f"--check-output y=y.npy: exit {code}: {out}{err}")
    code, out, err = run(onnx_run, model, "--input", f"x={work}/x.npy", "--check-output", f"y={work}/y.npy",
                         "--check-output", f"z={work}/z_wrong.npy")
    expect(code == 1 and "FAIL: 1 of 2 outputs match" in out and "MISMATCH" in out, f"a wrong z: exit {code}: {out}{err}")
    code, out, err = run(onnx_run, model, "--input", f"x={work}/x.npy", "--check-output", f"w={work}/y.npy")
    expect(code == 2 and "names output 'w'" in err and "'y', 'z'" in err, f"an unknown output: exit {code}: {err}")
    code, out, err = run(onnx_run, model, "--input", f"x={work}/x.npy", "--input", f"{work}/savez_inputs.npz")
    expect(code == 2 and "input 'x' is given twice" in err, f"x from a file and an archive: exit {code}: {err}")
    code, out, err = run(onnx_run, model, "--input", f"x={work}/savez_inputs.npz")
    expect(code == 2 and "gives its arrays by member name" in err, f"--input NAME=FILE.npz: exit {code}: {err}")
    np.savez(f"{work}/stranger.npz", q=x)
    code, out, err = run(onnx_run, model, "--input", f"{work}/stranger.npz")
    expect(code != 0 and "'q'" in err, f"an archive member that is no input: exit {code}: {err}")


def central_offset(data):
    eocd = data.rindex(b"PK\x05\x06")
    return struct.unpack_from("<I", data, eocd + 16)[0]


def damaged_archives(x):
    """(label, bytes, expected message part) for archives numpy wrote and we broke."""
    buf = io.BytesIO()
    np.savez_compressed(buf, x=x)
    good = buf.getvalue()
    cd = central_offset(good)
    cases = []
    flip = bytearray(good)
    flip[60] ^= 0xff  # inside the deflate data
    cases.append(("corrupt deflate data", bytes(flip), "x.npy"))
    cases.append(("truncated", good[: len(good) // 2], "malformed .npz"))
    method = bytearray(good)
    struct.pack_into("<H", method, cd + 10, 12)  # bzip2
    cases.append(("bzip2 member", bytes(method), "compression method 12"))
    enc = bytearray(good)
    struct.pack_into("<H", enc, cd + 8, 1)
    cases.append(("encrypted member", bytes(enc), "encrypted"))
    bomb = bytearray(good)
    struct.pack_into("<I", bomb, cd + 24, 0x7fffffff)  # claims 2 GiB
    cases.append(("declared size beyond deflate's ratio", bytes(bomb), "1032:1"))
    crc = bytearray(good)
    struct.pack_into("<I", crc, cd + 16, struct.unpack_from("<I", good, cd + 16)[0] ^ 1)
    cases.append(("CRC mismatch", bytes(crc), "CRC-32"))
    cases.append(("not a zip", b"\x93NUMPY" + b"\0" * 100, "no end-of-central-directory"))
    offset = bytearray(good)
    struct.pack_into("<I", offset, len(good) - 22 + 16, len(good) + 100)
    cases.append(("directory outside the file", bytes(offset), "outside the file"))
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("x.txt", b"hello")
    cases.append(("member not NAME.npy", zbuf.getvalue(), "is not NAME.npy"))
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("x.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f4'}")
    cases.append(("member with a bad .npy header", zbuf.getvalue(), "member 'x.npy'"))
    zbuf = io.BytesIO()
    npy = io.BytesIO()
    np.save(npy, x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name it is asked to write
        with zipfile.ZipFile(zbuf, "w") as z:
            z.writestr("x.npy", npy.getvalue())
            z.writestr("x.npy", npy.getvalue())
    cases.append(("two members of one name", zbuf.getvalue(), "two members are named 'x.npy'"))
    return cases


def check_damaged_archives(onnx_run, model, work, x):
    for label, data, part in damaged_archives(x):
        path = f"{work}/damaged.npz"
        with open(path, "wb") as f:
            f.write(data)
        for flag in ("--input", "--check-output"):
            code, out, err = run(onnx_run, model, flag, path)
            expect(code == 5 and part in err and "damaged.npz" in err, f"{label} via {flag}: exit {code}: {err.strip()}")


def check_random_damage(onnx_run, model, work, x):
    """Seeded single-byte changes anywhere in a compressed archive: each is read
    (a byte the format does not check, such as a timestamp) or refused with exit 5;
    never a crash, a hang or another exit code."""
    buf = io.BytesIO()
    np.savez_compressed(buf, x=x)
    good = buf.getvalue()
    rng = np.random.default_rng(16)
    path = f"{work}/mutated.npz"
    for trial in range(150):
        data = bytearray(good)
        at = int(rng.integers(len(data)))
        data[at] ^= int(rng.integers(1, 256))
        with open(path, "wb") as f:
            f.write(data)
        code, out, err = run(onnx_run, model, "--input", path)
        expect(code in (0, 5), f"byte {at} changed: exit {code}: {err.strip()}")


def main():
    onnx_run, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    model = f"{work}/model.onnx"
    write_model(model)
    x = (np.arange(12, dtype=np.float32).reshape(4, 3) - 5) / 4
    check_good_archives(onnx_run, model, work, x)
    check_npy_references(onnx_run, model, work, x)
    check_damaged_archives(onnx_run, model, work, x)
    check_random_damage(onnx_run, model, work, x)
    if failures:
        sys.exit(1)
    print("npz and --check-output: all cases pass")


if __name__ == "__main__":
    main()
