"""Board description: the device's resources, how much a design may take, the clock and the DDR it
streams weights from. Loaded from `boards/<name>/board.yaml` (or any path) and validated key by key:
an unknown, missing or impossible value is a `BoardError` naming the file and the key.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import yaml

from hlsgen.arch import WEIGHT_PORTS
from quant.errors import UserError

from quant.paths import BOARDS_DIR

RESOURCE_KEYS = ("lut", "ff", "dsp", "bram36", "uram")
SUPPORTED_DSP = ("DSP48E2",)  # the DSP packing and width assumptions in ops_resources are DSP48E2's


class BoardError(UserError, ValueError):
    """A board yaml that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Memory:
    """The external memory the accelerator streams weights from, and the AXI path to it."""
    kind: str
    size_mb: int
    data_width_bits: int
    transfer_rate_mts: float
    efficiency: float          # achievable fraction of the DRAM peak for long sequential reads
    latency_ns: float          # request-to-first-data latency of one DMA burst sequence
    axi_ports: int             # m_axi ports the board offers the accelerator (it uses WEIGHT_PORTS of them)
    axi_width_bits: int        # data width of each port (runs at the accelerator clock)

    @property
    def peak_gbps(self) -> float:
        """DRAM peak in GB/s (1e9 bytes): transfers/s x bus bytes."""
        return self.transfer_rate_mts * 1e6 * self.data_width_bits / 8 / 1e9

    def bytes_per_cycle(self, clock_mhz: float) -> float:
        """Sustained bytes per accelerator cycle: the lower of the DRAM (peak x efficiency) and the
        AXI ports the accelerator's weight stream uses (one beat per cycle each: the board's ports,
        at most hlsgen.arch.WEIGHT_PORTS, the one gmem_w port of the HLS top and the twin)."""
        dram = self.peak_gbps * 1e9 * self.efficiency / (clock_mhz * 1e6)
        axi = min(self.axi_ports, WEIGHT_PORTS) * self.axi_width_bits / 8
        return min(dram, axi)

    def latency_cycles(self, clock_mhz: float) -> int:
        return math.ceil(self.latency_ns * clock_mhz / 1000)


@dataclass(frozen=True)
class Board:
    name: str
    part: str
    dsp_type: str
    resources: dict          # device totals, keys RESOURCE_KEYS
    usable: dict             # fraction of each a design may take (routing headroom)
    clock_mhz: float         # default accelerator clock
    max_clock_mhz: float     # the highest clock the model accepts for this part
    memory: Memory
    platform: dict           # resources taken by memory controller, interconnect, PS glue
    source: str              # where it was loaded from (name or path as given)

    def usable_amount(self, key: str) -> int:
        return int(math.floor(self.resources[key] * self.usable[key]))

    def available(self) -> dict:
        return {k: self.usable_amount(k) for k in RESOURCE_KEYS}

    def check_clock(self, clock_mhz) -> float:
        if isinstance(clock_mhz, bool) or not isinstance(clock_mhz, (int, float)) or not (
                0 < clock_mhz <= self.max_clock_mhz):
            raise BoardError(f"clock {clock_mhz!r} MHz is not possible on board '{self.name}': "
                             f"use a value in (0, {self.max_clock_mhz:g}] MHz")
        return float(clock_mhz)


# ---- strict schema -------------------------------------------------------------------------------
# kind: "int" (positive or >=0 integer), "num" (positive number), "frac" (0 < x <= 1), "str"
_SCHEMA = {
    "name": "str",
    "part": "str",
    "dsp_type": "str",
    "clock_mhz": "num",
    "max_clock_mhz": "num",
    "resources": {"lut": "int+", "ff": "int+", "dsp": "int+", "bram36": "int+", "uram": "int0"},
    "usable": {"lut": "frac", "ff": "frac", "dsp": "frac", "bram36": "frac", "uram": "frac"},
    "memory": {"kind": "str", "size_mb": "int+", "data_width_bits": "int+", "transfer_rate_mts": "num",
               "efficiency": "frac", "latency_ns": "num0", "axi_ports": "int+", "axi_width_bits": "int+"},
    "platform": {"lut": "int0", "ff": "int0", "dsp": "int0", "bram36": "num0", "uram": "int0"},
}


