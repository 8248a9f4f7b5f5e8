"""The start-up check: a machine without Qt's system libraries, or without a display, gets one
readable message and exit status 1 from `python main.py`, never Qt's abort."""

import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from gui import preflight

ROOT = Path(__file__).resolve().parents[2]
PYSIDE = Path(preflight._pyside_directory() or "")
XCB_PLUGIN = PYSIDE / "Qt" / "plugins" / "platforms" / "libqxcb.so"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the check is Linux-only")

C_RUNTIME_PACKAGES = {"libc6", "libstdc++6", "libgcc-s1", "glibc", "libstdc++", "libgcc"}


def fake_elf(is_64: bool, order: str, needed: list[str], runpath: str | None = None) -> bytes:
    """A minimal shared object: one PT_LOAD mapping the file at 0x10000, a PT_DYNAMIC, a string table."""
    base = 0x10000
    header_size, phentsize = (64, 56) if is_64 else (52, 32)
    strings = b"\0" + b"".join(name.encode() + b"\0" for name in [*needed, *([runpath] if runpath else [])])
    offsets = [1 + sum(len(n) + 1 for n in needed[:i]) for i in range(len(needed) + 1)]
    tags = [(1, offset) for offset in offsets[: len(needed)]]
    if runpath:
        tags.append((29, offsets[len(needed)]))
    dyn_format = order + ("qQ" if is_64 else "iI")
    strtab_at = header_size + 2 * phentsize
    dynamic_at = strtab_at + len(strings)
    tags += [(5, base + strtab_at), (0, 0)]
    dynamic = b"".join(struct.pack(dyn_format, tag, value) for tag, value in tags)
    size = dynamic_at + len(dynamic)
    if is_64:
        header = struct.pack(order + "HHIQQQIHHHHHH", 3, 62, 1, 0, header_size, 0, 0, header_size,
                             phentsize, 2, 64, 0, 0)
        load = struct.pack(order + "IIQQQQQQ", 1, 5, 0, base, base, size, size, 0x1000)
        dyn = struct.pack(order + "IIQQQQQQ", 2, 6, dynamic_at, base + dynamic_at, 0, len(dynamic), 0, 8)
    else:
        header = struct.pack(order + "HHIIIIIHHHHHH", 3, 20, 1, 0, header_size, 0, 0, header_size,
                             phentsize, 2, 40, 0, 0)
        load = struct.pack(order + "IIIIIIII", 1, 0, base, base, size, size, 5, 0x1000)
        dyn = struct.pack(order + "IIIIIIII", 2, dynamic_at, base + dynamic_at, 0, len(dynamic), 0, 6, 4)
    ident = b"\x7fELF" + bytes([2 if is_64 else 1, 1 if order == "<" else 2, 1]) + bytes(9)
    return ident + header + load + dyn + strings + dynamic


# ----------------------------------------------------------------------------- the ELF reader


def test_reader_returns_the_needed_libraries_of_the_xcb_plugin():
    dynamic = preflight.read_dynamic_section(XCB_PLUGIN)
    assert {"libQt6XcbQpa.so.6", "libxcb.so.1", "libxcb-cursor.so.0"} <= set(dynamic.needed)
    assert dynamic.search_path == ("$ORIGIN/../../lib",)
    if shutil.which("readelf"):
        printed = subprocess.run(["readelf", "-d", str(XCB_PLUGIN)], capture_output=True, text=True).stdout
        assert list(dynamic.needed) == re.findall(r"\(NEEDED\).*\[(.*)\]", printed)


@pytest.mark.parametrize(("is_64", "order"), [(True, "<"), (True, ">"), (False, "<"), (False, ">")])
def test_reader_handles_both_classes_and_byte_orders(tmp_path, is_64, order):
    library = tmp_path / "libsample.so"
    library.write_bytes(fake_elf(is_64, order, ["libone.so.1", "libtwo.so.2"], runpath="$ORIGIN/lib:/opt/x"))
    dynamic = preflight.read_dynamic_section(library)
    assert dynamic.needed == ("libone.so.1", "libtwo.so.2")
    assert dynamic.search_path == ("$ORIGIN/lib", "/opt/x")


@pytest.mark.parametrize("content", [b"", b"#!/bin/sh\necho hello\n", b"\x7fELF\x09\x01" + bytes(60)])
def test_reader_rejects_what_is_not_an_elf_file(tmp_path, content):
    odd = tmp_path / "odd.so"
    odd.write_bytes(content)
    with pytest.raises(preflight.ElfError):
        preflight.read_dynamic_section(odd)


# ----------------------------------------------------------------------------- the walk


