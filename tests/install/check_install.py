#!/usr/bin/env python3
"""`cmake --install` into a fresh prefix yields a tree a user can build against.

Installs the build tree into a temporary prefix, then, using that prefix only:
builds examples/cpp and examples/c with find_package (CMAKE_PREFIX_PATH; the C
one against the shared and the static library) and examples/c through
pkg-config (PKG_CONFIG_PATH; shared and static), runs each on a shipped model,
and imports the installed Python package (PYTHONPATH) and runs a session. Every
result must equal the installed onnx-run's on the same input. Also: the Runtime
component alone holds no development file, and under /usr or /usr/local the
Python package's default folder is on the interpreter's sys.path.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

MODEL_INPUT, MODEL_OUTPUT = "input", "probs"


def run(cmd, env=None, cwd=None):
    result = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit("FAILED (exit %d): %s\n%s%s" % (result.returncode, " ".join(cmd), result.stdout, result.stderr))
    return result.stdout


def env_with(**changes):
    env = dict(os.environ)
    for name in ("PYTHONPATH", "PKG_CONFIG_PATH", "LD_LIBRARY_PATH", "CMAKE_PREFIX_PATH"):
        env.pop(name, None)  # nothing but the prefix may be found
    env.update(changes)
    return env


def expect(condition, message):
    if not condition:
        sys.exit("FAILED: " + message)


def example_input():
    """The examples' generated input: (i % 17 - 8) / 8, exact in float32."""
    i = np.arange(784)
    return (((i % 17) - 8).astype(np.float32) / np.float32(8)).reshape(1, 784)


def reference(prefix, work):
    """The installed onnx-run's output for the examples' input."""
    np.save(os.path.join(work, "x.npy"), example_input())
    out_dir = os.path.join(work, "reference")
    run([os.path.join(prefix, ARGS.bindir, "onnx-run"), ARGS.model, "--threads", "1",
         "--input", MODEL_INPUT + "=" + os.path.join(work, "x.npy"), "--output-dir", out_dir])
    return np.load(os.path.join(out_dir, MODEL_OUTPUT + ".npy"))


def printed_output(stdout):
    """The values an example printed for the model's output, as float32."""
    line = next((l for l in stdout.splitlines() if l.startswith(MODEL_OUTPUT + " ")), None)
    expect(line is not None, "no '%s' line in:\n%s" % (MODEL_OUTPUT, stdout))
    return np.array(line.split(":", 1)[1].split(), dtype=np.float32)


def check_example(name, binary, expected, env=None):
    stdout = run([binary, ARGS.model], env=env)
    expect(re.search(r"^input:\s+input .*\[batch, 784\]", stdout, re.M), name + ": input metadata missing:\n" + stdout)
    # The same library code on the same input with one thread: the same bits.
    got = printed_output(stdout)
    expect(np.array_equal(got, expected.ravel()), "%s: %s != onnx-run's %s" % (name, got, expected.ravel()))
    print("ok  %s" % name)


def needed_libraries(binary):
    return re.findall(r"\(NEEDED\)\s+Shared library: \[(.*)\]", run(["readelf", "-d", binary]))


def cmake_example(folder, prefix, work, expected, static=False):
    name = os.path.basename(folder) + ("-static" if static else "")
    build = os.path.join(work, "build-" + name)
    run([ARGS.cmake, "-S", folder, "-B", build, "-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_PREFIX_PATH=" + prefix,
         "-DONNX_MINI_EXAMPLE_STATIC=" + ("ON" if static else "OFF")], env=env_with())
    cache = open(os.path.join(build, "CMakeCache.txt")).read()
    found = re.search(r"^onnx_mini_DIR:PATH=(.*)$", cache, re.M).group(1)
    expect(os.path.realpath(found).startswith(os.path.realpath(prefix)), name + ": found onnx_mini in " + found)
    run([ARGS.cmake, "--build", build], env=env_with())
    binary = os.path.join(build, "onnx_mini_%s_example" % os.path.basename(folder))
    linked = "libonnx_mini.so.%s" % ARGS.soversion in needed_libraries(binary)
    expect(linked != static, "%s: links libonnx_mini.so: %s" % (name, linked))
    check_example("find_package " + name, binary, expected)


