"""What the onnx-run CLI check scripts share: a failure list, expect(), and run()."""
import subprocess

failures = []


def expect(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what)


def run(onnx_run, *args):
    r = subprocess.run([onnx_run, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    return r.returncode, r.stdout, r.stderr
