"""Can Qt open a window here? Answered before PySide6 is imported, so a missing system library
ends the start with one readable message instead of Qt's abort and core dump.

Qt's platform plugin (libqxcb.so for X11) and the PySide6 modules link system libraries that a
fresh Linux install may lack (libxcb-cursor0, libxcb-icccm4, ...). Qt then aborts with a hint
that names one library at a time. This module walks the ELF dependency tree of the pieces the
app loads, asks the dynamic loader for every system library in it, and turns what is missing
into the apt-get / dnf line that installs it all at once. It uses the standard library only.

The check never blocks a start it cannot judge: on another OS, without PySide6, or on any
unexpected error it reports no problem and lets Qt speak for itself.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import struct
import sys
from collections.abc import Mapping
from dataclasses import dataclass

# The PySide6 modules that the app and pyqtgraph import.
QT_MODULES = ("QtCore", "QtGui", "QtWidgets", "QtSvg", "QtOpenGL", "QtOpenGLWidgets")

# soname -> (Debian/Ubuntu package, Fedora package): every system library that PySide6 6.11's
# modules above and its platform plugins link directly.
PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb-glx.so.0": ("libxcb-glx0", "libxcb"),
    "libxcb-xinput.so.0": ("libxcb-xinput0", "libxcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd-opengl"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libz.so.1": ("zlib1g", "zlib"),
    "libzstd.so.1": ("libzstd1", "libzstd"),
    "libwayland-client.so.0": ("libwayland-client0", "libwayland-client"),
    "libwayland-cursor.so.0": ("libwayland-cursor0", "libwayland-cursor"),
    "libwayland-egl.so.1": ("libwayland-egl1", "libwayland-egl"),
    "libdrm.so.2": ("libdrm2", "libdrm"),
    "libgbm.so.1": ("libgbm1", "mesa-libgbm"),
    "libgssapi_krb5.so.2": ("libgssapi-krb5-2", "krb5-libs"),
    "libbrotlicommon.so.1": ("libbrotli1", "libbrotli"),
    "libbrotlidec.so.1": ("libbrotli1", "libbrotli"),
    "libstdc++.so.6": ("libstdc++6", "libstdc++"),
    "libgcc_s.so.1": ("libgcc-s1", "libgcc"),
    "libc.so.6": ("libc6", "glibc"),
    "libm.so.6": ("libc6", "glibc"),
    "libpthread.so.0": ("libc6", "glibc"),
    "libdl.so.2": ("libc6", "glibc"),
    "librt.so.1": ("libc6", "glibc"),
    "libresolv.so.2": ("libc6", "glibc"),
    "ld-linux-x86-64.so.2": ("libc6", "glibc"),
    "ld-linux-aarch64.so.1": ("libc6", "glibc"),
}

# Everything the modules and the xcb plugin link beyond the C runtime, for the README: the one
# line that prepares a fresh machine (tests/gui/test_preflight.py keeps it complete).
DEBIAN_PACKAGES = (
    "libdbus-1-3 libegl1 libfontconfig1 libfreetype6 libgl1 libglib2.0-0 libx11-6 libx11-xcb1 libxcb1 "
    "libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render0 "
    "libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0 "
    "libxcb-xkb1 libxkbcommon0 libxkbcommon-x11-0 libzstd1 zlib1g"
)
FEDORA_PACKAGES = (
    "dbus-libs fontconfig freetype glib2 libglvnd-egl libglvnd-glx libX11 libX11-xcb libxcb libxkbcommon "
    "libxkbcommon-x11 libzstd xcb-util xcb-util-cursor xcb-util-image xcb-util-keysyms "
    "xcb-util-renderutil xcb-util-wm zlib"
)
DEBIAN_INSTALL = f"sudo apt-get install {DEBIAN_PACKAGES}"
FEDORA_INSTALL = f"sudo dnf install {FEDORA_PACKAGES}"

# The display each windowing plugin connects to; Qt aborts when there is none.
DISPLAY_VARIABLES = {"xcb": "DISPLAY", "wayland": "WAYLAND_DISPLAY"}


# ----------------------------------------------------------------------------- ELF reading

PT_LOAD, PT_DYNAMIC = 1, 2
DT_NULL, DT_NEEDED, DT_STRTAB, DT_RPATH, DT_RUNPATH = 0, 1, 5, 15, 29


class ElfError(ValueError):
    """The file is not an ELF shared object this reader understands."""


@dataclass(frozen=True)
class DynamicSection:
    needed: tuple[str, ...]
    search_path: tuple[str, ...]  # RPATH or RUNPATH entries, $ORIGIN unexpanded


def read_dynamic_section(path: str | os.PathLike) -> DynamicSection:
    """DT_NEEDED and RPATH/RUNPATH of an ELF file, read as the dynamic loader does: through the
    program headers (PT_DYNAMIC, with string table addresses mapped by the PT_LOAD segments),
    which stay present when a library's section headers are stripped."""
    with open(path, "rb") as file:
        header = file.read(64)
        if len(header) < 52 or header[:4] != b"\x7fELF":
            raise ElfError(f"{path}: not an ELF file")
        is_64 = {1: False, 2: True}.get(header[4])
        order = {1: "<", 2: ">"}.get(header[5])
        if is_64 is None or order is None:
            raise ElfError(f"{path}: unknown ELF class or byte order")
        if is_64:
            phoff, = struct.unpack_from(order + "Q", header, 32)
            phentsize, phnum = struct.unpack_from(order + "HH", header, 54)
            phdr, dyn = order + "IIQQQQQQ", order + "qQ"
        else:
            phoff, = struct.unpack_from(order + "I", header, 28)
            phentsize, phnum = struct.unpack_from(order + "HH", header, 42)
            phdr, dyn = order + "IIIIIIII", order + "iI"
        if phentsize < struct.calcsize(phdr) or phnum == 0xFFFF:
            raise ElfError(f"{path}: unsupported program header table")
        file.seek(phoff)
        table = file.read(phentsize * phnum)
        loads, dynamic = [], None
        for index in range(phnum):
            fields = struct.unpack_from(phdr, table, index * phentsize)
            if is_64:
                p_type, _, p_offset, p_vaddr, _, p_filesz, _, _ = fields
            else:
                p_type, p_offset, p_vaddr, _, p_filesz, _, _, _ = fields
            if p_type == PT_LOAD:
                loads.append((p_vaddr, p_offset, p_filesz))
            elif p_type == PT_DYNAMIC:
                dynamic = (p_offset, p_filesz)
        if dynamic is None:
            return DynamicSection((), ())  # statically linked
        file.seek(dynamic[0])
        entries = file.read(dynamic[1])
        entries = entries[: len(entries) - len(entries) % struct.calcsize(dyn)]
        tags: list[tuple[int, int]] = []
        for tag, value in struct.iter_unpack(dyn, entries):
            if tag == DT_NULL:
                break
            tags.append((tag, value))
        values = dict(tags)
        if DT_STRTAB not in values:
            raise ElfError(f"{path}: dynamic section without a string table")
        strtab = _file_offset(values[DT_STRTAB], loads, path)
        # Only the few names are read: a Qt library's string table holds megabytes of symbols.
        needed = tuple(_string_at(file, strtab + value, path) for tag, value in tags if tag == DT_NEEDED)
        # The loader ignores RPATH when RUNPATH is present.
        path_tag = DT_RUNPATH if DT_RUNPATH in values else DT_RPATH
        search_path = tuple(entry for tag, value in tags if tag == path_tag
                            for entry in _string_at(file, strtab + value, path).split(":") if entry)
    return DynamicSection(needed, search_path)


