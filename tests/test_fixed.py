"""quant.fixed against the real Xilinx ap_types headers, compiled with g++.

One C++ harness holds every type combination the tests need (ap_fixed types are templates, so a
combination is an instantiation, picked at run time by a case id). The combinations are chosen at
import time, deterministically, so the generated source is stable and `compile_cpp` caches the
executable across runs. The harness reads binary records (case id, a, b) on stdin and writes
(low 64 bits, high 64 bits, result type) for each; one process runs a whole batch.

Cases compared: ~454k exhaustive conversions (widths 1..10, all 28 q_mode x o_mode), ~515k
exhaustive double -> fixed (quarter-LSB grid incl. ties), ~140k random conversions (widths up to
64), ~190k random double -> fixed, ~170k add/sub/mul, ~23k shifts. First run compiles ~3200
instantiations (about a minute of CPU, cached in .cache/cpp); later runs take a few seconds.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass

import numpy as np
import pytest

from quant.fixed import (O_MODES, Q_MODES, Fixed, FixedType, FixedTypeError, add, ap_fixed, ap_int, ap_ufixed,
                         ap_uint, convert, from_float, lshift, mul, result_type, rshift, sub)
from sim import aptypes

MODES = [(q, o) for q in Q_MODES for o in O_MODES]
UNITS = 4  # translation units, compiled in parallel


# ----------------------------------------------------------------------------- the harness
@dataclass(frozen=True)
class Case:
    kind: str                    # conv, fromd, add, sub, mul, shl, shr
    a: FixedType | None          # source / left operand (None for fromd)
    b: FixedType | None          # target (conv, fromd) / right operand (add, sub, mul); None for shifts

    def cpp(self) -> str:
        if self.kind == "conv":
            return f"&conv<{self.a.cpp_name()}, {self.b.cpp_name()} >"
        if self.kind == "fromd":
            return f"&fromd<{self.b.cpp_name()} >"
        if self.kind in ("shl", "shr"):
            return f"&op_{self.kind}<{self.a.cpp_name()} >"
        return f"&op_{self.kind}<{self.a.cpp_name()}, {self.b.cpp_name()} >"


PRELUDE = r"""
#include <ap_fixed.h>
#include <ap_int.h>
#include <cstdint>
#include <cstring>
typedef void (*fn_t)(int64_t, int64_t, int64_t*);

template <class P> static void put(const P& v, int W, int I, bool S, int64_t* out) {
  out[0] = (int64_t)v.get_pVal(0);                 // low 64 bits
  out[1] = W > 64 ? (int64_t)v.get_pVal(1) : 0;    // bits 64..127
  out[2] = (int64_t)W | ((int64_t)(I + 4096) << 16) | ((int64_t)S << 32);
}
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N>
static void emit(const ap_fixed_base<W, I, S, Q, O, N>& r, int64_t* out) { put(r.V, W, I, S, out); }
template <int W, bool S>
static void emit(const ap_int_base<W, S>& r, int64_t* out) { put(r.V, W, W, S, out); }

template <class S, class D> void conv(int64_t a, int64_t, int64_t* out) { S s; s.V = a; D d = s; emit(d, out); }
template <class D> void fromd(int64_t a, int64_t, int64_t* out) {
  double x; std::memcpy(&x, &a, sizeof x); D d = x; emit(d, out);
}
#define BINOP(NAME, OP) \
  template <class A, class B> void NAME(int64_t a, int64_t b, int64_t* out) { \
    A x; x.V = a; B y; y.V = b; auto r = x OP y; emit(r, out); }