def fake_pyside(tmp_path) -> Path:
    """A PySide6 folder whose xcb plugin needs a bundled library that needs a missing system one."""
    package = tmp_path / "PySide6"
    (package / "Qt" / "lib").mkdir(parents=True)
    (package / "Qt" / "plugins" / "platforms").mkdir(parents=True)
    (package / "Qt" / "plugins" / "platforms" / "libqxcb.so").write_bytes(
        fake_elf(True, "<", ["libQt6Fake.so.6", "libc.so.6"], runpath="$ORIGIN/../../lib"))
    (package / "Qt" / "lib" / "libQt6Fake.so.6").write_bytes(
        fake_elf(True, "<", ["libno-such-library-here.so.7", "libm.so.6"]))
    return package


def test_walk_follows_bundled_libraries_and_names_the_missing_system_one(tmp_path, monkeypatch):
    package = fake_pyside(tmp_path)
    monkeypatch.setattr(preflight, "_pyside_directory", lambda: str(package))
    assert preflight.system_libraries("xcb") == ["libc.so.6", "libm.so.6", "libno-such-library-here.so.7"]
    assert preflight.missing_libraries("xcb") == ["libno-such-library-here.so.7"]
    problem = preflight.find_problem({"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":0"})
    assert problem == preflight.Problem("xcb", ("libno-such-library-here.so.7",))


def test_an_unreadable_plugin_never_blocks_the_start(tmp_path, monkeypatch):
    package = fake_pyside(tmp_path)
    (package / "Qt" / "plugins" / "platforms" / "libqxcb.so").write_bytes(b"\x7fELF garbage")
    monkeypatch.setattr(preflight, "_pyside_directory", lambda: str(package))
    assert preflight.startup_problem({"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":0"}) is None


def test_a_failing_check_never_blocks_the_start(monkeypatch):
    def broken(path):
        raise RuntimeError("surprise")

    monkeypatch.setattr(preflight, "read_dynamic_section", broken)
    assert preflight.startup_problem({"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":0"}) is None


def test_the_check_is_a_no_op_on_other_systems(monkeypatch):
    monkeypatch.setattr(preflight, "sys", SimpleNamespace(platform="darwin"))
    assert preflight.startup_problem({"QT_QPA_PLATFORM": "xcb"}) is None
    assert preflight.missing_libraries("xcb") == []


def test_offscreen_needs_nothing_missing_here():
    assert preflight.startup_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert preflight.startup_problem({"QT_QPA_PLATFORM": "offscreen:fontengine=freetype"}) is None


def test_a_platform_without_a_plugin_file_is_left_to_qt():
    assert preflight.startup_problem({"QT_QPA_PLATFORM": "no-such-platform"}) is None


def test_a_plugin_on_a_user_set_plugin_path_is_left_to_qt(tmp_path, monkeypatch):
    monkeypatch.setattr(preflight._DependencyWalk, "missing", lambda self, pieces: ["libxcb-cursor.so.0"])
    (tmp_path / "platforms").mkdir()
    (tmp_path / "platforms" / "libqxcb.so").touch()
    assert preflight.find_problem({"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":0"}) is not None
    assert preflight.find_problem({"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":0",
                                   "QT_PLUGIN_PATH": str(tmp_path)}) is None


# ----------------------------------------------------------------------------- platform choice


@pytest.mark.parametrize(("environ", "candidates"), [
    ({}, ["xcb"]),
    ({"QT_QPA_PLATFORM": ""}, ["xcb"]),
    ({"XDG_SESSION_TYPE": "x11"}, ["xcb"]),
    ({"XDG_SESSION_TYPE": "wayland"}, ["wayland", "xcb"]),
    ({"XDG_SESSION_TYPE": "wayland", "QT_QPA_PLATFORM": "xcb"}, ["xcb"]),
    ({"QT_QPA_PLATFORM": "offscreen"}, ["offscreen"]),
    ({"QT_QPA_PLATFORM": "offscreen:fontengine=freetype"}, ["offscreen"]),
    ({"QT_QPA_PLATFORM": "wayland;xcb"}, ["wayland", "xcb"]),
    ({"QT_QPA_PLATFORM": "wayland:nodecorations;xcb;"}, ["wayland", "xcb"]),
    ({"QT_QPA_PLATFORM": "xcb;xcb:foo=1"}, ["xcb"]),
])
def test_platform_candidates_follow_qt(environ, candidates):
    assert preflight.platform_candidates(environ) == candidates


def missing_by_plugin(table):
    """A walk that reports `table[plugin file name]` as missing."""
    return lambda self, pieces: table.get(os.path.basename(pieces[-1]), [])


def test_any_usable_candidate_of_a_fallback_list_is_enough(monkeypatch):
    monkeypatch.setattr(preflight._DependencyWalk, "missing",
                        missing_by_plugin({"libqxcb.so": ["libxcb-cursor.so.0"]}))
    environ = {"QT_QPA_PLATFORM": "wayland;xcb", "DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-1"}
    assert preflight.find_problem(environ) is None


def test_a_fallback_list_reports_the_candidate_that_has_a_display(monkeypatch):
    monkeypatch.setattr(preflight._DependencyWalk, "missing",
                        missing_by_plugin({"libqxcb.so": ["libxcb-cursor.so.0"]}))
    problem = preflight.find_problem({"XDG_SESSION_TYPE": "wayland", "DISPLAY": ":0"})
    assert problem == preflight.Problem("xcb", ("libxcb-cursor.so.0",))


def test_without_any_display_the_first_candidate_reports_it(monkeypatch):
    monkeypatch.setattr(preflight._DependencyWalk, "missing", missing_by_plugin({}))
    problem = preflight.find_problem({"QT_QPA_PLATFORM": "wayland;xcb"})
    assert problem == preflight.Problem("wayland", (), absent_display="WAYLAND_DISPLAY")


def test_a_wayland_socket_in_the_runtime_folder_is_a_display(tmp_path, monkeypatch):
    monkeypatch.setattr(preflight._DependencyWalk, "missing", missing_by_plugin({}))
    (tmp_path / "wayland-0").touch()
    assert preflight.find_problem({"QT_QPA_PLATFORM": "wayland", "XDG_RUNTIME_DIR": str(tmp_path)}) is None


# ----------------------------------------------------------------------------- the message


def test_message_gives_both_install_lines_and_a_hint_for_unknown_libraries():
    message = preflight.Problem(
        "xcb", ("libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-shape.so.0", "libxcb-randr.so.0",
                "libmystery.so.3")).message()
    assert "libxcb-cursor.so.0, libxcb-icccm.so.4" in message
    assert "sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-shape0 libxcb-randr0\n" in message
    assert "sudo dnf install xcb-util-cursor xcb-util-wm libxcb\n" in message
    assert "apt-file search libmystery.so.3" in message
    assert len(message.splitlines()) <= 6


def test_message_for_no_display_suggests_ways_to_run():
    message = preflight.Problem("xcb", absent_display="DISPLAY").message()
    assert "no display (DISPLAY is not set)" in message
    assert "xvfb-run" in message and "QT_QPA_PLATFORM=offscreen" in message
    assert "install" not in message


def test_every_library_of_the_modules_and_main_plugins_has_its_packages():
    for platform in ("xcb", "wayland", "offscreen"):
        unknown = set(preflight.system_libraries(platform)) - set(preflight.PACKAGES)
        assert not unknown, f"{platform}: add {sorted(unknown)} to preflight.PACKAGES"


def test_the_readme_install_lines_are_exactly_what_xcb_needs():
    needed = [preflight.PACKAGES[name] for name in preflight.system_libraries("xcb")]
    debian = {debian for debian, _ in needed} - C_RUNTIME_PACKAGES
    fedora = {fedora for _, fedora in needed} - C_RUNTIME_PACKAGES
    assert set(preflight.DEBIAN_PACKAGES.split()) == debian
    assert set(preflight.FEDORA_PACKAGES.split()) == fedora
    assert preflight.DEBIAN_INSTALL.startswith("sudo apt-get install libdbus-1-3 ")


# ----------------------------------------------------------------------------- python main.py


def start_main(tmp_path, **changes):
    env = dict(os.environ, HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run([sys.executable, "main.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def assert_clean_refusal(done):
    assert done.returncode == 1, done.stderr
    for noise in ("Traceback", "Aborted", "core dumped", "qt.qpa.plugin"):
        assert noise not in done.stderr


def test_main_py_names_a_missing_library_instead_of_aborting(tmp_path):
    fake_libraries = tmp_path / "lib"
    fake_libraries.mkdir()
    (fake_libraries / "libxcb-cursor.so.0").touch()  # dlopen: "file too short", as if it were missing
    done = start_main(tmp_path, QT_QPA_PLATFORM="xcb", DISPLAY=":99", LD_LIBRARY_PATH=str(fake_libraries))
    assert_clean_refusal(done)
    assert "libxcb-cursor.so.0" in done.stderr
    assert re.search(r"sudo apt-get install .*\blibxcb-cursor0\b", done.stderr)
    assert re.search(r"sudo dnf install .*\bxcb-util-cursor\b", done.stderr)


def test_main_py_without_a_display_says_so(tmp_path):
    done = start_main(tmp_path, QT_QPA_PLATFORM="xcb", DISPLAY=None, WAYLAND_DISPLAY=None)
    assert_clean_refusal(done)
    assert "no display (DISPLAY is not set)" in done.stderr
    assert "QT_QPA_PLATFORM=offscreen" in done.stderr


def test_the_readme_shows_both_install_lines_whole():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert preflight.DEBIAN_INSTALL in readme.splitlines()
    assert preflight.FEDORA_INSTALL in readme.splitlines()
