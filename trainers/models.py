"""The models: ``linear``, ``mlp`` and a small ``cnn``, with readable parameter names.

Names are what parameter-group rules match against, so they read like the architecture:
``layers.0.weight`` ... ``head.bias`` for the MLP; ``convs.0.weight``, ``norms.0.weight`` ... for the
CNN (whose batch norms give ``no_decay_bias_norm`` something to find).
"""

import itertools
import os

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


# Bytes a run holds per model parameter, generously: float32 weights and their gradients, up to
# three optimizer state tensors per weight (Adam with amsgrad), and the checkpoint's serialised
# copy of weights and state (written after every epoch): 8 float32 copies.
BYTES_PER_PARAMETER = 8 * 4


def count_parameters(config: ModelConfig, input_shape: tuple[int, ...], output_size: int) -> int:
    """The parameters (and batch-norm buffers) :func:`build_model` would allocate, counted from the
    configuration alone, so that a model too large for this machine is refused before torch tries."""
    in_features = 1
    for size in input_shape:
        in_features *= size
    if config.name == "linear":
        return in_features * output_size + output_size
    if config.name == "mlp":
        widths = [in_features, *config.hidden]
        return sum(a * b + b for a, b in itertools.pairwise(widths)) + widths[-1] * output_size + output_size
    in_channels = input_shape[0] if input_shape else 1
    widths = [in_channels, *config.hidden]
    convs = sum(a * b * 9 + b for a, b in itertools.pairwise(widths))
    norms = sum(4 * b + 1 for b in config.hidden)  # weight, bias, running mean and var, the count
    return convs + norms + widths[-1] * output_size + output_size


def available_memory() -> int | None:
    """Bytes this process can still allocate (Linux: MemAvailable, within a cgroup's limit; elsewhere
    the physical memory), or None when the system does not say."""
    available = None
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    if available is None:
        try:
            available = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):  # Windows has no sysconf
            return None
    try:  # a container's limit is lower than what the machine has free
        with open("/sys/fs/cgroup/memory.max") as limit, open("/sys/fs/cgroup/memory.current") as used:
            text = limit.read().strip()
            if text != "max":
                available = min(available, int(text) - int(used.read().strip()))
    except (OSError, ValueError):
        pass
    return available


def check_model_fits(config: ModelConfig, input_shape: tuple[int, ...], output_size: int) -> int:
    """The model's parameter count; ConfigError naming it if it cannot fit in memory."""
    count = count_parameters(config, input_shape, output_size)
    needed = count * BYTES_PER_PARAMETER
    available = available_memory()
    if available is not None and needed > available:
        key = "model.name" if config.name == "linear" else "model.hidden"  # what makes it large
        raise ConfigError(f"{key}: this {config.name} has {count:,} parameters and needs about "
                          f"{_size_text(needed)} with its gradients, optimizer state and checkpoint; "
                          f"this machine has {_size_text(available)} available")
    return count


def _size_text(size: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if size < 1024 or unit == "PiB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def build_model(config: ModelConfig, input_shape: tuple[int, ...], output_size: int) -> nn.Module:
    """The model for data of ``input_shape`` (per sample) with ``output_size`` outputs; ConfigError
    (before anything is allocated) when it would not fit in memory."""
    in_features = 1
    for size in input_shape:
        in_features *= size
    if config.name == "cnn" and len(input_shape) != 3:
        raise ConfigError("model.name: cnn needs image data (digits, mnist, fashion_mnist); "
                          f"this dataset has {in_features} tabular features, use mlp")
    check_model_fits(config, input_shape, output_size)
    if config.name == "linear":
        return LinearModel(in_features, output_size)
    if config.name == "mlp":
        return MLP(in_features, list(config.hidden), output_size, config.activation)
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

