"""The embedded model's server process: llama.cpp's own C++ server (the prebuilt ``xllamacpp``
wheel) on loopback, until SIGTERM.

    python -m pipeline.llm._llama_server --model FILE.gguf --port N [--ctx N] [--slots N] [--threads N] [--alias NAME]

It runs in a process of its own so that a crash of the model (a bad CPU instruction, memory)
ends this process, which ``EmbeddedServer`` names and restarts, and never the CLI.
"""

import argparse
import signal
import sys
import threading


def _params(args: argparse.Namespace):  # -> xllamacpp.CommonParams (imported late: 100 MB)
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.model_alias = {args.alias} if args.alias else set()
    params.hostnames = ["127.0.0.1"]
    params.port = args.port
    # llama.cpp splits the context between its slots: each slot must still hold a whole window.
    params.n_parallel = args.slots
    params.n_ctx = args.ctx * args.slots
    params.cont_batching = True
    params.cache_prompt = True  # a slot keeps its last prompt: the next call reuses the shared prefix
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.cpuparams.poll = params.cpuparams_batch.poll = args.poll
    params.n_threads_http = max(2, args.slots + 1)
    params.endpoint_slots = False
    params.endpoint_props = False
    params.endpoint_metrics = False
    params.ui = False  # no web page: an API for this process's parent only
    return params


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pipeline.llm._llama_server")
    parser.add_argument("--model", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ctx", type=int, default=8192, help="context tokens per slot")
    parser.add_argument("--slots", type=int, default=1, help="requests decoded side by side")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--poll", type=int, default=0, help="threads' busy-wait level, 0-100 (llama.cpp's --poll)")
    parser.add_argument("--alias", default="")
    args = parser.parse_args(argv)

    import xllamacpp

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server = xllamacpp.Server(_params(args))  # returns once the model is loaded and the port listens
    print(f"serving {args.model} at {server.listening_address} with {args.slots} slot(s)", flush=True)
    stop.wait()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
