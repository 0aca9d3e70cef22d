"""Remove Snakemake's lock on this folder only when no Snakemake process is working in it.

After a kill -9 (or a power cut) Snakemake leaves .snakemake/locks behind and the next run stops with
a LockException. A lock is stale when no running snakemake process has this folder as its working
directory; then (and only then) it is cleared. Linux (/proc); elsewhere it does nothing and says so.

    python workflow/scripts/clear_stale_lock.py [folder]
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def snakemake_pids_in(folder: Path) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = Path(os.readlink(entry / "cwd"))
        except OSError:
            continue
        if "snakemake" in cmdline and "clear_stale_lock" not in cmdline and cwd == folder:
            pids.append(int(entry.name))
    return pids


def main(argv: list[str]) -> int:
    folder = Path(argv[0] if argv else ".").resolve()
    locks = folder / ".snakemake" / "locks"
    if not locks.is_dir() or not any(locks.iterdir()):
        return 0
    if not Path("/proc/self/cwd").exists():
        print(f"[lock] {locks} exists; cannot check for running Snakemake here: run `snakemake --unlock` "
              "yourself if no run is active", file=sys.stderr)
        return 0
    pids = snakemake_pids_in(folder)
    if pids:
        print(f"[lock] Snakemake is running in {folder} (pid {', '.join(map(str, pids))}); lock kept", file=sys.stderr)
        return 0
    shutil.rmtree(locks)
    print(f"[lock] removed the stale lock of an interrupted run ({locks})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