BINOP(op_add, +)
BINOP(op_sub, -)
BINOP(op_mul, *)
template <class A> void op_shl(int64_t a, int64_t b, int64_t* out) { A x; x.V = a; auto r = x << (unsigned)b; emit(r, out); }
template <class A> void op_shr(int64_t a, int64_t b, int64_t* out) { A x; x.V = a; auto r = x >> (unsigned)b; emit(r, out); }
"""

MAIN = r"""
#include <cstdio>
#include <cstdint>
#include <vector>
typedef void (*fn_t)(int64_t, int64_t, int64_t*);
%(externs)s
int main() {
  std::vector<fn_t> table(%(ncases)d);
  %(appends)s
  static int64_t in[3 * 8192], out[3 * 8192];
  size_t n;
  while ((n = fread(in, 3 * sizeof(int64_t), 8192, stdin)) > 0) {
    for (size_t i = 0; i < n; ++i) {
      int64_t id = in[3 * i];
      if (id < 0 || id >= (int64_t)table.size()) { fprintf(stderr, "bad case id %%lld\n", (long long)id); return 2; }
      table[id](in[3 * i + 1], in[3 * i + 2], out + 3 * i);
    }
    fwrite(out, 3 * sizeof(int64_t), n, stdout);
  }
  return 0;
}
"""


class Harness:
    def __init__(self, name: str, flags: tuple[str, ...]) -> None:
        self.name, self.flags = name, flags
        self.cases: list[Case] = []
        self.ids: dict[Case, int] = {}
        self.frozen = False

    def id(self, case: Case) -> int:
        if case not in self.ids:
            assert not self.frozen, "register every case at import time, before the harness is built"
            self.ids[case] = len(self.cases)
            self.cases.append(case)
        return self.ids[case]

    def sources(self, units: int) -> dict[str, str]:
        files, externs, appends = {}, [], []
        for k in range(units):  # case i lives in unit i % units: balances the cost, keeps the order
            idx = range(k, len(self.cases), units)
            body = ",\n".join(self.cases[i].cpp() for i in idx)
            files[f"unit{k}.cpp"] = f"{PRELUDE}\nextern const fn_t table{k}[] = {{\n{body}\n}};\n" \
                                    f"extern const int size{k} = {len(idx)};\n"
            externs.append(f"extern const fn_t table{k}[]; extern const int size{k};")
            appends.append(f"for (int i = 0; i < size{k}; ++i) table[{units} * i + {k}] = table{k}[i];")
        files["main.cpp"] = MAIN % {"externs": "\n".join(externs), "appends": "\n  ".join(appends),
                                    "ncases": len(self.cases)}
        return files

    def build(self, flags: tuple[str, ...] | None = None):
        self.frozen = True
        return aptypes.compile_cpp(self.sources(UNITS), self.name, extra_flags=self.flags if flags is None else flags)

    @staticmethod
    def run(exe, ids, a, b) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(codes, width, int_bits, signed) the C++ code computed for each record."""
        rec = np.stack([np.asarray(ids, np.int64), np.asarray(a, np.int64), np.asarray(b, np.int64)], axis=1)
        proc = subprocess.run([str(exe)], input=rec.tobytes(), capture_output=True, check=False)
        assert proc.returncode == 0, proc.stderr.decode()[-2000:]
        out = np.frombuffer(proc.stdout, dtype=np.int64).reshape(-1, 3)
        assert len(out) == len(rec)
        lo, hi, meta = out[:, 0], out[:, 1], out[:, 2]
        w, i, s = meta & 0xFFFF, ((meta >> 16) & 0xFFFF) - 4096, (meta >> 32) & 1
        assert w.max(initial=1) <= 128
        if w.max(initial=1) <= 62:  # vectorised: low bits, then sign
            u = lo & ((np.int64(1) << w) - 1)
            codes = u - ((((u >> (w - 1)) & 1) & s) << w)
        else:
            codes = np.empty(len(lo), dtype=object)
            for j in range(len(lo)):
                u = (((int(hi[j]) & (2**64 - 1)) << 64) | (int(lo[j]) & (2**64 - 1))) & ((1 << int(w[j])) - 1)
                codes[j] = u - (1 << int(w[j])) if s[j] and u >> (int(w[j]) - 1) else u
        return codes, w, i, s.astype(bool)


# The main harness is built at -O0 (~2.5x faster to compile; test_harness_same_at_O2 checks that
# -O2 gives the same results). Asserts stay on: ap_private's asserts flag undefined behaviour.
H = Harness("fixed_harness", ("-O0",))
# Conversions that round away more bits than the source has trip an assert in C-sim; this small
# harness runs them with -DNDEBUG to check what the header computes when asserts are off.
H_NDEBUG = Harness("fixed_harness_ndebug", ("-O0", "-DNDEBUG"))


