"""The one atomic writer: whole or nothing, the real cause, the old file intact, no temporary left."""

import errno
import os
import stat
import subprocess
import sys
import time

import pytest

from simulator.atomic import (
    copy_file_atomically,
    remove_stale_temporaries,
    write_atomically,
    write_bytes_atomically,
)
from simulator.errors import SimulatorError
from simulator.trajectory import write_csv_atomically
from tests.file_limits import file_size_limit


def listing(folder):
    return sorted(os.listdir(folder))


def test_writes_the_whole_file_with_the_usual_mode(tmp_path):
    target = tmp_path / "out.txt"
    write_atomically(target, lambda out: out.write("hello\n"))
    assert target.read_text() == "hello\n"
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert listing(tmp_path) == ["out.txt"]


def test_an_existing_file_keeps_its_mode(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    target.chmod(0o600)
    write_atomically(target, lambda out: out.write("new"))
    assert target.read_text() == "new" and stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_symlink_is_replaced_never_written_through(tmp_path):
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("precious")
    link = tmp_path / "link.txt"
    link.symlink_to(elsewhere)
    write_atomically(link, lambda out: out.write("new"))
    assert not link.is_symlink() and link.read_text() == "new"
    assert elsewhere.read_text() == "precious"


def test_a_full_disk_keeps_the_old_file_and_says_why(tmp_path):
    target = tmp_path / "data.csv"
    target.write_text("old content\n")

    def fill_the_disk(out):
        out.write("x" * 100)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(SimulatorError, match="No space left on device"):
        write_atomically(target, fill_the_disk)
    assert target.read_text() == "old content\n"
    assert listing(tmp_path) == ["data.csv"]


def test_a_file_size_limit_keeps_the_old_file(tmp_path):
    target = tmp_path / "rows.csv"
    write_csv_atomically(target, ["a"], [[1]])
    before = target.read_bytes()
    with file_size_limit(64 * 1024), pytest.raises(SimulatorError, match="file size limit"):
        write_csv_atomically(target, ["a", "b"], ([i, i * 2] for i in range(100_000)))
    assert target.read_bytes() == before
    assert listing(tmp_path) == ["rows.csv"]


def test_a_failure_in_the_writer_itself_propagates_and_leaves_nothing(tmp_path):
    target = tmp_path / "out.txt"

    def broken(out):
        out.write("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomically(target, broken)
    assert listing(tmp_path) == []


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(SimulatorError, match=r"cannot write .*No such file or directory"):
        write_bytes_atomically(tmp_path / "missing" / "out.bin", b"1")


def test_a_folder_at_the_target_is_refused_and_kept(tmp_path):
    (tmp_path / "out.png").mkdir()
    with pytest.raises(SimulatorError, match=r"cannot write .*out\.png"):
        write_bytes_atomically(tmp_path / "out.png", b"1")
    assert (tmp_path / "out.png").is_dir() and listing(tmp_path) == ["out.png"]


def test_copy_is_whole_or_nothing(tmp_path):
    source = tmp_path / "source.pt"
    source.write_bytes(os.urandom(200_000))
    target = tmp_path / "copy.pt"
    target.write_bytes(b"old checkpoint")
    with file_size_limit(64 * 1024), pytest.raises(SimulatorError, match="file size limit"):
        copy_file_atomically(source, target)
    assert target.read_bytes() == b"old checkpoint"
    assert listing(tmp_path) == ["copy.pt", "source.pt"]
    copy_file_atomically(source, target)
    assert target.read_bytes() == source.read_bytes()


def test_copy_names_an_unreadable_source(tmp_path):
    with pytest.raises(SimulatorError, match=r"cannot read .*gone\.pt"):
        copy_file_atomically(tmp_path / "gone.pt", tmp_path / "copy.pt")
    assert listing(tmp_path) == []


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_stale_temporaries_of_ours_are_removed_and_nothing_else(tmp_path):
    dead = tmp_path / f".optiscope-{_dead_pid()}-k2j_x9.csv.tmp"
    mine = tmp_path / f".optiscope-{os.getpid()}-abc123.tmp"
    old_legacy = tmp_path / ".optiscope-q7w_e1.csv.tmp"
    fresh_legacy = tmp_path / ".optiscope-r8t_y2.json.tmp"
    unrelated = [tmp_path / ".optiscope-notes.txt", tmp_path / "optiscope-1-a.tmp", tmp_path / "keep.csv"]
    for path in [dead, mine, old_legacy, fresh_legacy, *unrelated]:
        path.write_text("x")
    an_hour_ago = time.time() - 3600
    os.utime(old_legacy, (an_hour_ago, an_hour_ago))
    write_atomically(tmp_path / "new.txt", lambda out: out.write("new"))
    left = set(listing(tmp_path))
    assert dead.name not in left and old_legacy.name not in left
    assert {mine.name, fresh_legacy.name, "new.txt", *(p.name for p in unrelated)} == left
    assert remove_stale_temporaries(tmp_path) == 0


KILLED_MID_WRITE = """
import sys, time
from simulator.trajectory import write_csv_atomically

def rows():
    for i in range(10_000):
        yield [i, i]
    print("writing", flush=True)
    time.sleep(120)  # the write is stuck here until the test kills the process
    yield [0, 0]

write_csv_atomically(sys.argv[1], ["a", "b"], rows())
"""


def test_a_write_killed_mid_way_is_cleaned_by_the_next_write(tmp_path):
    target = tmp_path / "big.csv"
    target.write_text("a,b\n1,1\n")
    process = subprocess.Popen([sys.executable, "-c", KILLED_MID_WRITE, str(target)],
                               stdout=subprocess.PIPE, text=True, cwd=os.getcwd())
    try:
        assert process.stdout.readline().strip() == "writing"
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
    leftovers = [name for name in listing(tmp_path) if name.endswith(".tmp")]
    assert len(leftovers) == 1 and target.read_text() == "a,b\n1,1\n"
    write_csv_atomically(tmp_path / "other.csv", ["a"], [[1]])
    assert listing(tmp_path) == ["big.csv", "other.csv"]
