"""`make bench`: the kit's training pipeline against the seed-style ImageDataGenerator baseline.

Measured side by side in one process, on the same model, batch and augmentation settings:
  1. training throughput (images/s, steady state: the first epoch, which compiles, is excluded),
     kit (augmentation inside the compiled step) vs baseline (tf.keras ImageDataGenerator.flow
     feeding model.fit; on JAX the same numpy/scipy augmentation through a keras.utils.PyDataset);
  2. time to 0.92 / 0.93 / 0.95 test accuracy on full Fashion-MNIST and the accuracy at 60 s,
     wall time from the start of model building (compilation included);
  3. prediction throughput on 28,000 images with 1 and 8 TTA views;
  4. peak host memory (and device memory where the backend reports it).
Rows are appended to bench/results.csv and a section to bench/RESULTS.md.

    python bench/bench.py [--data DIR] [--budget SECONDS] [--throughput-images N]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# the kit before Keras: its TensorFlow settings (oneDNN kernels, quiet logs) apply only before TensorFlow loads
from kit import config, data, fileio  # noqa: E402, I001
import keras  # noqa: E402

from kit.config import competitions  # noqa: E402
from kit.data.pixels import Images  # noqa: E402
from kit.training import keras_kind  # noqa: E402
from kit.training import device as device_probe  # noqa: E402

HERE = Path(__file__).resolve().parent
AUGMENT = {"rotation_range": 10.0, "width_shift_range": 0.1, "height_shift_range": 0.1, "zoom_range": 0.1}


def bench_config(model: str, batch: int, epochs: int, extra=()) -> config.Config:
    overrides = [
        f"train.model={model}",
        f"train.batch_size={batch}",
        f"train.epochs={epochs}",
        "augment.horizontal_flip=true",
        *(f"augment.{k}={v}" for k, v in AUGMENT.items()),
        *extra,
    ]
    return competitions.load_config("fashion-mnist", overrides=overrides)


class EpochTimer(keras.callbacks.Callback):
    """Wall and process CPU seconds (every thread) of each epoch. On a shared machine other
    tenants change the wall time from one epoch to the next; the CPU time they hardly change."""

    def __init__(self):
        super().__init__()
        self.wall, self.cpu = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter(), time.process_time()

    def on_epoch_end(self, epoch, logs=None):
        self.wall.append(time.perf_counter() - self.start[0])
        self.cpu.append(time.process_time() - self.start[1])


def steady_throughput(fit_epochs, images_per_epoch: int) -> tuple[float, float]:
    """(images per wall second, images per CPU second) over every epoch but the first (which
    pays for tracing and compilation)."""
    timer = EpochTimer()
    fit_epochs(timer)
    epochs = len(timer.wall) - 1
    return images_per_epoch * epochs / sum(timer.wall[1:]), images_per_epoch * epochs / sum(timer.cpu[1:])


def kit_throughput(cfg, x, y) -> float:
    model = keras_kind.build_model(cfg)
    keras_kind.compile_model(model, cfg)
    onehot = keras.utils.to_categorical(y, cfg.num_classes)
    return steady_throughput(
        lambda timer: model.fit(x, onehot, batch_size=cfg.train.batch_size, epochs=3, verbose=0, callbacks=[timer]),
        len(x),
    )


def baseline_generator(cfg, x, y):
    """The seed projects' pipeline: ImageDataGenerator on the CPU, one numpy batch at a time."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        generator_class = tf.keras.preprocessing.image.ImageDataGenerator
    else:  # the same numpy/scipy implementation, without TensorFlow
        from keras.src.legacy.preprocessing.image import ImageDataGenerator as generator_class
    generator = generator_class(rescale=1 / 255.0, horizontal_flip=True, fill_mode="nearest", **AUGMENT)
    onehot = keras.utils.to_categorical(y, cfg.num_classes)
    flow = generator.flow(x.astype("float32"), onehot, batch_size=cfg.train.batch_size, seed=cfg.train.seed)
    if keras.backend.backend() == "tensorflow":
        return flow

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return len(flow)

        def __getitem__(self, index):
            return flow[index]

    return Batches()


