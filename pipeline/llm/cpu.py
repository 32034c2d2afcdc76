"""What this CPU offers, what the OS grants of it, and what the installed llama.cpp was built to use.

A llama.cpp library built for instructions the CPU lacks dies with SIGILL; one built with AMX
dies with a general protection fault where the CPU lists AMX but the OS (a VM) does not grant the
process its tile state. ``factcheck doctor`` compares the three.
"""

import ctypes
import platform
import re
from dataclasses import dataclass
from pathlib import Path

# /proc/cpuinfo flag -> the name llama.cpp's system info gives the same feature
FEATURES = {
    "avx": "AVX", "avx2": "AVX2", "fma": "FMA", "f16c": "F16C", "bmi2": "BMI2", "avx_vnni": "AVX_VNNI",
    "avx512f": "AVX512", "avx512vbmi": "AVX512_VBMI", "avx512_vnni": "AVX512_VNNI", "avx512_bf16": "AVX512_BF16",
    "amx_int8": "AMX_INT8",
}  # fmt: skip
_ARCH_REQ_XCOMP_PERM = 0x1023
_XFEATURE_XTILEDATA = 18
_SYS_ARCH_PRCTL = 158  # x86-64


@dataclass(frozen=True)
class CpuSupport:
    model: str
    flags: frozenset[str]  # the llama.cpp names of FEATURES that the CPU lists
    amx_granted: bool  # the OS gives this process AMX tile state (Linux: arch_prctl)

    def usable(self) -> frozenset[str]:
        return self.flags if self.amx_granted else self.flags - {"AMX_INT8"}


def cpu_support(cpuinfo: Path = Path("/proc/cpuinfo")) -> CpuSupport:
    text = cpuinfo.read_text(encoding="utf-8", errors="replace") if cpuinfo.is_file() else ""
    flags_line = re.search(r"^flags\s*:(.*)$", text, re.M)
    listed = set(flags_line.group(1).split()) if flags_line else set()
    model = re.search(r"^model name\s*:\s*(.*)$", text, re.M)
    flags = frozenset(name for flag, name in FEATURES.items() if flag in listed)
    return CpuSupport(
        model.group(1).strip() if model else platform.processor(), flags, "AMX_INT8" in flags and _amx_granted()
    )


def _amx_granted() -> bool:
    """Ask Linux for AMX tile data, as ggml does before using it; False where the kernel or VM refuses."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.syscall(_SYS_ARCH_PRCTL, _ARCH_REQ_XCOMP_PERM, _XFEATURE_XTILEDATA) == 0
    except (OSError, AttributeError):
        return False


def llama_build_features(system_info: str) -> frozenset[str]:
    """The x86 features a llama.cpp library was compiled for, from ``llama_print_system_info()``:
    "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | ... | AMX_INT8 = 1 | ..." (only features set to 1)."""
    known = set(FEATURES.values())
    return frozenset(
        name for name, on in re.findall(r"([A-Z0-9_]+) = (\d)", system_info) if on == "1" and name in known
    )


def unusable_features(built: frozenset[str], cpu: CpuSupport) -> frozenset[str]:
    """What the library would execute that this machine cannot: each one crashes the server."""
    return built - cpu.usable()
