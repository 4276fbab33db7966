#!/usr/bin/python3
"""Runs every command of the README's code blocks as written (from the source
folder), with `build/` meaning this build tree, and checks its exit code.

    check_readme_commands.py SOURCE_DIR BUILD_DIR

Commands are the lines of ```sh blocks and the `$ `-prefixed lines of plain
blocks; a trailing `\\` continues a line; `# exit N` after a command is the exit
code it must return (default 0). Not run, each for the reason printed: the
set-up line (it installs packages and builds), scripts/test.sh (it is this
suite), `cmake --install` (it writes into a system prefix; install.prefix checks
installing), and commands that need a package the set-up does not install
(Python's onnxruntime) together with the commands that read their output.
"""
import os
import re
import subprocess
import sys


def commands(readme):
    out, block, in_block = [], None, False
    pending = ""
    for line in open(readme, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("```"):
            in_block = not in_block
            block = line[3:].strip() if in_block else None
            continue
        if not in_block:
            continue
        if block == "sh":
            text = line
        elif line.startswith("$ "):
            text = line[2:]
        else:
            continue
        if text.endswith("\\"):
            pending += text[:-1] + " "
            continue
        out.append(pending + text)
        pending = ""
    return out


def skip_reason(cmd, skipped_outputs):
    if cmd.startswith("scripts/install_deps.sh"):
        return "the set-up line installs packages and builds"
    if cmd.strip() == "scripts/test.sh":
        return "runs this suite"
    if "onnxruntime" in cmd:
        return "needs Python's onnxruntime, which the set-up does not install"
    if cmd.startswith("cmake --install"):
        # A test must not write into a system prefix; install.prefix installs
        # into a temporary one and builds and runs the examples against it.
        return "installs into a system prefix (CTest install.prefix checks an install)"
    if any(f in cmd for f in skipped_outputs):
        return "reads the output of a skipped command"
    return None


def main():
    source, build = sys.argv[1], os.path.abspath(sys.argv[2])
    failures, ran, skipped_outputs = 0, 0, []
    for cmd in commands(os.path.join(source, "README.md")):
        reason = skip_reason(cmd, skipped_outputs)
        if reason:
            skipped_outputs += re.findall(r"np\.save\('([^']+)'", cmd)
            print(f"SKIP ({reason}): {cmd}")
            continue
        want = 0
        m = re.search(r"#\s*exit\s+(\d+)\s*$", cmd)
        if m:
            want = int(m.group(1))
            cmd = cmd[: m.start()]
        run = re.sub(r"(^|\s)build/", lambda g: g.group(1) + build + "/", cmd)
        run = re.sub(r"(^|\s)python3 ", lambda g: g.group(1) + "/usr/bin/python3 ", run)
        r = subprocess.run(run, shell=True, cwd=source, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=300)
        ran += 1
        if r.returncode != want:
            failures += 1
            print(f"FAIL (exit {r.returncode}, want {want}): {cmd}\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
        else:
            print(f"ok: {cmd}")
    print(f"{ran} README commands run, {failures} failed")
    sys.exit(1 if failures or ran == 0 else 0)


if __name__ == "__main__":
    main()