def baseline_throughput(cfg, x, y) -> float:
    """The same network without the in-graph augmentation, fed by ImageDataGenerator."""
    spec_cfg = config.replace(cfg, augment={k: 0.0 for k in AUGMENT} | {"horizontal_flip": False})
    network = keras_kind.build_model(spec_cfg)  # Rescaling + network; the generator rescales too, so drop it
    model = keras.Model(network.layers[-1].input, network.layers[-1].output)
    keras_kind.compile_model(model, spec_cfg)
    batches = baseline_generator(cfg, x, y)
    return steady_throughput(lambda timer: model.fit(batches, epochs=3, verbose=0, callbacks=[timer]), len(x))


class TestAccuracy(keras.callbacks.Callback):
    """Test accuracy after every epoch against the wall clock since `start`."""

    def __init__(self, x, y, start, budget, target):
        super().__init__()
        self.x, self.y, self.start, self.budget, self.target = x, y, start, budget, target
        self.points = []

    def on_epoch_end(self, epoch, logs=None):
        probabilities = self.model.predict(self.x, batch_size=2048, verbose=0)
        accuracy = float((probabilities.argmax(1) == self.y).mean())
        self.points.append((time.perf_counter() - self.start, accuracy))
        print(f"  epoch {epoch + 1}: {self.points[-1][0]:.0f} s, test accuracy {accuracy:.4f}", flush=True)
        if accuracy >= self.target or self.points[-1][0] > self.budget:
            self.model.stop_training = True