def _string_at(file, offset: int, path) -> str:
    file.seek(offset)
    data = file.read(4096)  # longer than any soname or run path
    end = data.find(b"\0")
    if end < 0:
        raise ElfError(f"{path}: unterminated string at offset {offset}")
    return data[:end].decode("utf-8", "surrogateescape")


def _file_offset(address: int, loads: list[tuple[int, int, int]], path) -> int:
    for vaddr, offset, size in loads:
        if vaddr <= address < vaddr + size:
            return address - vaddr + offset
    raise ElfError(f"{path}: address {address:#x} lies in no loaded segment")


# ----------------------------------------------------------------------------- the check


@dataclass(frozen=True)
class Problem:
    """Why Qt cannot open a window with `platform`: libraries it cannot load, or no display."""

    platform: str
    missing: tuple[str, ...] = ()
    absent_display: str | None = None  # the variable that should name the display, when unset

    def message(self) -> str:
        lines = []
        if self.missing:
            lines += [f'OptiScope cannot start: Qt (platform "{self.platform}") needs system libraries '
                      f"that are missing: {', '.join(self.missing)}.", *install_lines(self.missing)]
        if self.absent_display:
            lines += [f"OptiScope cannot open its window: there is no display ({self.absent_display} "
                      "is not set).",
                      "Start it from a desktop session, under a virtual display (xvfb-run python main.py), "
                      "or without a visible window: QT_QPA_PLATFORM=offscreen python main.py"]
        return "\n".join(lines)


