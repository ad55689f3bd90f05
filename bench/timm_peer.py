"""The timm + PyTorch side of `bench/finetune.py`: fine-tuning steps of a timm model over
in-memory pixels, run by the peer venv's python (bench/fastai-peer.txt; never a dependency of the kit).

    <peer venv>/bin/python bench/timm_peer.py resnet18 --precision bfloat16 --batch 32 --steps 8

The idiomatic fastest CPU settings: `torch.set_num_threads` to the cores, the model and every
batch in channels_last, bf16 `torch.autocast` when the precision is bfloat16 (the kit's
mixed_bfloat16: float32 weights, bfloat16 compute), optionally `torch.compile` (`--compile`).
Random weights (`pretrained=False`: no network here), a new 10-class head with dropout 0.2
(the kit's head), every layer trainable except BatchNorm, which is frozen in inference mode as
the kit fine-tunes (kit.training.fine_tune); Adam at 1e-4 on cross-entropy. Data: uint8 pixels
in memory, a shuffled batch gathered per step, scaled to 0..1 and normalised with ImageNet's
mean and std inside the step (the kit's model does the same in its first layers).

Two warm-up steps, then `--steps` timed. The last line printed is the result:

    RESULT {"images_per_s": ..., "peak_rss_mb": ..., ...}

`peak_rss_mb` is this process's resident-set high-water mark (getrusage ru_maxrss).
"""

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run with -I: the sibling helper
from torchvision_fix import torchvision_without_ops  # noqa: E402

torchvision_without_ops()  # timm imports torchvision
import timm  # noqa: E402

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)  # timm's IMAGENET_DEFAULT_MEAN / STD


def freeze_batchnorm(model: nn.Module) -> None:
    """BatchNorm in inference mode with its scale and offset frozen: the kit's fine-tuning rule."""
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.eval()
            for parameter in module.parameters():
                parameter.requires_grad_(False)


def main() -> None:
    parser = argparse.ArgumentParser(description="timm fine-tuning steps, the bench's peer")
    parser.add_argument("model", help="a timm model name (resnet18, efficientnet_b0, ...)")
    parser.add_argument("--precision", choices=("float32", "bfloat16"), default="bfloat16")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--compile", action="store_true", help="torch.compile the model (inductor)")
    args = parser.parse_args()
    torch.manual_seed(42)
    torch.set_num_threads(os.cpu_count())
    model = timm.create_model(args.model, pretrained=False, num_classes=10, drop_rate=0.2)
    model = model.to(memory_format=torch.channels_last).train()
    freeze_batchnorm(model)
    step_model = torch.compile(model) if args.compile else model
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    rows = args.batch * 4  # a pool of images to draw shuffled batches from
    pixels = torch.randint(0, 256, (rows, 3, args.size, args.size), dtype=torch.uint8)
    pixels = pixels.contiguous(memory_format=torch.channels_last)
    labels = torch.randint(0, 10, (rows,))
    mean = torch.tensor(MEAN).view(1, 3, 1, 1) * 255
    std = torch.tensor(STD).view(1, 3, 1, 1) * 255
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bfloat16")

    def step() -> float:
        index = torch.randint(0, rows, (args.batch,))
        x = ((pixels[index].float() - mean) / std).contiguous(memory_format=torch.channels_last)
        with autocast:
            loss = loss_fn(step_model(x), labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    started = time.perf_counter()
    for _ in range(2):  # warm-up: allocator, oneDNN primitives, torch.compile's compilation
        step()
    warm, cpu = time.perf_counter(), time.process_time()
    for _ in range(args.steps):
        loss = step()
    seconds, cpu_seconds = time.perf_counter() - warm, time.process_time() - cpu
    result = {
        "images_per_s": round(args.batch * args.steps / seconds, 3),
        "images_per_cpu_s": round(args.batch * args.steps / cpu_seconds, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "warmup_s": round(warm - started, 1),
        "loss": round(loss, 4),
        "torch": torch.__version__,
        "timm": timm.__version__,
        "threads": torch.get_num_threads(),
    }
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