def _check_value(where: str, key: str, kind: str, value):
    is_num = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "str":
        if not isinstance(value, str) or not value.strip():
            raise BoardError(f"{where}: key '{key}' must be a non-empty string, got {value!r}")
        return value
    if not is_num or (isinstance(value, float) and not math.isfinite(value)):
        raise BoardError(f"{where}: key '{key}' must be a number, got {value!r}")
    if kind in ("int+", "int0"):
        if not isinstance(value, int):
            raise BoardError(f"{where}: key '{key}' must be an integer, got {value!r}")
        if value < (1 if kind == "int+" else 0):
            raise BoardError(f"{where}: key '{key}' must be {'> 0' if kind == 'int+' else '>= 0'}, got {value}")
        return value
    if kind == "num" and value <= 0:
        raise BoardError(f"{where}: key '{key}' must be > 0, got {value}")
    if kind == "num0" and value < 0:
        raise BoardError(f"{where}: key '{key}' must be >= 0, got {value}")
    if kind == "frac" and not (0 < value <= 1):
        raise BoardError(f"{where}: key '{key}' must be a fraction in (0, 1], got {value}")
    return value


def _check_mapping(where: str, prefix: str, data, schema: dict) -> dict:
    if not isinstance(data, dict):
        raise BoardError(f"{where}: key '{prefix.rstrip('.') or '<top level>'}' must be a mapping, "
                         f"got {type(data).__name__}")
    unknown = sorted(set(map(str, data)) - set(schema))
    if unknown:
        raise BoardError(f"{where}: unknown key '{prefix + unknown[0]}' (allowed here: {sorted(schema)})")
    missing = [k for k in schema if k not in data]
    if missing:
        raise BoardError(f"{where}: missing key '{prefix + missing[0]}'")
    out = {}
    for key, kind in schema.items():
        if isinstance(kind, dict):
            out[key] = _check_mapping(where, f"{prefix}{key}.", data[key], kind)
        else:
            out[key] = _check_value(where, prefix + key, kind, data[key])
    return out


def board_from_dict(data, where: str, source: str) -> Board:
    d = _check_mapping(where, "", data, _SCHEMA)
    if d["dsp_type"] not in SUPPORTED_DSP:
        raise BoardError(f"{where}: key 'dsp_type' must be one of {list(SUPPORTED_DSP)}, got {d['dsp_type']!r}")
    if d["clock_mhz"] > d["max_clock_mhz"]:
        raise BoardError(f"{where}: key 'clock_mhz' ({d['clock_mhz']}) exceeds 'max_clock_mhz' "
                         f"({d['max_clock_mhz']})")
    for k in RESOURCE_KEYS:
        if d["platform"][k] > d["resources"][k] * d["usable"][k]:
            raise BoardError(f"{where}: key 'platform.{k}' ({d['platform'][k]}) exceeds the usable "
                             f"{k} of the device")
    return Board(name=d["name"], part=d["part"], dsp_type=d["dsp_type"], resources=d["resources"],
                 usable=d["usable"], clock_mhz=float(d["clock_mhz"]),
                 max_clock_mhz=float(d["max_clock_mhz"]), memory=Memory(**d["memory"]),
                 platform=d["platform"], source=source)


def load_board(path: str | Path, source: str | None = None) -> Board:
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise BoardError(f"board file not found: {path}") from None
    except OSError as e:
        raise BoardError(f"cannot read board file {path}: {e.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise BoardError(f"{path}: not valid yaml ({str(e).splitlines()[0]})") from None
    return board_from_dict(data, str(path), source or str(path))


def board_names() -> list[str]:
    return sorted(p.parent.name for p in BOARDS_DIR.glob("*/board.yaml"))


def resolve_board(name_or_path: str) -> Board:
    """`zcu102` -> boards/zcu102/board.yaml; anything that looks like a path is loaded as given."""
    if not isinstance(name_or_path, str) or not name_or_path:
        raise BoardError(f"board must be a name or a path, got {name_or_path!r}")
    p = Path(name_or_path)
    if name_or_path.endswith((".yaml", ".yml")) or p.is_file() or "/" in name_or_path:
        return load_board(p, source=name_or_path)
    named = BOARDS_DIR / name_or_path / "board.yaml"
    if named.is_file():
        return load_board(named, source=name_or_path)
    raise BoardError(f"unknown board '{name_or_path}': use one of {board_names()} or a path to a board yaml")
