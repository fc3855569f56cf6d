"""Your own distributed (DDP) PyTorch training on aijob (examples/custom-code; docs/workers.md).

aijob starts this script once per process with torchrun (`spec.distributed`), which sets
RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT. Each rank trains on its own
share of the data (DistributedSampler), DDP averages the gradients (gloo on CPU, nccl on
GPUs), and every rank reports its progress (each shows in `status.ranks`). aijob's
functions are rank-aware: only rank 0's checkpoints, model and outputs are kept, so the
script calls them on every rank like a single-process script would.

    kubectl create configmap ddp-code --from-file=examples/custom-code/ddp-train.py
    kubectl apply -f examples/custom-code/ddp-train.yaml
"""

import argparse
import os
import time

import torch
import torch.distributed as dist
from aijob_worker import (
    checkpoint_dir,
    latest_checkpoint,
    model_dir,
    report,
    save_checkpoint,
    save_model,
)
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

FEATURES = ["x1", "x2", "x3", "x4"]
CLASSES = ["red", "green", "blue"]
CENTERS = torch.tensor([[2.0, 0.0, 0.0, 1.0], [-2.0, 1.0, 0.0, 0.0], [0.0, -2.0, 2.0, -1.0]])


def make_data(samples: int, seed: int) -> TensorDataset:
    """Points around three centres, labelled by their centre (the same on every rank)."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, len(CLASSES), (samples,), generator=generator)
    points = CENTERS[labels] + 1.5 * torch.randn(samples, len(FEATURES), generator=generator)
    return TensorDataset(points, labels)


def main() -> None:
    """Join the group, train with DDP (resuming from rank 0's checkpoint), save the model."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--min-epoch-seconds",
        type=float,
        default=0.0,
        help="pace the epochs (to watch the progress, or to stop a job mid-run)",
    )
    args = parser.parse_args()

    use_cuda = torch.cuda.is_available()
    dist.init_process_group("nccl" if use_cuda else "gloo")
    rank, world_size = dist.get_rank(), dist.get_world_size()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device(f"cuda:{local_rank}" if use_cuda else "cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    print(f"rank {rank} of {world_size} on {device}", flush=True)

    torch.manual_seed(args.seed)  # the same initial weights on every rank
    model = nn.Sequential(
        nn.Linear(len(FEATURES), args.hidden), nn.ReLU(), nn.Linear(args.hidden, len(CLASSES))
    ).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    start = 0
    resume = latest_checkpoint()  # rank 0's last checkpoint, fetched by every rank
    if resume is not None:
        state = torch.load(resume.directory / "state.pt", weights_only=True, map_location=device)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start = resume.epoch
        print(f"rank {rank} resuming after epoch {start}", flush=True)
    ddp = DistributedDataParallel(model, device_ids=[local_rank] if use_cuda else None)

    data = make_data(args.samples, args.seed)
    sampler = DistributedSampler(data, num_replicas=world_size, rank=rank, seed=args.seed)
    loader = DataLoader(data, batch_size=args.batch_size, sampler=sampler)
    loss_function = nn.CrossEntropyLoss()

    for epoch in range(start + 1, args.epochs + 1):
        began = time.monotonic()
        sampler.set_epoch(epoch)
        ddp.train()
        totals = torch.zeros(3, device=device)  # loss sum, correct, samples (this rank)
        for points, labels in loader:
            points, labels = points.to(device), labels.to(device)
            optimizer.zero_grad()
            logits = ddp(points)
            loss = loss_function(logits, labels)
            loss.backward()
            optimizer.step()
            totals += torch.stack(
                [
                    loss.detach() * len(labels),
                    (logits.argmax(dim=1) == labels).sum().float(),
                    torch.tensor(float(len(labels)), device=device),
                ]
            )
        rank_loss, rank_samples = float(totals[0] / totals[2]), float(totals[2])
        dist.all_reduce(totals)  # the whole group's figures
        metrics = {
            "loss": float(totals[0] / totals[2]),
            "accuracy": float(totals[1] / totals[2]),
            "samples": float(totals[2]),
            "rank_loss": rank_loss,  # this rank's own share
            "rank_samples": rank_samples,
        }

        state_file = checkpoint_dir() / "state.pt"
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, state_file)
        save_checkpoint(epoch)  # kept from rank 0 only
        report(epoch=epoch, total_epochs=args.epochs, metrics=metrics)
        time.sleep(max(0.0, args.min_epoch_seconds - (time.monotonic() - began)))

    scripted = torch.jit.script(model.cpu())
    torch.jit.save(scripted, model_dir() / "model.pt")
    save_model(model_type="torchscript", metadata={"featureNames": FEATURES, "classNames": CLASSES})
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
