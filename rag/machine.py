"""What this machine's CPU can do, for the model check, the eval report and bug reports.

ONNX Runtime picks its kernels by CPU feature (AVX2, AVX-512, VNNI, AMX on x86-64; dot-product
instructions on ARM64), and integer kernels in particular give different numbers on different
features.  Every figure the project reports names the features it was measured with.
"""

from __future__ import annotations

import functools
import platform
from pathlib import Path

# The features that change which kernels run, as numpy's runtime dispatcher detects them (through
# the CPUID instruction on x86-64 and the kernel's HWCAP on ARM64, so an emulated CPU reports its
# own), with the names Linux gives them in /proc/cpuinfo.
_NUMPY_NAMES = {
    "SSE42": "sse4_2", "AVX": "avx", "FMA3": "fma", "AVX2": "avx2", "AVX512F": "avx512f",
    "AVX512BW": "avx512bw", "AVX512VNNI": "avx512_vnni", "AVX512BF16": "avx512_bf16",
    "AVX512FP16": "avx512_fp16", "NEON": "neon", "ASIMD": "asimd", "ASIMDDP": "asimddp", "SVE": "sve",
}
# Features numpy does not report, read from /proc/cpuinfo.
_CPUINFO_ONLY = ("avx_vnni", "amx_tile", "amx_int8", "amx_bf16", "i8mm", "sve2")


def _proc_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    flags: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("flags", "features"):
            flags.update(value.split())
    return flags


@functools.lru_cache(maxsize=1)
def cpu_features() -> tuple[str, ...]:
    """The relevant features this CPU reports, in a fixed order ('unknown' where none can be read)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as detected
    except ImportError:  # pragma: no cover - numpy older than 2.0
        detected = {}
    found = [name for key, name in _NUMPY_NAMES.items() if detected.get(key)]
    if not detected:
        found = [name for name in _NUMPY_NAMES.values() if name in _proc_flags()]
    found += [name for name in _CPUINFO_ONLY if name in _proc_flags()]
    return tuple(found) or ("unknown",)


@functools.lru_cache(maxsize=1)
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip().lower() in ("model name", "cpu model", "hardware"):
                return value.strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_signature() -> str:
    """One string naming the machine class: the architecture and its relevant features."""
    return f"{platform.machine()}:{'+'.join(cpu_features())}"


def describe() -> dict[str, str]:
    """The machine in a few fields, as the eval report and `python -m rag info` print it."""
    try:
        import onnxruntime

        ort = onnxruntime.__version__
    except ImportError:  # pragma: no cover - a dependency
        ort = "not installed"
    return {
        "cpu": cpu_model(),
        "arch": platform.machine(),
        "features": " ".join(cpu_features()),
        "onnxruntime": ort,
        "python": platform.python_version(),
    }
