"""A non-editable install works: the wheel carries every data file hlsgen reads at run time
(templates, kernel headers, the RTL library, boards, checkpoints), and `generate` runs from it."""
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(out), str(REPO)], check=True, capture_output=True)
    return next(out.glob("hlsgen-*.whl"))


def test_wheel_has_the_data_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    tracked = subprocess.run(["git", "ls-files", "hls_templates", "sim/rtl", "boards", "quant/data"], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout.split()
    missing = [t for t in tracked if t not in names]
    assert not missing, f"not in the wheel: {missing}"


@pytest.mark.slow
def test_generate_from_an_installed_copy(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    str(wheel)], check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(target), "HLSGEN_CACHE_DIR": str(tmp_path / "cache")}
    run = subprocess.run([sys.executable, "-c", "import hlsgen.cli, sys; sys.exit(hlsgen.cli.main())", "generate",
                          "--model", "digits", "--fps", "100", "--images", "2", "-o", str(tmp_path / "prj")],
                         cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    check = subprocess.run([sys.executable, "-c", "import hlsgen; print(hlsgen.__file__)"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, check=True)
    assert str(target) in check.stdout                       # the installed copy ran, not the checkout
    assert (tmp_path / "prj" / "src" / "hlsgen_binary.h").is_file()
    assert (tmp_path / "prj" / "rtl" / "hg_bin_engine.sv").is_file()
