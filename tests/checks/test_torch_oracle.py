"""Optional tier: the reference optimizers agree with torch.optim, step for step.

PyTorch is an independent oracle here; the course itself needs only NumPy. `make test`
installs torch==2.13.0 (CPU) when it can; without it this tier is skipped.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import reference

from autograder.checks.optimizers import KNOWN_GRADS, KNOWN_HYPER, KNOWN_STEPS, KNOWN_W0

torch = pytest.importorskip("torch")

STEPS = 100
CASES = [
    ("sgd", {"lr": 0.05}, lambda p: torch.optim.SGD([p], lr=0.05)),
    ("sgd_momentum", {"lr": 0.02, "momentum": 0.9},
     lambda p: torch.optim.SGD([p], lr=0.02, momentum=0.9, dampening=0, nesterov=False)),
    ("adam", {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
     lambda p: torch.optim.Adam([p], lr=0.01, betas=(0.9, 0.999), eps=1e-8)),
    ("adam", {"lr": 0.1, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6},
     lambda p: torch.optim.Adam([p], lr=0.1, betas=(0.8, 0.99), eps=1e-6)),
    ("adamw", {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01},
     lambda p: torch.optim.AdamW([p], lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)),
    ("adamw", {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.5},
     lambda p: torch.optim.AdamW([p], lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.5)),
]


@pytest.mark.parametrize("name, hyper, make_optimizer", CASES,
                         ids=[f"{case[0]}-{i}" for i, case in enumerate(CASES)])
@pytest.mark.parametrize("scale", [1.0, 1e-5])
def test_reference_matches_torch_optim_over_100_steps(name, hyper, make_optimizer, scale):
    optimizer = reference("03_optimizers").values[name]
    rng = np.random.default_rng(7)
    w = rng.normal(size=(4, 5))
    param = torch.nn.Parameter(torch.tensor(w, dtype=torch.float64))
    torch_optimizer = make_optimizer(param)
    state = {}
    for step in range(1, STEPS + 1):
        dw = scale * (np.linspace(0.5, 3.0, w.size).reshape(w.shape) * w + rng.normal(size=w.shape))
        w, state = optimizer(w, dw, state, **hyper)
        param.grad = torch.tensor(dw, dtype=torch.float64)
        torch_optimizer.step()
        expected = param.detach().numpy()
        worst = np.max(np.abs(w - expected) / np.maximum(np.abs(expected), 1e-300))
        assert worst < 1e-10, f"{name} {hyper}: step {step} differs from torch.optim by {worst:.2e}"


@pytest.mark.parametrize("name", sorted(KNOWN_STEPS))
def test_the_checks_known_steps_are_torch_optims(name):
    params = {"sgd": {}, "sgd_momentum": {"dampening": 0, "nesterov": False}}
    hyper = dict(KNOWN_HYPER[name])
    lr = hyper.pop("lr")
    if name in ("adam", "adamw"):
        beta1, beta2 = hyper.pop("beta1"), hyper.pop("beta2")
        hyper["betas"] = (beta1, beta2)
    param = torch.nn.Parameter(torch.tensor(KNOWN_W0, dtype=torch.float64))
    make = {"sgd": torch.optim.SGD, "sgd_momentum": torch.optim.SGD, "adam": torch.optim.Adam,
            "adamw": torch.optim.AdamW}[name]
    torch_optimizer = make([param], lr=lr, **hyper, **params.get(name, {}))
    for dw, expected in zip(KNOWN_GRADS, KNOWN_STEPS[name], strict=True):
        param.grad = torch.tensor(dw, dtype=torch.float64)
        torch_optimizer.step()
        np.testing.assert_allclose(param.detach().numpy(), expected, rtol=1e-12, atol=1e-15)


TORCH_OPTIMIZERS = """
import torch


def sgd(w, dw, state, lr=0.01):
    p = torch.nn.Parameter(torch.tensor(w, dtype=torch.float64))
    p.grad = torch.tensor(dw, dtype=torch.float64)
    torch.optim.SGD([p], lr=lr).step()
    return p.detach().numpy().copy(), state


def adamw(w, dw, state, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    if "optimizer" not in state:
        p = torch.nn.Parameter(torch.tensor(w, dtype=torch.float64))
        state = {"p": p, "optimizer": torch.optim.AdamW([p], lr=lr, betas=(beta1, beta2), eps=eps,
                                                        weight_decay=weight_decay)}
    p = state["p"]
    with torch.no_grad():
        p.copy_(torch.tensor(w, dtype=torch.float64))
    p.grad = torch.tensor(dw, dtype=torch.float64)
    state["optimizer"].step()
    return p.detach().numpy().copy(), state
"""


def test_optimizers_built_on_torch_optim_earn_full_marks_in_the_students_process():
    """torch.optim works in the contained process (its first use writes a cache in the scratch
    folder), so an optimizer written with it is graded for what it computes."""
    from catalogue import assert_full_marks

    assert_full_marks("03_optimizers", "torch.optim in graded functions", TORCH_OPTIMIZERS)
