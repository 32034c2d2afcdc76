"""``factcheck doctor``: passes on a machine set up by the README, and names each failure with its fix."""

from pathlib import Path

import pytest
from cli_process import env_for, factcheck

from pipeline.cli.doctor import Check, chromium, llama_build, report
from pipeline.llm.cpu import CpuSupport, llama_build_features
from pipeline.llm.embedded import WEIGHTS

NATIVE_ON_SAPPHIRE_RAPIDS = (
    "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX_VNNI = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | AVX512 = 1 | "
    "AVX512_VBMI = 1 | AVX512_VNNI = 1 | AVX512_BF16 = 1 | AMX_INT8 = 1 | LLAMAFILE = 1 | OPENMP = 1 | REPACK = 1 | "
)
PORTABLE = (
    "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | LLAMAFILE = 1 | OPENMP = 1 | "
    "REPACK = 1 | "
)
AVX2 = frozenset({"AVX", "AVX2", "FMA", "F16C", "BMI2"})
AMX_VM = CpuSupport(
    "Xeon in a VM", AVX2 | {"AVX512", "AVX512_VBMI", "AVX512_VNNI", "AVX512_BF16", "AVX_VNNI", "AMX_INT8"},
    amx_granted=False,
)
MODEL = "qwen2.5-coder-1.5b-instruct-q4_k_m"
REAL_MODELS = Path.home() / ".cache" / "factcheck" / "models"


def test_the_build_features_are_read_from_llama_cpps_system_info() -> None:
    assert llama_build_features(PORTABLE) == AVX2
    assert "AMX_INT8" in llama_build_features(NATIVE_ON_SAPPHIRE_RAPIDS)


def test_a_native_amx_build_on_a_vm_that_does_not_grant_amx_fails_with_the_portable_reinstall() -> None:
    check = llama_build(NATIVE_ON_SAPPHIRE_RAPIDS, AMX_VM)
    assert not check.ok and "AMX_INT8" in check.detail and "would crash" in check.detail
    assert "pip install --force-reinstall --no-deps -r requirements.lock" in check.fix
    on_amd = llama_build(NATIVE_ON_SAPPHIRE_RAPIDS, CpuSupport("Zen 3", AVX2, amx_granted=False))
    assert not on_amd.ok and "AVX512" in on_amd.detail


def test_the_portable_build_runs_everywhere_with_avx2() -> None:
    for cpu in (AMX_VM, CpuSupport("Zen 3", AVX2, amx_granted=False)):
        check = llama_build(PORTABLE, cpu)
        assert check.ok and "portable" in check.detail


def test_the_installed_llama_cpp_is_the_portable_build() -> None:
    check = llama_build()
    assert check.ok and "the portable build" in check.detail, check.detail
    assert "xllamacpp 2026." in check.detail, check.detail  # the runtime is named, with its version


def test_doctor_names_a_damaged_weights_file_and_its_fix(tmp_path: Path) -> None:
    models = tmp_path / "cache" / "models"
    models.mkdir(parents=True)
    (models / WEIGHTS[MODEL].filename).write_bytes(b"not a model")
    done = factcheck(["doctor"], env_for(tmp_path))
    assert done.returncode == 1, done.stderr
    assert "FAIL" in done.stderr and "refusing to load" in done.stderr and "fix:" in done.stderr
    assert "pip install --no-deps -r requirements.lock" in done.stderr.replace("\n", "")


@pytest.mark.skipif(
    not (REAL_MODELS / WEIGHTS[MODEL].filename).is_file(), reason="the README's seed run joins the weights first"
)
def test_doctor_passes_on_a_machine_set_up_by_the_readme(tmp_path: Path) -> None:
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "models").symlink_to(REAL_MODELS)
    done = factcheck(["doctor"], env_for(tmp_path), )
    assert done.returncode == 0, done.stderr
    for name in ("python", "llama.cpp", "weights", "server", "stance model", "chromium", "caches"):
        assert name in done.stderr
    assert "FAIL" not in done.stderr and "tokens/s" in done.stderr


def test_a_missing_chromium_is_a_warning_and_doctor_still_passes(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """The README's machine has no Chromium: only the desk's browser tests need it, so doctor warns and exits 0."""
    monkeypatch.setenv("PATH", "/nonexistent")  # no chromium on the PATH, as on a fresh machine
    check = chromium()
    assert not check.ok and check.optional and "apt-get install -y chromium" in check.fix
    assert report([Check("python", True, "3.11"), check])
    shown = capsys.readouterr().err
    assert "warn" in shown and "FAIL" not in shown and "fix: apt-get install -y chromium" in shown
    assert not report([Check("weights", False, "missing", "reinstall"), check])  # a required failure still fails