class Batch:
    """Records for the harness with the codes quant.fixed predicts; `check` compares them all."""

    def __init__(self, harness: Harness = H) -> None:
        self.h = harness
        self.ids, self.a, self.b, self.expect, self.types, self.labels = [], [], [], [], [], []

    def add(self, case: Case, a, b, expect: Fixed) -> None:
        n = np.size(a)
        self.ids.append(np.full(n, self.h.id(case), np.int64))
        self.a.append(raw64(a).reshape(-1))
        self.b.append(np.broadcast_to(np.asarray(b, np.int64), np.shape(a)).reshape(-1))
        self.expect.append(np.asarray(expect.codes, dtype=object).reshape(-1))
        self.types.append((case, expect.type, n))

    def __len__(self) -> int:
        return sum(len(i) for i in self.ids)

    def check(self, exe) -> int:
        ids, a, b = np.concatenate(self.ids), np.concatenate(self.a), np.concatenate(self.b)
        got, w, i, s = Harness.run(exe, ids, a, b)
        exp = np.concatenate(self.expect)
        want = np.concatenate([np.full(n, t.width) for _, t, n in self.types])
        wanti = np.concatenate([np.full(n, t.int_bits) for _, t, n in self.types])
        wants = np.concatenate([np.full(n, t.signed) for _, t, n in self.types])
        bad = np.flatnonzero((got != exp) | (w != want) | (i != wanti) | (s != wants))
        if bad.size:
            lines = []
            for j in bad[:12]:
                case = self.h.cases[ids[j]]
                lines.append(f"{case.kind} {case.a and case.a.cpp_name()} -> {case.b and case.b.cpp_name()}: "
                             f"a={a[j]} b={b[j]}: model {exp[j]}, g++ {got[j]} "
                             f"(type model W{want[j]} I{wanti[j]} S{wants[j]}, g++ W{w[j]} I{i[j]} S{s[j]})")
            pytest.fail(f"{bad.size} of {len(ids)} results differ:\n" + "\n".join(lines))
        return len(ids)


# ----------------------------------------------------------------------------- case plans
def all_codes(t: FixedType) -> np.ndarray:
    return np.arange(t.min_code, t.max_code + 1, dtype=np.int64)


