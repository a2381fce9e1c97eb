"""Every failure the user can cause ends in one line on stderr and a non-zero exit, never a traceback:
a closed stdout pipe, unusable -o paths, Ctrl-C, unknown flags, missing project directories and files
that cannot be written. Programming errors keep their traceback."""
import errno
import importlib.metadata
import subprocess
import sys

import pytest

import hlsgen.cmd_explore
import hlsgen.cmd_generate
from hlsgen.cli import main


def run(capsys, *argv):
    try:
        rc = main(list(argv))
    except SystemExit as e:          # argparse: usage errors and --version
        rc = e.code
    out = capsys.readouterr()
    return rc, out.out, out.err


def one_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].strip(), err
    return lines[0]


def test_closed_stdout_pipe_is_quiet():
    # the reader is gone before explore prints (startup alone takes a second): every write gets EPIPE
    p = subprocess.Popen([sys.executable, "-m", "hlsgen.cli", "explore", "--model", "digits", "--fps", "100"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.stdout.close()
    err = p.stderr.read()
    assert p.wait(timeout=120) in (1, 141)
    assert err == "", err            # not "Exception ignored ... BrokenPipeError" nor a traceback


def test_explore_output_is_a_directory(capsys, tmp_path):
    rc, out, err = run(capsys, "explore", "--model", "digits", "--fps", "100", "-o", str(tmp_path))
    assert rc == 1
    assert one_line(err) == (f"hlsgen explore: error: -o {tmp_path}: is a directory; give the design file's "
                             f"name, e.g. {tmp_path / 'design.yaml'}")


def test_explore_output_parent_is_created(capsys, tmp_path):
    path = tmp_path / "nodir" / "x" / "d.yaml"
    rc, out, err = run(capsys, "explore", "--model", "digits", "--fps", "100", "-o", str(path))
    assert rc == 0, err
    assert path.is_file() and f"design written to {path}" in out


def test_sweep_output_is_a_file(capsys, tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("keep me\n")
    rc, out, err = run(capsys, "sweep", "--model", "digits", "-o", str(f))
    assert rc == 1
    assert one_line(err).startswith(f"hlsgen sweep: error: -o {f}: is a file")
    assert f.read_text() == "keep me\n"


def test_ctrl_c_exits_130(capsys, monkeypatch):
    def interrupted(args):
        raise KeyboardInterrupt
    monkeypatch.setattr(hlsgen.cmd_generate, "run", interrupted)
    rc, out, err = run(capsys, "generate", "--model", "digits", "--fps", "100", "-o", "unused")
    assert rc == 130
    assert one_line(err) == "hlsgen generate: interrupted"


@pytest.mark.parametrize("argv, line", [
    (["explore", "--model", "digits", "--fsp", "30"],
     "hlsgen explore: error: unrecognized arguments: --fsp 30 (did you mean --fps?)"),
    (["explore", "--prunee"], "hlsgen explore: error: unrecognized arguments: --prunee (did you mean --prune?)"),
    (["sweep", "--model", "digits", "-o", "x", "--bitz=8"],
     "hlsgen sweep: error: unrecognized arguments: --bitz=8 (did you mean --bits?)"),
    (["csim", "a", "b"], "hlsgen csim: error: unrecognized arguments: b"),
    (["explore", "--model", "digits"], "hlsgen explore: error: the following arguments are required: --fps"),
    (["explroe"], None),
])
def test_usage_errors_are_one_line_exit_1(capsys, argv, line):
    rc, out, err = run(capsys, *argv)
    assert rc == 1
    got = one_line(err)
    assert got == line if line else got.startswith("hlsgen: error: argument COMMAND: invalid choice: 'explroe'")


@pytest.mark.parametrize("command", ["csim", "cosim", "synth", "check"])
def test_missing_project_directory(capsys, tmp_path, command):
    missing = tmp_path / "nonexist"
    rc, out, err = run(capsys, command, str(missing))
    assert rc == 1
    assert one_line(err) == f"hlsgen {command}: error: no such project directory: {missing}"
    f = tmp_path / "file"
    f.write_text("")
    rc, out, err = run(capsys, command, str(f))
    assert rc == 1 and one_line(err).startswith(f"hlsgen {command}: error: {f} is not a directory")


def test_version(capsys):
    rc, out, err = run(capsys, "--version")
    assert rc == 0 and out == f"hlsgen {importlib.metadata.version('hlsgen')}\n" and err == ""


def test_unwritable_output_is_one_line(capsys, monkeypatch, tmp_path):
    path = tmp_path / "d.yaml"

    def denied(design, p, extra=None):
        raise PermissionError(errno.EACCES, "Permission denied", str(p))
    monkeypatch.setattr(hlsgen.cmd_explore, "save_design", denied)
    rc, out, err = run(capsys, "explore", "--model", "digits", "--fps", "100", "-o", str(path))
    assert rc == 1
    assert one_line(err) == f"hlsgen explore: error: Permission denied: {path}"


def test_programming_errors_keep_their_traceback(monkeypatch):
    def bug(args):
        raise RuntimeError("a bug")
    monkeypatch.setattr(hlsgen.cmd_generate, "run", bug)
    with pytest.raises(RuntimeError, match="a bug"):
        main(["generate", "--model", "digits", "--fps", "100", "-o", "unused"])
