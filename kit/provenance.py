"""What made a result, recorded beside every run and submission for `make reproduce`: the git
commit, the versions of the libraries that change a model's numbers, the Keras backend, the device
and the CPUs, and for a run the dtype policy it trained under."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys

from kit import paths


def git_commit() -> str:
    """The repository's HEAD commit (with '+dirty' when there are local changes), or ''.

    A kernel bundle has no .git: its runner passes the commit it was built from as KIT_GIT_COMMIT."""
    if os.environ.get("KIT_GIT_COMMIT"):
        return os.environ["KIT_GIT_COMMIT"]
    try:
        head = subprocess.run(
            ["git", "-C", str(paths.ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(paths.ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return f"{head}+dirty" if head and dirty else head


# the libraries whose versions change a model's numbers; each with the distributions it ships as
LIBRARIES = {
    "numpy": ("numpy",),
    "keras": ("keras",),
    "keras-hub": ("keras-hub",),  # a KerasHub backbone's code and preset loading
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tf-nightly"),
    "jax": ("jax",),
    "jaxlib": ("jaxlib",),
    "scikit-learn": ("scikit-learn",),
    "imbalanced-learn": ("imbalanced-learn",),
    "pandas": ("pandas",),
}


def library_versions() -> dict[str, str]:
    """Python's version and each installed library's (read from package metadata: nothing imported)."""
    versions = {"python": platform.python_version()}
    for name, distributions in LIBRARIES.items():
        for distribution in distributions:
            try:
                versions[name] = importlib.metadata.version(distribution)
                break
            except importlib.metadata.PackageNotFoundError:
                continue
    return versions


def environment(precision: str | None = None) -> dict:
    """What a result depends on besides data, code and seeds: versions, backend, device, CPUs, and
    for a run the Keras dtype policy its networks trained under (a fit's, not the process's: the
    fit restores the policy before it, kit.training.device)."""
    found = {
        "versions": library_versions(),
        "keras_backend": keras_backend(),
        "device": device(),
        "cpus": os.cpu_count(),
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset"),  # TensorFlow's CPU kernels (kit/__init__.py)
        "platform": f"{platform.system()} {platform.machine()}",
    }
    return found | ({"precision": precision} if precision else {})


def keras_backend() -> str:
    """The backend Keras runs (or would run) on, without importing Keras for it."""
    keras = sys.modules.get("keras")
    if keras is not None:
        return keras.backend.backend()
    return os.environ.get("KERAS_BACKEND", "tensorflow")


def device() -> str:
    """'gpu' when the backend already running sees one ('2 x gpu' for two: data-parallel runs
    differ with the count, kit.training.distribute), else 'cpu' (scikit-learn runs never start a
    backend, and need none)."""
    backend = keras_backend()
    gpus = 0
    if backend == "jax" and "jax" in sys.modules:
        jax = sys.modules["jax"]
        gpus = jax.local_device_count() if jax.default_backend() == "gpu" else 0
    if backend == "tensorflow" and "tensorflow" in sys.modules:
        gpus = len(sys.modules["tensorflow"].config.list_physical_devices("GPU"))
    return "cpu" if not gpus else "gpu" if gpus == 1 else f"{gpus} x gpu"


def stamp() -> dict:
    """The provenance a submission record carries: the commit and the environment it was made in."""
    return {"git_commit": git_commit(), "environment": environment()}
