"""Running the command line as a user does (a subprocess) and checking a refusal."""

import subprocess
import sys


def run(*args, cwd=None, env=None, timeout=900):
    """`hepatwin ARGS...` in a subprocess; the completed process (stdout, stderr, return code)."""
    return subprocess.run([sys.executable, "-m", "hepatwin.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)


def refused(p, *words):
    """Exit 2, one `error:` message naming every word, no traceback; returns stderr."""
    assert p.returncode == 2, (p.returncode, p.stdout[-500:], p.stderr[-2000:])
    lines = p.stderr.strip().splitlines()
    first = next((i for i, line in enumerate(lines) if line.startswith("error:")), None)
    # before the message only progress log lines of the work done until the refusal ("[  3.6 s] ...")
    assert "Traceback" not in p.stderr and first is not None, p.stderr
    assert all(line.startswith(("[", "note:")) for line in lines[:first]), p.stderr
    for w in words:
        assert w in p.stderr, (w, p.stderr)
    return p.stderr
