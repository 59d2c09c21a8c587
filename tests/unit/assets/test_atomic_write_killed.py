"""Issue 16, item 8 under a real kill: a process killed (SIGKILL) after it wrote the temporary file
and before the rename leaves the previous output whole."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
WRITE = ("import sys\nfrom pathlib import Path\nfrom assets import files\n"
         "files.write_bytes(Path(sys.argv[1]), b'ny version, lang' * 1000)\n")


def test_a_kill_before_the_rename_leaves_the_old_file_whole(tmp_path):
    target = tmp_path / "uppfoljning.xlsx"
    target.write_bytes(b"gammal version")
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "FINSAM_FAULT_POINT": "before_rename:uppfoljning.xlsx"}
    child = subprocess.run([sys.executable, "-c", WRITE, str(target)], env=env, cwd=ROOT,
                           capture_output=True, timeout=120, check=False)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    assert target.read_bytes() == b"gammal version"
    # without the fault the new version replaces it whole
    env.pop("FINSAM_FAULT_POINT")
    subprocess.run([sys.executable, "-c", WRITE, str(target)], env=env, cwd=ROOT, check=True,
                   timeout=120)
    assert target.read_bytes() == b"ny version, lang" * 1000
