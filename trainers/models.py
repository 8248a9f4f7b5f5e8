"""The models: ``linear``, ``mlp`` and a small ``cnn``, with readable parameter names.

Names are what parameter-group rules match against, so they read like the architecture:
``layers.0.weight`` ... ``head.bias`` for the MLP; ``convs.0.weight``, ``norms.0.weight`` ... for the
CNN (whose batch norms give ``no_decay_bias_norm`` something to find).
"""

import itertools

from torch import nn

from trainers.config import ModelConfig
from trainers.errors import ConfigError

ACTIVATION_MODULES = {
    "relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "sigmoid": nn.Sigmoid,
    "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "silu": nn.SiLU, "softplus": nn.Softplus,
    "identity": nn.Identity,
}
NORM_LAYERS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm, nn.GroupNorm)


class LinearModel(nn.Module):
    """A single affine map (logistic or linear regression)."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.head = nn.Linear(in_features, out_features)

    def forward(self, x):
        return self.head(x.flatten(1))


class MLP(nn.Module):
    def __init__(self, in_features: int, hidden: list[int], out_features: int, activation: str):
        super().__init__()
        widths = [in_features, *hidden]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(widths))
        self.activation = ACTIVATION_MODULES[activation]()
        self.head = nn.Linear(widths[-1], out_features)

    def forward(self, x):
        x = x.flatten(1)
        for layer in self.layers:
            x = self.activation(layer(x))
        return self.head(x)


class CNN(nn.Module):
    """3×3 convolutions with batch norm, halving the resolution while it is at least 4 pixels,
    then global average pooling and a linear head."""

    def __init__(self, input_shape: tuple[int, int, int], channels: list[int], out_features: int,
                 activation: str):
        super().__init__()
        in_channels, height, width = input_shape
        widths = [in_channels, *channels]
        self.convs = nn.ModuleList(nn.Conv2d(a, b, kernel_size=3, padding=1)
                                   for a, b in itertools.pairwise(widths))
        self.norms = nn.ModuleList(nn.BatchNorm2d(b) for b in channels)
        self.activation = ACTIVATION_MODULES[activation]()
        self.pool_after = []
        for _ in channels:
            halve = min(height, width) >= 4
            self.pool_after.append(halve)
            if halve:
                height, width = height // 2, width // 2
        self.head = nn.Linear(widths[-1], out_features)

    def forward(self, x):
        for conv, norm, halve in zip(self.convs, self.norms, self.pool_after, strict=True):
            x = self.activation(norm(conv(x)))
            if halve:
                x = nn.functional.max_pool2d(x, 2)
        return self.head(x.mean(dim=(2, 3)))


def build_model(config: ModelConfig, input_shape: tuple[int, ...], output_size: int) -> nn.Module:
    """The model for data of ``input_shape`` (per sample) with ``output_size`` outputs."""
    in_features = 1
    for size in input_shape:
        in_features *= size
    if config.name == "linear":
        return LinearModel(in_features, output_size)
    if config.name == "mlp":
        return MLP(in_features, list(config.hidden), output_size, config.activation)
    if len(input_shape) != 3:
        raise ConfigError("model.name: cnn needs image data (digits, mnist, fashion_mnist); "
                          f"this dataset has {in_features} tabular features, use mlp")
    return CNN(input_shape, list(config.hidden), output_size, config.activation)


def is_bias_or_norm(model: nn.Module, parameter_name: str) -> bool:
    """True for biases and the weights of normalisation layers (the usual no-weight-decay set)."""
    module_name, _, leaf = parameter_name.rpartition(".")
    if leaf == "bias":
        return True
    module = model.get_submodule(module_name) if module_name else model
    return isinstance(module, NORM_LAYERS)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def loss_for(task: str) -> nn.Module:
    return nn.CrossEntropyLoss() if task == "classification" else nn.MSELoss()

