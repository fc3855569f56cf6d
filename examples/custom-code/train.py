"""Your own PyTorch training loop on aijob (examples/custom-code; docs/workers.md).

Trains a small classifier on three clusters of points it makes itself, reports each
epoch, checkpoints after each epoch (a resumed attempt continues from the last one), and
saves the model as TorchScript so aijob's inference jobs and endpoints can load it.

    kubectl create configmap custom-code --from-file=examples/custom-code/train.py
    kubectl apply -f examples/custom-code/train.yaml
"""

import argparse
import json
import time

import torch
from aijob_worker import (
    checkpoint_dir,
    latest_checkpoint,
    model_dir,
    output_dir,
    report,
    save_checkpoint,
    save_model,
)
from torch import nn

FEATURES = ["x1", "x2", "x3", "x4"]
CLASSES = ["red", "green", "blue"]
CENTERS = torch.tensor([[2.0, 0.0, 0.0, 1.0], [-2.0, 1.0, 0.0, 0.0], [0.0, -2.0, 2.0, -1.0]])


def make_data(samples: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Points around three centres, labelled by their centre."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, len(CLASSES), (samples,), generator=generator)
    points = CENTERS[labels] + torch.randn(samples, len(FEATURES), generator=generator)
    return points, labels


def main() -> None:
    """Parse the arguments, train (resuming from a checkpoint), save the model."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--min-epoch-seconds",
        type=float,
        default=0.0,
        help="pace the epochs (to watch the progress, or to stop a job mid-run)",
    )
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    x, y = make_data(args.samples, args.seed)
    split = int(len(x) * 0.8)
    x_train, y_train, x_test, y_test = x[:split], y[:split], x[split:], y[split:]
    model = nn.Sequential(
        nn.Linear(len(FEATURES), args.hidden), nn.ReLU(), nn.Linear(args.hidden, len(CLASSES))
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_function = nn.CrossEntropyLoss()

    start = 0
    resume = latest_checkpoint()
    if resume is not None:
        state = torch.load(resume.directory / "state.pt", weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start = resume.epoch
        print(f"resuming after epoch {start}", flush=True)

    for epoch in range(start + 1, args.epochs + 1):
        began = time.monotonic()
        model.train()
        order = torch.randperm(len(x_train))
        total = 0.0
        for batch in order.split(64):
            optimizer.zero_grad()
            loss = loss_function(model(x_train[batch]), y_train[batch])
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(batch)
        model.eval()
        with torch.no_grad():
            accuracy = float((model(x_test).argmax(dim=1) == y_test).float().mean())
        state_file = checkpoint_dir() / "state.pt"
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, state_file)
        save_checkpoint(epoch)
        metrics = {"loss": total / len(x_train), "accuracy": accuracy}
        report(epoch=epoch, total_epochs=args.epochs, metrics=metrics)
        time.sleep(max(0.0, args.min_epoch_seconds - (time.monotonic() - began)))

    torch.jit.save(torch.jit.script(model), model_dir() / "model.pt")
    save_model(model_type="torchscript", metadata={"featureNames": FEATURES, "classNames": CLASSES})
    summary = {"epochs": args.epochs, "samples": args.samples, "features": FEATURES}
    (output_dir() / "summary.json").write_text(json.dumps(summary))


if __name__ == "__main__":
    main()
