"""Training metrics as a tidy table: one row per (epoch, step, metric, value).

Metric names: ``train_loss``, ``grad_norm``, ``lr/<group>`` per optimizer step; ``val_loss`` and
``val_accuracy`` (classification) per epoch. Values are written with ``repr`` so a CSV read back
gives the very same floats.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field

from trainers.errors import ConfigError
from trainers.files import write_text_atomically

HEADER = ("epoch", "step", "metric", "value")


@dataclass
class MetricsLog:
    rows: list[tuple[int, int, str, float]] = field(default_factory=list)

    def add(self, epoch: int, step: int, metric: str, value: float) -> None:
        self.rows.append((epoch, step, metric, float(value)))

    def series(self, metric: str) -> tuple[list[int], list[float]]:
        """(steps, values) of one metric, in logging order."""
        steps, values = [], []
        for _, step, name, value in self.rows:
            if name == metric:
                steps.append(step)
                values.append(value)
        return steps, values

    def metric_names(self) -> list[str]:
        return list(dict.fromkeys(name for _, _, name, _ in self.rows))

    def to_csv_text(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows((epoch, step, name, repr(value)) for epoch, step, name, value in self.rows)
        return out.getvalue()

    def write_csv(self, path) -> None:
        write_text_atomically(path, self.to_csv_text())


def read_metrics_csv(path) -> MetricsLog:
    """Read a metrics CSV written by :meth:`MetricsLog.write_csv`; a malformed file is a ConfigError."""
    path = os.fspath(path)
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None or tuple(header) != HEADER:
                raise ConfigError(f"'{path}' is not a metrics CSV (expected header {','.join(HEADER)})")
            log = MetricsLog()
            for line, row in enumerate(reader, start=2):
                try:
                    epoch, step, name, value = row
                    log.add(int(epoch), int(step), name, float(value))
                except ValueError:
                    raise ConfigError(f"'{path}' line {line}: expected epoch,step,metric,value, "
                                      f"got {','.join(row)!r}") from None
    except OSError as error:
        raise ConfigError(f"cannot read '{path}': {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"'{path}' is not a text file") from None
    return log