def pkg_config_example(prefix, work, expected, static=False):
    libdir = os.path.join(prefix, ARGS.libdir)
    env = env_with(PKG_CONFIG_PATH=os.path.join(libdir, "pkgconfig"))
    flags = run(["pkg-config", "--cflags", "--libs"] + (["--static"] if static else []) + ["onnx_mini"], env=env).split()
    if static:  # the archive, not the shared library, wherever -L lets -lonnx_mini find both
        flags = ["-l:libonnx_mini.a" if f == "-lonnx_mini" else f for f in flags]
    binary = os.path.join(work, "pkg-config-c" + ("-static" if static else ""))
    run([ARGS.cc, os.path.join(ARGS.source, "examples", "c", "main.c"), "-o", binary] + flags, env=env)
    expect(("libonnx_mini.so.%s" % ARGS.soversion in needed_libraries(binary)) != static,
           "pkg-config %s: wrong library linked" % ("static" if static else "shared"))
    check_example("pkg-config c" + (" --static" if static else ""), binary, expected,
                  env=env_with(LD_LIBRARY_PATH=libdir))


def python_package(prefix, work, expected):
    site = os.path.join(prefix, ARGS.pythondir)
    code = ("import numpy as np, onnx_mini, sys; assert onnx_mini.__file__.startswith(sys.argv[1]), onnx_mini.__file__;"
            "s = onnx_mini.InferenceSession(sys.argv[2], threads=1);"
            "(y,) = s.run(None, {'input': np.load(sys.argv[3])}); np.save(sys.argv[4], y)")
    out = os.path.join(os.path.dirname(site), "python_probs.npy")
    run([ARGS.python, "-c", code, site, ARGS.model, os.path.join(work, "x.npy"), out], env=env_with(PYTHONPATH=site))
    expect(np.array_equal(np.load(out), expected), "Python: %s != onnx-run's %s" % (np.load(out), expected))
    print("ok  python import from " + ARGS.pythondir)


def runtime_component(work):
    """`--component Runtime`: what running programs need, no development files."""
    prefix = os.path.join(work, "runtime-prefix")
    run([ARGS.cmake, "--install", ARGS.build, "--prefix", prefix, "--component", "Runtime"])
    lib = os.path.join(ARGS.libdir, "libonnx_mini.")
    wanted = [lib + "so." + ARGS.soversion, os.path.join(ARGS.bindir, "onnx-run"), os.path.join(ARGS.bindir, "onnx-init")]
    if ARGS.pythondir:
        wanted.append(os.path.join(ARGS.pythondir, "onnx_mini", "__init__.py"))
    unwanted = [ARGS.includedir, lib + "so", lib + "a", os.path.join(ARGS.libdir, "cmake"), os.path.join(ARGS.libdir, "pkgconfig")]
    for path in wanted:
        expect(os.path.exists(os.path.join(prefix, path)), "Runtime component lacks " + path)
    for path in unwanted:
        expect(not os.path.lexists(os.path.join(prefix, path)), "Runtime component installs " + path)
    print("ok  --component Runtime")


def python_default_location():
    """Under /usr or /usr/local the package lands where the interpreter looks."""
    if ARGS.configured_prefix not in ("/usr", "/usr/local"):
        print("skip python default location: configured prefix %s is not /usr or /usr/local" % ARGS.configured_prefix)
        return
    paths = run([ARGS.python, "-c", "import sys; print('\\n'.join(sys.path))"], env=env_with()).split()
    site = os.path.join(ARGS.configured_prefix, ARGS.pythondir)
    expect(site in paths, "%s is not on %s's sys.path %s" % (site, ARGS.python, paths))
    print("ok  python default location " + site + " is on sys.path")


def main():
    for tool in ("pkg-config", "readelf"):
        expect(shutil.which(tool), tool + " not found (scripts/install_deps.sh installs pkgconf and binutils)")
    prefix = os.path.join(WORK, "prefix")
    run([ARGS.cmake, "--install", ARGS.build, "--prefix", prefix])
    expected = reference(prefix, WORK)
    cmake_example(os.path.join(ARGS.source, "examples", "cpp"), prefix, WORK, expected)
    cmake_example(os.path.join(ARGS.source, "examples", "c"), prefix, WORK, expected)
    cmake_example(os.path.join(ARGS.source, "examples", "c"), prefix, WORK, expected, static=True)
    pkg_config_example(prefix, WORK, expected)
    pkg_config_example(prefix, WORK, expected, static=True)
    runtime_component(WORK)
    if ARGS.pythondir:
        python_package(prefix, WORK, expected)
        python_default_location()
    else:
        print("skip python: the package was not built (pybind11 not found)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    for option in ("build", "source", "cmake", "cc", "python", "model", "libdir", "bindir", "includedir",
                   "soversion", "configured-prefix"):
        parser.add_argument("--" + option, required=True)
    parser.add_argument("--pythondir", default="")
    ARGS = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="onnx-mini-install-") as WORK:
        main()
