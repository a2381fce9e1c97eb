"""Board yaml: the shipped boards load with their datasheet figures; malformed files fail naming
the file and the key."""
import copy

import pytest
import yaml

from hlsgen.arch import WEIGHT_PORTS
from hlsgen.board import BOARDS_DIR, BoardError, board_from_dict, load_board, resolve_board


def test_zcu102_figures():
    b = resolve_board("zcu102")
    assert b.part == "xczu9eg-ffvb1156-2-e"
    assert b.resources == {"lut": 274080, "ff": 548160, "dsp": 2520, "bram36": 912, "uram": 0}
    assert b.clock_mhz == 200
    assert b.memory.peak_gbps == pytest.approx(4.8)           # x16 DDR4-2400
    assert b.memory.bytes_per_cycle(200) == pytest.approx(18.0)  # 4.8 GB/s x 0.75 / 200 MHz
    assert b.memory.latency_cycles(200) == 50
    assert b.usable_amount("lut") == int(274080 * 0.70)
    assert set(b.available()) == {"lut", "ff", "dsp", "bram36", "uram"}


def test_zcu104_figures():
    b = resolve_board("zcu104")
    assert b.part.startswith("xczu7ev")
    assert b.resources == {"lut": 230400, "ff": 460800, "dsp": 1728, "bram36": 312, "uram": 96}
    # AXI-limited: the weight stream uses one of the 4 HP ports (the HLS top's one gmem_w bundle):
    # 16 B/cycle < 19.2 GB/s x 0.6 / 200 MHz
    assert b.memory.axi_ports == 4 and WEIGHT_PORTS == 1
    assert b.memory.bytes_per_cycle(200) == pytest.approx(min(WEIGHT_PORTS * 16, 19.2e9 * 0.6 / 200e6))


def test_resolve_by_path_and_unknown_name(tmp_path):
    path = BOARDS_DIR / "zcu102" / "board.yaml"
    assert resolve_board(str(path)).name == "zcu102"
    with pytest.raises(BoardError, match=r"unknown board 'nope'.*zcu102"):
        resolve_board("nope")
    with pytest.raises(BoardError, match="not found"):
        resolve_board(str(tmp_path / "missing.yaml"))


def _good():
    return yaml.safe_load((BOARDS_DIR / "zcu102" / "board.yaml").read_text())


@pytest.mark.parametrize("edit, pattern", [
    (lambda d: d.update(colour="red"), r"unknown key 'colour'"),
    (lambda d: d["memory"].update(speed=1), r"unknown key 'memory.speed'"),
    (lambda d: d["resources"].pop("dsp"), r"missing key 'resources.dsp'"),
    (lambda d: d.pop("part"), r"missing key 'part'"),
    (lambda d: d["resources"].update(lut=-5), r"'resources.lut' must be > 0"),
    (lambda d: d["resources"].update(bram36="lots"), r"'resources.bram36' must be a number"),
    (lambda d: d["resources"].update(dsp=2520.5), r"'resources.dsp' must be an integer"),
    (lambda d: d["usable"].update(lut=1.5), r"'usable.lut' must be a fraction"),
    (lambda d: d["usable"].update(ff=True), r"'usable.ff' must be a number"),
    (lambda d: d["memory"].update(efficiency=0), r"'memory.efficiency' must be a fraction"),
    (lambda d: d["memory"].update(latency_ns=-1), r"'memory.latency_ns' must be >= 0"),
    (lambda d: d.update(clock_mhz=500), r"'clock_mhz' \(500\) exceeds 'max_clock_mhz'"),
    (lambda d: d.update(dsp_type="DSP48E1"), r"'dsp_type' must be one of"),
    (lambda d: d.update(memory=[1, 2]), r"'memory' must be a mapping"),
    (lambda d: d["platform"].update(lut=10 ** 7), r"'platform.lut'.*exceeds"),
])
def test_malformed_board_names_key_and_file(tmp_path, edit, pattern):
    data = copy.deepcopy(_good())
    edit(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(BoardError, match=pattern) as err:
        load_board(path)
    assert str(path) in str(err.value)


def test_not_yaml_and_not_mapping(tmp_path):
    p = tmp_path / "b.yaml"
    p.write_text("name: [unclosed")
    with pytest.raises(BoardError, match="not valid yaml"):
        load_board(p)
    p.write_text("- 1\n- 2\n")
    with pytest.raises(BoardError, match="must be a mapping"):
        load_board(p)


def test_clock_check():
    b = resolve_board("zcu102")
    assert b.check_clock(250) == 250.0
    for bad in (0, -10, 401, "fast", True):
        with pytest.raises(BoardError, match="clock"):
            b.check_clock(bad)


def test_custom_board_dict():
    data = _good()
    data["name"] = "mine"
    data["resources"]["uram"] = 10
    b = board_from_dict(data, "inline", "inline")
    assert b.name == "mine" and b.usable_amount("uram") == 8
