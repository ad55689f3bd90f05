"""The model registry itself: `register` adds a factory under a name, `REGISTRY` holds them.

    @register("cnn")
    def cnn(input_shape, num_classes, width=1.0, dropout=0.25) -> keras.Model: ...

    @register("mobilenetv2", pretrained=MOBILENETV2)  # where its weights come from (kit.models.pretrained)
    def mobilenetv2(input_shape, num_classes, width=1.0, dropout=0.2, weights="none") -> keras.Model: ...

Each entry carries what a consumer needs to know about its model (timm's pretrained_cfg, in
small): its kind (which training interface fits it) and, for a pretrained backbone, where the
weights come from. Training, fine-tuning, the embedding baselines, kernels and `make models` all
read these fields; none recognises a model by its name, its layers or its signature.

Keras factories take float images in 0..1 and end in a float32 softmax; the kit adds input
scaling and augmentation around them. An unknown name is an error listing the known ones.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

SOURCES = ("keras.applications", "kerashub")


@dataclass(frozen=True)
class Pretrained:
    """Where a model's pretrained weights come from.

    source "keras.applications": `file` is the no-top weights file Keras caches in
    `$KERAS_HOME/models` (`{rows}` in it stands for the input size, one of `sizes`; other sizes
    read the largest), `url` the folder it is published in, `backbone` the name keras.applications
    gives the nested base model (the part fine-tuning unfreezes).
    source "kerashub": `preset` is a KerasHub preset and `handle` its Kaggle Models handle
    (kaggle://keras/...), which a kernel attaches as a model source.
    `input_size`: the side the backbone always sees (the embedding baselines resize to 96);
    None = the data's own size.

    >>> MOBILENET = Pretrained("keras.applications", "mobilenetv2", file="m_{rows}.h5", url="u/", sizes=(96, 224))
    >>> MOBILENET.file_for((96, 96, 3)), MOBILENET.file_for((100, 100, 3))
    ('m_96.h5', 'm_224.h5')
    """

    source: Literal["keras.applications", "kerashub"]
    backbone: str
    file: str = ""
    url: str = ""
    sizes: tuple[int, ...] = ()
    preset: str = ""
    handle: str = ""
    input_size: int | None = None

    def __post_init__(self):
        if self.source not in SOURCES:
            raise ValueError(f"pretrained source '{self.source}': one of {', '.join(SOURCES)}")
        if self.source == "keras.applications" and not (self.file and self.url):
            raise ValueError(f"{self.backbone}: keras.applications weights need their file name and url")
        if self.source == "kerashub" and not self.preset:
            raise ValueError(f"{self.backbone}: KerasHub weights need their preset name")
        if "{rows}" in self.file and not self.sizes:
            raise ValueError(f"{self.backbone}: a file name with {{rows}} needs the sizes it exists for")

    def file_for(self, input_shape) -> str:
        """The weights file for a backbone input of `input_shape` (rows, cols, channels)."""
        rows = input_shape[0] if input_shape[0] in self.sizes else max(self.sizes, default=0)
        return self.file.format(rows=rows)

    def url_for(self, input_shape) -> str:
        return self.url + self.file_for(input_shape)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    factory: Callable
    kind: Literal["keras", "sklearn"]  # picks the training interface (kit.training.kinds)
    summary: str
    pretrained: Pretrained | None = None  # where its pretrained weights come from; None: none

    def build(
        self,
        input_shape,
        num_classes: int,
        width: float = 1.0,
        dropout: float = 0.0,
        weights: str = "none",
        image_size: int = 0,
    ):
        """The factory's model; `weights` (train.weights) reaches only a model with pretrained
        weights, `image_size` (train.image_size) only a KerasHub backbone (0: the preset's size)."""
        extra = {"weights": weights} if self.pretrained else {}
        if self.pretrained and self.pretrained.source == "kerashub":
            extra["image_size"] = image_size
        return self.factory(input_shape, num_classes, width=width, dropout=dropout, **extra)


REGISTRY: dict[str, ModelSpec] = {}


def first_sentence(doc: str) -> str:
    """A docstring's first sentence on one line, however many lines it spans (a summary cut at a line
    end read as a list that stops mid-way).

    >>> first_sentence("Small CNN: two blocks; a\n    dense layer. Trains fast.\n\n    More.")
    'Small CNN: two blocks; a dense layer.'
    """
    paragraph = " ".join(doc.strip().split("\n\n")[0].split())
    return re.split(r"(?<=[.;])\s+(?=[A-Z])", paragraph)[0]


def register(
    name: str, kind: Literal["keras", "sklearn"] = "keras", pretrained: Pretrained | None = None
) -> Callable[[Callable], Callable]:
    """Decorator: add a factory to the registry under `name` (its docstring's first sentence = summary);
    a factory with `pretrained` weights takes a `weights` argument (train.weights)."""

    def add(factory: Callable) -> Callable:
        if name in REGISTRY and REGISTRY[name].factory is not factory:
            raise ValueError(f"model '{name}' is registered twice")
        if pretrained and "weights" not in inspect.signature(factory).parameters:
            raise ValueError(f"model '{name}': a factory with pretrained weights takes `weights`")
        summary = first_sentence(factory.__doc__ or "")
        REGISTRY[name] = ModelSpec(name, factory, kind, summary, pretrained)
        return factory

    return add
