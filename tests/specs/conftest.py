"""One torch thread per test process: the tests run tiny tensors in parallel (pytest -n), where intra-op
threads only contend for the cores (measured: a small compress run went from 85 s to 3.4 s)."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _single_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
