"""Pictures of widgets written as files, whole or not at all.

Qt's own ``QImage.save(path)`` and ``QSvgGenerator.setFileName`` write straight into the target: on
a full disk they leave a truncated file where a good one was, and report success (SVG) or a
misleading "unknown image type" (PNG). Here the picture is encoded in memory first and then goes
through the one atomic writer, so a failure names its real cause and the old file stays intact.
"""

import os
from collections.abc import Callable

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRect, QSize
from PySide6.QtGui import QImage, QImageWriter, QPainter, QPixmap
from PySide6.QtSvg import QSvgGenerator

from simulator.atomic import write_bytes_atomically
from simulator.errors import SimulatorError

VECTOR_SUFFIX = "svg"


def image_format(path) -> str:
    """The raster or vector format a file name asks for (its suffix); refuses one Qt cannot write."""
    suffix = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
    if suffix == VECTOR_SUFFIX:
        return suffix
    writable = {bytes(name).decode().lower() for name in QImageWriter.supportedImageFormats()}
    if suffix not in writable:
        raise SimulatorError(f"cannot write '{os.fspath(path)}': unknown image type "
                             f"'.{suffix}' (use .png or .svg)" if suffix else
                             f"cannot write '{os.fspath(path)}': no image type (use .png or .svg)")
    return suffix


def raster_bytes(picture: QImage | QPixmap, image_type: str) -> bytes:
    """``picture`` encoded as ``image_type`` ("png", "jpg", ...)."""
    if picture.isNull():
        raise SimulatorError("the picture is empty: its view has no size yet")
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    encoded = picture.save(buffer, image_type.upper())
    buffer.close()
    if not encoded:
        raise SimulatorError(f"the picture could not be encoded as {image_type.upper()}")
    return bytes(data.data())


def svg_bytes(size: QSize, draw: Callable[[QPainter], None], title: str) -> bytes:
    """The SVG that ``draw(painter)`` paints on a canvas of ``size``."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(size)
    generator.setViewBox(QRect(0, 0, size.width(), size.height()))
    generator.setTitle(title)
    painter = QPainter(generator)
    try:
        draw(painter)
    finally:
        painter.end()
        buffer.close()
    return bytes(data.data())


def save_widget_picture(widget, path, title: str = "OptiScope") -> None:
    """What ``widget`` shows, as the raster image or SVG its file name asks for; SimulatorError
    says why not."""
    path = os.fspath(path)
    image_type = image_format(path)
    if image_type == VECTOR_SUFFIX:
        data = _encoded(path, lambda: svg_bytes(widget.size(), widget.render, title))
    else:
        data = _encoded(path, lambda: raster_bytes(widget.grab(), image_type))
    write_bytes_atomically(path, data, suffix=f".{image_type}.tmp")


def _encoded(path: str, encode: Callable[[], bytes]) -> bytes:
    try:
        return encode()
    except SimulatorError as error:
        raise SimulatorError(f"cannot write '{path}': {error}") from None
