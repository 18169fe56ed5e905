"""The capstone, timed: the reference network trained with the course's NumPy code, next to
the same network, data and schedule in PyTorch (optional: skipped without torch).

    python benchmarks/capstone.py [--repeat N]

Network 64-64-10 with ReLU, weights N(0, 0.01^2), zero biases; SGD with momentum 0.9,
learning rate 0.05, batches of 128 in the same shuffled order for both, 200 epochs.
Prints a Markdown table: held-out accuracies, CPU and wall time, and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from autograder.datasets import load_digits
from autograder.references import load_reference

EPOCHS, BATCH, LR, MOMENTUM, SCALE = 200, 128, 0.05, 0.9, 0.01


def initial_params(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"W1": rng.normal(size=(64, 64)) * SCALE, "b1": np.zeros(64),
            "W2": rng.normal(size=(64, 10)) * SCALE, "b2": np.zeros(10)}


def batch_orders(n: int, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.permutation(n) for _ in range(EPOCHS)]


def predict(params, X):
    return np.maximum(X @ params["W1"] + params["b1"], 0) @ params["W2"] + params["b2"]


def course_run(digits, orders):
    """The course's reference components: mlp_loss_and_grads (02) and sgd_momentum (03)."""
    mlp = load_reference("02_backprop").values["mlp_loss_and_grads"]
    step = load_reference("03_optimizers").values["sgd_momentum"]
    params, states = initial_params(), {}
    X, y = digits.train.X, digits.train.y
    for order in orders:
        for start in range(0, len(order), BATCH):
            batch = order[start:start + BATCH]
            _, grads = mlp(params, X[batch], y[batch])
            for name in params:
                params[name], states[name] = step(params[name], grads[name], states.get(name, {}),
                                                  lr=LR, momentum=MOMENTUM)
    return params


def torch_run(digits, orders):
    import torch

    start = initial_params()
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10)).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(start["W1"].T)), model[0].bias.zero_()
        model[2].weight.copy_(torch.from_numpy(start["W2"].T)), model[2].bias.zero_()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = torch.nn.CrossEntropyLoss()
    X, y = torch.from_numpy(digits.train.X), torch.from_numpy(digits.train.y)
    for order in orders:
        for begin in range(0, len(order), BATCH):
            batch = torch.from_numpy(order[begin:begin + BATCH])
            optimizer.zero_grad()
            loss_fn(model(X[batch]), y[batch]).backward()
            optimizer.step()
    return {"W1": model[0].weight.detach().numpy().T, "b1": model[0].bias.detach().numpy(),
            "W2": model[2].weight.detach().numpy().T, "b2": model[2].bias.detach().numpy()}


def timed(run, digits, orders):
    cpu, wall = time.process_time(), time.perf_counter()
    params = run(digits, orders)
    return params, time.process_time() - cpu, time.perf_counter() - wall


def accuracy(params, part) -> float:
    return float(np.mean(np.argmax(predict(params, part.X), axis=1) == part.y))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    digits = load_digits()
    orders = batch_orders(len(digits.train.y))
    runs = {"course (NumPy)": course_run}
    try:
        import torch

        torch.set_num_threads(2)
        runs["PyTorch 2.13 (CPU)"] = torch_run
    except ImportError:
        print("(PyTorch not installed: its row is skipped)")
    print("| implementation | validation accuracy | test accuracy | CPU time | wall time |")
    print("|---|---|---|---|---|")
    cpu_times = {}
    for name, run in runs.items():
        results = [timed(run, digits, orders) for _ in range(args.repeat)]
        params = results[0][0]
        cpu_times[name] = statistics.median(r[1] for r in results)
        wall = statistics.median(r[2] for r in results)
        print(f"| {name} | {accuracy(params, digits.validation):.1%} | {accuracy(params, digits.test):.1%} "
              f"| {cpu_times[name]:.2f} s | {wall:.2f} s |")
    if len(cpu_times) == 2:
        course, other = cpu_times.values()
        print(f"\nCPU time, course / PyTorch: {course / other:.2f}")


if __name__ == "__main__":
    main()
