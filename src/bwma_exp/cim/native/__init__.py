"""The C kernels of this folder, compiled on first use with the system's C compiler and
loaded through ctypes.

The shared library is cached under ``$BWMA_EXP_CACHE`` (default ``~/.cache/bwma_exp``), keyed
by the source, the compiler flags and the CPU's feature flags (it is built for this CPU). No
compiler, a failed build or ``BWMA_EXP_NATIVE=0`` leaves ``library()`` None, and callers take
their pure-PyTorch path: same results, slower.

Not torch.utils.cpp_extension: its headers take about a minute to compile and it needs ninja,
while these kernels take raw pointers and compile in well under a second.
"""
from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)
SOURCE = Path(__file__).with_name("binary_read.c")
FLAGS = ("-O3", "-fPIC", "-shared", "-std=c99")
# Tried in turn until one builds and loads: 512-bit vectors (AVX-512 popcounts and byte
# permutes), then without each tuning flag the compiler or the loader may refuse.
TUNED = (("-march=native", "-mprefer-vector-width=512", "-fopenmp"), ("-march=native", "-fopenmp"),
         ("-march=native",), ("-fopenmp",), ())

_i, _f = ctypes.c_int, ctypes.c_float
_p = ctypes.c_void_p
SIGNATURES = {
    "pack_planes": (None, [_p] + [_i] * 11 + [_p]),
    "read_arrays": (_i, [_p] + [_i] * 7 + [_p] * 9 + [_i] * 3 + [_p] + [_i] * 6 + [_p] * 7
                     + [_i, _i, _p, _p]),
}


def cache_dir() -> Path:
    root = os.environ.get("BWMA_EXP_CACHE")
    if root:
        return Path(root)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "bwma_exp"


def _cpu_flags() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return line
    except OSError:
        pass
    return platform.processor()


def _build(cc: str, flags: tuple[str, ...], target: Path) -> bool:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
    os.close(fd)
    try:
        done = subprocess.run([cc, *flags, str(SOURCE), "-o", tmp, "-lm"], capture_output=True,
                              text=True)
        if done.returncode == 0:
            os.replace(tmp, target)     # atomic: parallel test workers may build at once
            return True
        log.debug("%s %s failed: %s", cc, " ".join(flags), done.stderr.strip()[-500:])
        return False
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@cache
def library(word_bits: int = 64) -> ctypes.CDLL | None:
    """The kernels for ``word_bits``-channel words (32 or 64), or None where they can't run."""
    if os.environ.get("BWMA_EXP_NATIVE", "1") == "0":
        return None
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        log.warning("no C compiler found: the binary-cell crossbar read uses its slower "
                    "PyTorch path")
        return None
    # -march=native or -fopenmp may be unknown to the compiler, and an OpenMP build may not
    # load beside PyTorch's libgomp: each is dropped in turn.
    for tuned in TUNED:
        flags = FLAGS + tuned + (f"-DWORD_BITS={word_bits}",)
        key = hashlib.sha256(SOURCE.read_bytes() + repr((cc, flags)).encode()
                             + _cpu_flags().encode()).hexdigest()[:16]
        target = cache_dir() / f"binary_read{word_bits}-{key}.so"
        try:
            if target.exists() or _build(cc, flags, target):
                lib = ctypes.CDLL(str(target))
                break
        except OSError as error:
            log.debug("could not load %s: %s", target, error)
    else:
        log.warning("could not build %s with %s: the binary-cell crossbar read uses its "
                    "slower PyTorch path", SOURCE.name, cc)
        return None
    for name, (restype, argtypes) in SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    return lib