def install_lines(missing: tuple[str, ...] | list[str]) -> list[str]:
    """The apt-get and dnf commands that install `missing`, and a hint for each unknown soname."""
    known = [PACKAGES[name] for name in missing if name in PACKAGES]
    lines = []
    if known:
        debian = " ".join(dict.fromkeys(debian for debian, _ in known))
        fedora = " ".join(dict.fromkeys(fedora for _, fedora in known))
        lines += ["Install them with", f"  Debian/Ubuntu: sudo apt-get install {debian}",
                  f"  Fedora:        sudo dnf install {fedora}"]
    lines += [f"  {name}: find its package with `apt-file search {name}` or `dnf provides '*/{name}'`"
              for name in missing if name not in PACKAGES]
    return lines


def platform_candidates(environ: Mapping[str, str] | None = None) -> list[str]:
    """The platform plugins Qt 6 tries on Linux, in order (QGuiApplication's choice, options dropped)."""
    environ = os.environ if environ is None else environ
    requested = environ.get("QT_QPA_PLATFORM") or (
        "wayland;xcb" if environ.get("XDG_SESSION_TYPE") == "wayland" else "xcb")
    names = (entry.split(":", 1)[0].strip() for entry in requested.split(";"))
    return [name for name in dict.fromkeys(names) if name]


def missing_libraries(platform: str | None = None) -> list[str]:
    """Sonames of the system libraries that the app's Qt modules and the `platform` plugin (default:
    the first one Qt tries) need and that the dynamic loader cannot load."""
    walk, pieces = _walk_of(platform)
    return walk.missing(pieces) if pieces else []


def system_libraries(platform: str | None = None) -> list[str]:
    """Every system library the app's Qt modules and the `platform` plugin link, present or not."""
    walk, pieces = _walk_of(platform)
    return sorted(walk.system_libraries(pieces)) if pieces else []


def _walk_of(platform: str | None) -> tuple[_DependencyWalk | None, list[str] | None]:
    package = _pyside_directory() if sys.platform.startswith("linux") else None
    if package is None:
        return None, None
    platform = platform or next(iter(platform_candidates()), None)
    pieces = _qt_pieces(package, platform, os.environ) if platform else None
    return _DependencyWalk(package), pieces


def find_problem(environ: Mapping[str, str] | None = None) -> Problem | None:
    """None when Qt can open a window; otherwise what stands in its way."""
    environ = os.environ if environ is None else environ
    package = _pyside_directory() if sys.platform.startswith("linux") else None
    if package is None:
        return None  # another OS, or no PySide6: the import will explain that itself
    walk = _DependencyWalk(package)
    problems = []
    for platform in platform_candidates(environ):
        pieces = _qt_pieces(package, platform, environ)
        if pieces is None:
            return None  # a plugin this check cannot see: Qt will judge it
        problem = Problem(platform, tuple(walk.missing(pieces)), _absent_display(platform, environ))
        if not problem.missing and not problem.absent_display:
            return None  # Qt falls back along the list, so one usable candidate is enough
        problems.append(problem)
    if not problems:
        return None  # QT_QPA_PLATFORM names no plugin at all: Qt will say so
    # One message, for the candidate the user can fix by installing packages: the first that has a
    # display. ("wayland;xcb" over SSH with X forwarding has no Wayland display; its xcb libraries
    # are what is missing.) With no display anywhere, the first candidate speaks.
    return next((problem for problem in problems if not problem.absent_display), problems[0])


def startup_problem(environ: Mapping[str, str] | None = None) -> str | None:
    """None when the app can open its window; otherwise a short message for the terminal."""
    try:
        problem = find_problem(environ)
    except Exception:  # a check that fails must not stop a start that might work
        return None
    return problem.message() if problem else None