def exhaustive_conv_cases() -> list[Case]:
    """Sources: widths 1..10, both signs, two int_bits each (a middle one, and rotating through
    <=0, ==width and >width); two targets each (one narrower, one wider, signedness rotated),
    each in all 28 q_mode x o_mode combinations."""
    extra = [0, -2, None, 1, -1, None, 3]   # None: width + 2
    narrower = [(-1, -1), (0, -2), (-2, 1), (1, -3)]   # (d int_bits, d frac_bits)
    wider = [(1, 1), (2, 0), (0, 3), (1, -1)]
    cases, n = [], 0
    for w in range(1, 11):
        for s in (True, False):
            e = extra[(w + 3 * s) % len(extra)]
            for ib in sorted({max(1, w // 2), w + 2 if e is None else e}):
                src = FixedType(w, ib, s)
                for di, df in (narrower[n % 4], wider[(n // 2) % 4]):
                    ti, tf = ib + di, src.frac_bits + df
                    dst = FixedType(max(ti + tf, 1), ti, s if n % 3 else not s)
                    cases += [Case("conv", src, dst.with_modes(q, o)) for q, o in MODES]
                    n += 1
    return cases


def exhaustive_fromd_cases() -> list[Case]:
    """Targets of widths 1..10, both signs, int_bits rotating through mid, 0, >width, <0, width, 1."""
    choices = [lambda w: w // 2, lambda w: 0, lambda w: w + 3, lambda w: -1, lambda w: w, lambda w: 1]
    return [Case("fromd", None, FixedType(w, choices[(w + s) % len(choices)](w), bool(s), q, o))
            for w in range(1, 11) for s in (1, 0) for q, o in MODES]


def asserts_in_csim(src: FixedType, dst: FixedType) -> bool:
    """ap_fixed_base::operator= reads bit (F2-F-1) of the source even when that is beyond its MSB:
    with rounding on and more bits dropped than the source has, ap_private's assert aborts C-sim."""
    rounds = dst.q_mode != "AP_TRN" and not (dst.q_mode == "AP_TRN_ZERO" and not src.signed)
    return not dst.integer and rounds and src.frac_bits - dst.frac_bits > src.width


def past_msb_cases() -> list[Case]:
    """Conversions rounding away more bits than the source has (asserts in C-sim), every mode."""
    cases = []
    for w in (1, 2, 3, 4):
        for s in (True, False):
            src = FixedType(w, (w % 3) - 1, s)
            f = src.frac_bits - w - 1 - (w + s) % 3
            dst = FixedType(3, 3 - f, (w + s) % 2 == 0)
            cases += [Case("conv", src, dst.with_modes(q, o)) for q, o in MODES]
    assert all(asserts_in_csim(c.a, c.b) for c in cases if c.b.q_mode not in ("AP_TRN", "AP_TRN_ZERO"))
    return cases


def random_type(rng, max_w=32, signed=None, modes=True, min_w=1) -> FixedType:
    w = int(rng.integers(min_w, max_w + 1))
    ib = int(rng.integers(-4, w + 5))
    s = bool(rng.integers(2)) if signed is None else signed
    q, o = MODES[rng.integers(len(MODES))] if modes else ("AP_TRN", "AP_WRAP")
    return FixedType(w, ib, s, q, o)


def random_cases() -> dict[str, list[Case]]:
    rng = np.random.default_rng(20240611)
    conv = [Case("conv", random_type(rng, modes=False), random_type(rng)) for _ in range(180)]
    # a few wide ones (33..64 bits): codes that do not fit int64 take quant.fixed's Python-int path
    conv += [Case("conv", random_type(rng, 64, modes=False, min_w=33), random_type(rng, 64, min_w=20)) for _ in range(24)]
    conv = [c for c in conv if not asserts_in_csim(c.a, c.b)]
    for _ in range(40):  # into ap_int / ap_uint: C-style truncation (int_bits < 0 is undefined there)
        src, w = random_type(rng, modes=False), int(rng.integers(1, 33))
        src = src if src.int_bits >= 0 else FixedType(src.width, 0, src.signed)
        conv.append(Case("conv", src, ap_int(w) if rng.integers(2) else ap_uint(w)))
    fromd = [Case("fromd", None, random_type(rng)) for _ in range(60)]
    fromd += [Case("fromd", None, random_type(rng, 64, min_w=33)) for _ in range(12)]
    fromd += [Case("fromd", None, ap_int(w)) for w in (1, 2, 5, 8, 16, 31, 32)]
    fromd += [Case("fromd", None, ap_uint(w)) for w in (1, 3, 8, 20, 32)]
    ops = []
    for kind in ("add", "sub", "mul"):
        ops += [Case(kind, random_type(rng, modes=bool(rng.integers(2))), random_type(rng)) for _ in range(50)]
        for _ in range(8):  # ap_int op ap_int, and ap_int op ap_fixed
            wa, wb = (int(x) for x in rng.integers(1, 33, 2))
            ta = ap_int(wa) if rng.integers(2) else ap_uint(wa)
            tb = ap_int(wb) if rng.integers(2) else ap_uint(wb)
            ops.append(Case(kind, ta, tb if rng.integers(3) else random_type(rng)))
    shifts = [Case(k, random_type(rng), None) for k in ("shl", "shr") for _ in range(20)]
    shifts += [Case(k, ap_int(int(rng.integers(1, 33))), None) for k in ("shl", "shr") for _ in range(4)]
    shifts += [Case(k, ap_uint(int(rng.integers(1, 33))), None) for k in ("shl", "shr") for _ in range(4)]
    return {"conv": conv, "fromd": fromd, "ops": ops, "shifts": list(dict.fromkeys(shifts))}


EXH_CONV, EXH_FROMD, RND, PAST_MSB = exhaustive_conv_cases(), exhaustive_fromd_cases(), random_cases(), past_msb_cases()
for _case in EXH_CONV + EXH_FROMD + [c for cases in RND.values() for c in cases] + PAST_MSB[-1:]:
    H.id(_case)
for _case in PAST_MSB:
    H_NDEBUG.id(_case)
ABORT_CASE = PAST_MSB[-1]  # AP_RND_CONV, AP_SAT_SYM: asserts in the main harness


@pytest.fixture(scope="module")
def exe():
    return H.build()


# ----------------------------------------------------------------------------- inputs
def all_codes(t: FixedType) -> np.ndarray:
    return np.arange(t.min_code, t.max_code + 1, dtype=np.int64)


def random_codes(t: FixedType, rng, n: int) -> np.ndarray:
    edges = [t.min_code, t.min_code + 1, t.max_code, t.max_code - 1, 0, 1, -1, t.min_code // 2, t.max_code // 2]
    edges = [e for e in edges if t.min_code <= e <= t.max_code]
    if t.fits_int64:
        return np.concatenate([np.array(edges, np.int64), rng.integers(t.min_code, t.max_code, n, endpoint=True)])
    rand = rng.integers(0, 2**64 - 1, n, dtype=np.uint64, endpoint=True)  # ap_ufixed<64,..>
    return np.array(edges + [int(r) for r in rand], dtype=object)


def raw64(codes) -> np.ndarray:
    """Codes as the int64 bit patterns the harness loads into .V (for codes >= 2**63 too)."""
    codes = np.asarray(codes)
    if codes.dtype != object:
        return codes.astype(np.int64)
    return np.array([int(c) & (2**64 - 1) for c in codes.reshape(-1)], dtype=np.uint64).view(np.int64)


def double_grid(t: FixedType, rng) -> np.ndarray:
    """Every quarter LSB over the range and 3 LSBs beyond (so every tie), random values, specials."""
    k = np.arange(4 * t.min_code - 12, 4 * t.max_code + 13, dtype=np.float64)
    rand = rng.uniform(t.min_value - 4 * t.lsb, t.max_value + 4 * t.lsb, 64)
    span = max(abs(t.min_value), t.max_value, t.lsb)
    special = [0.0, -0.0, 5e-324, -5e-324, 1e-300, -1e-300, 1e300, -1e300, np.inf, -np.inf,
               t.lsb / 3, -t.lsb / 3, span * 2, -span * 2, span * 1e6, -span * 1e6]
    return np.concatenate([k * (t.lsb / 4), rand, special])


def random_doubles(t: FixedType, rng) -> np.ndarray:
    span = max(abs(t.min_value), t.max_value)
    ties = (rng.integers(-2**20, 2**20, 500) + rng.choice([0.0, 0.5, 0.25, -0.5], 500)) * t.lsb
    return np.concatenate([rng.uniform(-1.2 * span, 1.2 * span, 1500), ties, rng.uniform(-2, 2, 200),
                           rng.normal(0, 1e6, 100), [0.0, -0.0, 0.49, -0.49, 0.5, -0.5, 1e-310, -1e-310]])


def conv_batch(cases, model=convert, harness=H) -> Batch:
    batch = Batch(harness)
    for case in cases:
        codes = all_codes(case.a)
        batch.add(case, codes, 0, model(Fixed(codes, case.a), case.b))
    return batch


def fromd_batch(cases, inputs) -> Batch:
    rng, batch = np.random.default_rng(7), Batch()
    for case in cases:
        x = inputs(case.b, rng)
        batch.add(case, x.view(np.int64), 0, from_float(x, case.b))
    return batch


# ----------------------------------------------------------------------------- tests: exhaustive
def test_exhaustive_conversions(exe):
    assert conv_batch(EXH_CONV).check(exe) > 400_000


def test_exhaustive_float_to_fixed(exe):
    assert fromd_batch(EXH_FROMD, double_grid).check(exe) > 400_000


def test_rounding_past_the_source_msb(exe):
    """Rounding away more bits than the source has: C-sim aborts on an ap_private assert; with
    -DNDEBUG the header computes what quant.fixed does (the exact rounded value)."""
    x = ABORT_CASE.a.min_code
    proc = subprocess.run([str(exe)], input=np.array([H.id(ABORT_CASE), x, 0], np.int64).tobytes(),
                          capture_output=True)
    assert proc.returncode != 0 and b"Attempting to read bit beyond MSB" in proc.stderr
    assert conv_batch(PAST_MSB, harness=H_NDEBUG).check(H_NDEBUG.build()) > 1000


# ----------------------------------------------------------------------------- tests: random, wide
def test_random_conversions(exe):
    rng, batch = np.random.default_rng(1), Batch()
    for case in RND["conv"]:
        codes = random_codes(case.a, rng, 600)
        batch.add(case, codes, 0, convert(Fixed(codes, case.a), case.b))
    assert batch.check(exe) > 100_000


def test_random_float_to_fixed(exe):
    assert fromd_batch(RND["fromd"], random_doubles).check(exe) > 100_000


def test_random_arithmetic(exe):
    rng, batch = np.random.default_rng(3), Batch()
    fns = {"add": (add, "+"), "sub": (sub, "-"), "mul": (mul, "*")}
    for case in RND["ops"]:
        a, b = random_codes(case.a, rng, 1000), random_codes(case.b, rng, 1000)
        a, b = a[:min(len(a), len(b))], b[:min(len(a), len(b))]
        fn, sym = fns[case.kind]
        r = fn(Fixed(a, case.a), Fixed(b, case.b))
        assert r.type == result_type(sym, case.a, case.b)
        batch.add(case, a, b, r)
    assert batch.check(exe) > 100_000


def test_shifts(exe):
    rng, batch = np.random.default_rng(4), Batch()
    for case in RND["shifts"]:
        t = case.a
        a = random_codes(t, rng, 400)
        n = np.concatenate([np.arange(t.width + 3), rng.integers(0, 70, len(a) - t.width - 3)])
        r = (lshift if case.kind == "shl" else rshift)(Fixed(a, t), n)
        assert r.type == t
        batch.add(case, a, n, r)
    assert batch.check(exe) > 10_000


# ----------------------------------------------------------------------------- tests: the tests can fail
def test_wrong_model_is_caught(exe):
    """AP_TRN in place of AP_RND, or AP_WRAP in place of AP_SAT, must disagree with g++."""
    def trn_for_rnd(v, t):
        return Fixed(convert(v, t.with_modes(q_mode="AP_TRN") if t.q_mode == "AP_RND" else t).codes, t)

    def wrap_for_sat(v, t):
        return Fixed(convert(v, t.with_modes(o_mode="AP_WRAP") if t.o_mode == "AP_SAT" else t).codes, t)

    for wrong in (trn_for_rnd, wrap_for_sat):
        with pytest.raises(pytest.fail.Exception, match="results differ"):
            conv_batch(EXH_CONV, model=wrong).check(exe)


@pytest.mark.slow
def test_harness_same_at_O2(exe):
    """The -O0 harness gives the same results as one built with the plain CXXFLAGS (-O2)."""
    exe2 = H.build(flags=())
    for batch in (conv_batch(EXH_CONV), fromd_batch(EXH_FROMD, double_grid)):
        ids, a, b = np.concatenate(batch.ids), np.concatenate(batch.a), np.concatenate(batch.b)
        for x, y in zip(Harness.run(exe, ids, a, b), Harness.run(exe2, ids, a, b)):
            assert np.array_equal(x, y)


# ----------------------------------------------------------------------------- tests: python-only
def test_type_properties_and_names():
    t = ap_fixed(16, 6, "AP_RND", "AP_SAT")
    assert (t.frac_bits, t.min_code, t.max_code, t.lsb) == (10, -32768, 32767, 2**-10)
    assert t.cpp_name() == "ap_fixed<16,6,AP_RND,AP_SAT>"
    assert ap_ufixed(8, -2).cpp_name() == "ap_ufixed<8,-2>" and ap_ufixed(8, 3, "AP_RND_CONV").cpp_name() == \
        "ap_ufixed<8,3,AP_RND_CONV>"
    assert ap_int(8).cpp_name() == "ap_int<8>" and ap_uint(3).cpp_name() == "ap_uint<3>"
    assert (ap_uint(3).min_code, ap_uint(3).max_code) == (0, 7)
    assert result_type("+", ap_int(8), ap_uint(8)) == FixedType(10, 10, True, integer=True)
    assert result_type("-", ap_ufixed(8, 4), ap_ufixed(6, 6)) == ap_fixed(11, 7)
    assert result_type("*", ap_fixed(8, 4), ap_uint(4)) == ap_fixed(12, 8)


@pytest.mark.parametrize("kwargs, field", [
    (dict(width=0, int_bits=0), "width"), (dict(width=8.0, int_bits=2), "width"),
    (dict(width=8, int_bits=2.5), "int_bits"), (dict(width=8, int_bits=2, signed=1), "signed"),
    (dict(width=8, int_bits=2, q_mode="RND"), "q_mode"), (dict(width=8, int_bits=2, o_mode="AP_SAT_SM"), "o_mode"),
    (dict(width=8, int_bits=2, integer=True), "integer")])
def test_type_validation(kwargs, field):
    with pytest.raises(FixedTypeError, match=field):
        FixedType(**kwargs)


def test_fixed_value_class():
    t = ap_fixed(8, 4)
    with pytest.raises(FixedTypeError, match="out of range"):
        Fixed([128], t)
    with pytest.raises(FixedTypeError, match="integers"):
        Fixed([0.5], t)
    assert Fixed([128, -129], t, wrap=True).codes.tolist() == [-128, 127]
    v = from_float([1.5, -0.25], t)
    assert v.codes.tolist() == [24, -4] and v.to_float().tolist() == [1.5, -0.25]
    assert "ap_fixed<8,4>" in repr(v) and v[1].codes == -4 and from_float(1.5, t).shape == ()
    # wide types use exact Python ints: ap_ufixed<64,..> codes and 128-bit products
    u = Fixed([2**64 - 1], ap_uint(64))
    assert (u * u).codes[0] == (2**64 - 1) ** 2 and (u * u).type == ap_uint(128)
    assert (v + v).type == ap_fixed(9, 5) and (v - v).to_float().tolist() == [0.0, 0.0]


def test_compile_cpp_cache_and_errors(tmp_path):
    src = {"hello.cpp": '#include <ap_int.h>\n#include <cstdio>\nint main(){ ap_int<10> x = 300; '
                        'printf("%d\\n", (x + 1).to_int()); }\n'}
    exe1 = aptypes.compile_cpp(src, "hello")
    mtime = exe1.stat().st_mtime_ns
    assert aptypes.compile_cpp(src, "hello") == exe1 and exe1.stat().st_mtime_ns == mtime
    assert subprocess.run([exe1], capture_output=True, text=True).stdout.strip() == "301"
    (tmp_path / "k.h").write_text("constexpr int K = 7;\n")
    (tmp_path / "m.cpp").write_text('#include "k.h"\n#include <cstdio>\nint main(){ printf("%d\\n", K); }\n')
    exe2 = aptypes.compile_cpp([tmp_path / "m.cpp", tmp_path / "k.h"], "m")
    assert subprocess.run([exe2], capture_output=True, text=True).stdout.strip() == "7"
    with pytest.raises(aptypes.CompileError, match="no_such_function"):
        aptypes.compile_cpp({"bad.cpp": "int main(){ no_such_function(); }\n"}, "bad")
    assert (aptypes.aptypes_include_dir() / "ap_fixed.h").is_file()
    assert aptypes.CXXFLAGS[-1].startswith("-I")


def test_missing_headers_name_the_fix(monkeypatch):
    monkeypatch.setattr(aptypes.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(aptypes.ToolchainError, match=r"pip install --no-deps hls4ml==1\.3\.0"):
        aptypes.aptypes_include_dir()
