"""For the PyTorch peers (bench/fastai_peer.py, bench/timm_peer.py), run by the peer venv's python."""

import importlib.util
from pathlib import Path

import torch


def torchvision_without_ops() -> None:
    """PyPI's torchvision wheel for Linux is built against CUDA torch: beside the CPU torch wheel
    its C extension (nms, roi_align: detection only) cannot load, and `import torchvision` then
    fails registering fake kernels ("operator torchvision::nms does not exist"). Declaring the two
    operators it registers unconditionally lets it import; nothing here calls them."""
    spec = importlib.util.find_spec("torchvision")
    try:
        torch.ops.load_library(str(Path(spec.submodule_search_locations[0]) / "_C.so"))
    except OSError:
        library = torch.library.Library("torchvision", "DEF")
        library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        library.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        torchvision_without_ops.library = library  # the declarations live as long as the library