def _pyside_directory() -> str | None:
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    return next(iter(spec.submodule_search_locations))


def _qt_pieces(package: str, platform: str, environ: Mapping[str, str]) -> list[str] | None:
    """The app's PySide6 module files and the platform plugin, or None when Qt would not load the
    plugin from PySide6 (no such plugin, or one of the same name on a user-set plugin path)."""
    plugin_file = f"libq{platform}.so"
    user_plugin_paths = [os.path.join(folder, "platforms")
                         for folder in environ.get("QT_PLUGIN_PATH", "").split(":") if folder]
    user_plugin_paths.append(environ.get("QT_QPA_PLATFORM_PLUGIN_PATH", ""))
    if any(folder and os.path.isfile(os.path.join(folder, plugin_file)) for folder in user_plugin_paths):
        return None
    plugin = os.path.join(package, "Qt", "plugins", "platforms", plugin_file)
    if not os.path.isfile(plugin):
        return None
    files = sorted(os.listdir(package))
    modules = [next((f for f in files if f.startswith(f"{name}.") and f.endswith(".so")), None)
               for name in QT_MODULES]
    return [os.path.join(package, module) for module in modules if module] + [plugin]


def _absent_display(platform: str, environ: Mapping[str, str]) -> str | None:
    variable = DISPLAY_VARIABLES.get(platform)
    if variable is None or environ.get(variable):
        return None
    if platform == "wayland":
        # libwayland-client also takes an inherited socket, and falls back to wayland-0.
        runtime = environ.get("XDG_RUNTIME_DIR")
        if environ.get("WAYLAND_SOCKET") or (runtime and os.path.exists(os.path.join(runtime, "wayland-0"))):
            return None
    return variable


class _DependencyWalk:
    """Follows DT_NEEDED through PySide6's bundled libraries and tries each system library with
    dlopen; each file is read and each library tried once, however many candidates share them."""

    def __init__(self, package: str):
        self.bundled_folders = [os.path.join(package, "Qt", "lib"), package]
        shiboken = importlib.util.find_spec("shiboken6")
        if shiboken and shiboken.submodule_search_locations:
            self.bundled_folders += list(shiboken.submodule_search_locations)
        self.dependencies: dict[str, list[tuple[str, str | None]]] = {}
        self.listings: dict[str, set[str]] = {}
        self.loadable: dict[str, bool] = {}

    def system_libraries(self, pieces: list[str]) -> set[str]:
        """The sonames outside PySide6 that `pieces` and the bundled libraries they pull in need."""
        system, visited, pending = set(), set(), list(pieces)
        while pending:
            path = os.path.normpath(pending.pop())
            if path in visited:
                continue
            visited.add(path)
            for name, bundled in self._dependencies_of(path):
                if bundled:
                    pending.append(bundled)
                else:
                    system.add(name)
        return system

    def missing(self, pieces: list[str]) -> list[str]:
        return sorted(name for name in self.system_libraries(pieces) if not self._loads(name))

    def _dependencies_of(self, path: str) -> list[tuple[str, str | None]]:
        """Each soname `path` needs, with the bundled file it resolves to (None: a system library)."""
        if path not in self.dependencies:
            dynamic = read_dynamic_section(path)
            origin = os.path.dirname(path)
            search = [entry.replace("${ORIGIN}", origin).replace("$ORIGIN", origin)
                      for entry in dynamic.search_path] + self.bundled_folders
            self.dependencies[path] = [
                (name, next((os.path.join(folder, name) for folder in search
                             if name in self._listing(folder)), None))
                for name in dynamic.needed]
        return self.dependencies[path]

    def _listing(self, folder: str) -> set[str]:
        folder = os.path.normpath(folder)
        if folder not in self.listings:
            try:
                self.listings[folder] = {entry.name for entry in os.scandir(folder) if entry.is_file()}
            except OSError:
                self.listings[folder] = set()
        return self.listings[folder]

    def _loads(self, name: str) -> bool:
        if name not in self.loadable:
            try:
                ctypes.CDLL(name)
                self.loadable[name] = True
            except OSError:  # not found, or found but unusable (a broken file, another architecture)
                self.loadable[name] = False
        return self.loadable[name]