def time_to_accuracy(cfg, train_set: Images, test_set: Images, budget: float) -> dict:
    start = time.perf_counter()
    model = keras_kind.build_model(cfg)
    steps = -(-len(train_set) // cfg.train.batch_size)
    keras_kind.compile_model(model, cfg, steps_per_epoch=steps)
    probe = TestAccuracy(test_set.images, test_set.labels, start, budget, target=0.95)
    onehot = keras.utils.to_categorical(train_set.labels, cfg.num_classes)
    model.fit(
        train_set.images, onehot, batch_size=cfg.train.batch_size, epochs=cfg.train.epochs, verbose=0, callbacks=[probe]
    )
    reached = {t: next((s for s, a in probe.points if a >= t), None) for t in (0.92, 0.93, 0.95)}
    at_60 = max((a for s, a in probe.points if s <= 60), default=None)
    return {
        "seconds_to_0.92": reached[0.92],
        "seconds_to_0.93": reached[0.93],
        "seconds_to_0.95": reached[0.95],
        "accuracy_at_60s": at_60,
        "best_accuracy": max(a for _, a in probe.points),
        "epochs_run": len(probe.points),
        "model": model,
    }


def prediction_throughput(model, cfg, images: np.ndarray) -> dict:
    rates = {}
    for views in (1, 8):
        wrapped = keras_kind.with_tta(model, config.replace(cfg, predict={"tta": views}))
        wrapped.predict(images[:2048], batch_size=1024, verbose=0)  # compile outside the clock
        start = time.perf_counter()
        wrapped.predict(images, batch_size=1024, verbose=0)
        rates[f"predict_images_per_s_tta{views}"] = len(images) / (time.perf_counter() - start)
    return rates


def device_peak_bytes():
    if keras.backend.backend() == "jax":
        import jax

        stats = jax.devices()[0].memory_stats() or {}
        return stats.get("peak_bytes_in_use")
    return None


def environment() -> dict:
    backend = keras.backend.backend()
    device = "cpu"
    if device_probe.has_gpu():
        import jax

        device = jax.devices()[0].device_kind if backend == "jax" else "gpu"
    return {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.node()} {os.cpu_count()} cpus",
        "device": device,
        "backend": backend,
        "keras": keras.__version__,
        "python": platform.python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        default=str(ROOT.parent / "shared" / "data" / "fashion-mnist"),
        help="full Fashion-MNIST in Kaggle's layout (default ../shared/data/fashion-mnist)",
    )
    parser.add_argument("--budget", type=float, default=900, help="seconds for the time-to-accuracy run")
    parser.add_argument("--throughput-images", type=int, default=12_000)
    parser.add_argument("--rounds", type=int, default=3, help="kit/baseline alternations of the throughput part")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--epochs", type=int, default=10, help="one-cycle length of the time-to-accuracy run")
    parser.add_argument("--learning-rate", type=float, default=0.003)
    parser.add_argument(
        "--parts",
        default="throughput,accuracy,predict",
        help="comma-separated: throughput, accuracy (time to accuracy), predict (TTA throughput)",
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))

    cfg = bench_config(args.model, args.batch, epochs=3, extra=[f"data.dir={args.data}"])
    loaded = data.load(cfg)
    row = environment() | {"model": args.model, "batch": args.batch}
    if "throughput" in parts:
        row |= compare_throughput(cfg, loaded.train, args.throughput_images, args.rounds)
    model = None
    if "accuracy" in parts:
        print(f"2. time to accuracy on {len(loaded.train)} training images (budget {args.budget:.0f} s)", flush=True)
        # the competition's own (lighter) augmentation and a one-cycle schedule sized to the epochs
        fast = competitions.load_config(
            "fashion-mnist",
            overrides=[
                f"data.dir={args.data}",
                f"train.model={args.model}",
                f"train.batch_size={args.batch}",
                f"train.epochs={args.epochs}",
                "train.schedule=onecycle",
                f"train.learning_rate={args.learning_rate}",
            ],
        )
        reached = time_to_accuracy(fast, loaded.train, loaded.test, args.budget)
        model = reached.pop("model")
        row |= reached
    if "predict" in parts:
        print("3. prediction throughput on 28,000 images", flush=True)
        if model is None:  # no time-to-accuracy run: an untrained network predicts as fast
            model = keras_kind.build_model(cfg)
        test_28k = np.resize(loaded.test.images, (28_000, *loaded.test.images.shape[1:]))
        row |= prediction_throughput(model, cfg, test_28k)
    row["peak_host_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_device = device_peak_bytes()
    row["peak_device_mb"] = peak_device / 2**20 if peak_device else None
    write_results(row)


def compare_throughput(cfg, images: Images, count: int, rounds: int) -> dict:
    """Kit and baseline alternated `rounds` times: best of each (a load change on a shared
    machine then hits both sides), the median of the rounds' ratios, and the same per CPU second."""
    x, y = images.images[:count], images.labels[:count]
    print(f"1. training throughput, {len(x)} images, batch {cfg.train.batch_size}, model {cfg.train.model}", flush=True)
    kit, baseline = [], []  # (per wall second, per CPU second) per round
    for number in range(rounds):
        kit.append(kit_throughput(cfg, x, y))
        baseline.append(baseline_throughput(cfg, x, y))
        print(
            f"   round {number + 1}: kit {kit[-1][0]:.0f}/s ({kit[-1][1]:.0f} per CPU s), "
            f"baseline {baseline[-1][0]:.0f}/s ({baseline[-1][1]:.0f} per CPU s)",
            flush=True,
        )
    kit_wall, kit_cpu = np.array(kit).T
    base_wall, base_cpu = np.array(baseline).T
    result = {
        "kit_images_per_s": kit_wall.max(),
        "baseline_images_per_s": base_wall.max(),
        "speedup": kit_wall.max() / base_wall.max(),
        "speedup_median_of_rounds": float(np.median(kit_wall / base_wall)),
        "kit_images_per_cpu_s": kit_cpu.max(),
        "baseline_images_per_cpu_s": base_cpu.max(),
        "speedup_per_cpu_s": kit_cpu.max() / base_cpu.max(),
    }
    print(
        f"   ratio {result['speedup']:.2f} (best of each), {result['speedup_median_of_rounds']:.2f} "
        f"(median of rounds), {result['speedup_per_cpu_s']:.2f} (per CPU second)",
        flush=True,
    )
    return result


def write_results(row: dict, csv_name: str = "results.csv", title: str = "") -> None:
    """Append `row` to bench/<csv_name> and a section (one line per measure) to RESULTS.md."""
    csv_path = HERE / csv_name
    frame = pd.DataFrame([row])
    if csv_path.exists():  # earlier rows may lack newer measures: align the columns by name
        frame = pd.concat([pd.read_csv(csv_path), frame], ignore_index=True)
    fileio.atomic_write(csv_path, frame.to_csv(index=False).encode())
    heading = (
        f"{row['date']} · {title + ' · ' if title else ''}{row['device']} · {row['backend']} · "
        f"Keras {row['keras']} · {row['machine']}"
    )
    lines = [f"\n## {heading}\n", "| measure | value |", "| --- | --- |"]
    for key, value in row.items():
        if key not in ("date", "machine", "device", "backend", "keras"):
            lines.append(f"| {key} | {format_value(value)} |")
    with open(HERE / "RESULTS.md", "a") as handle:
        handle.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def format_value(value) -> str:
    if value is None:
        return "n/a (not reached, or not reported by the backend)"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    main()
