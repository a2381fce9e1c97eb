"""Vectorised fixed-point numbers with the exact semantics of Xilinx `ap_fixed` / `ap_int`.

`FixedType` names a C++ type (`ap_fixed<16,6,AP_RND,AP_SAT>`, `ap_uint<8>` ...); `Fixed` holds a
numpy array of raw two's-complement codes of one type (value = code * 2**-frac_bits). Every
operation reproduces what the Xilinx headers (hls4ml 1.3.0's copy of ap_types) compute in
C-simulation; tests/test_fixed.py compares them with g++ on millions of cases. In short:

* `from_float(x, t)` is `ap_fixed<...> v = (double)x;`: q_mode rounds away the double's extra
  fractional bits, then o_mode handles overflow. The header reads the raw IEEE bits, so a
  subnormal double is taken with an implicit leading one (as 1.f * 2**-1023) and +-inf as
  +-2**1024; NaN is decoded the same way (the header only warns). Reproduced here.
* `convert(v, t)` / `v.cast(t)` is assignment between ap_fixed types: quantization, then overflow.
  AP_SAT clamps to [min, max]; AP_SAT_ZERO gives 0 on overflow; AP_SAT_SYM clamps a signed
  target to [-max, max] (a signed 1-bit target keeps -1); AP_WRAP keeps the low `width` bits.
* `add`, `sub`, `mul` are exact and return ap_fixed's operator result types (`result_type`):
  default modes AP_TRN/AP_WRAP, `sub` always signed; ap_int op ap_int gives an ap_int.
* Into ap_int/ap_uint (`integer=True` types), C++ conversions truncate toward zero and wrap,
  ignoring modes, with two header quirks reproduced: `ap_int<W> v = (double)x` gives +1 for a
  negative x with |x| < 0.5, and a signed ap_fixed with int_bits == 0 gives -1 when negative.
* Rounding away more bits than the source has (frac_bits drop > source width, q_mode not AP_TRN)
  trips an ap_private assert in C-sim; the model returns what the header computes with NDEBUG.
* `lshift`, `rshift` are `operator<<`/`>>` by an unsigned int: the type is kept, q_mode and
  o_mode are ignored (bits shifted out of the top are lost even with AP_SAT, right shifts
  truncate even with AP_RND; a right shift is arithmetic for signed types).

Storage: codes are numpy int64 when the type's codes fit (signed width <= 64, unsigned <= 63),
otherwise numpy object arrays of Python ints (slower, exact). Arithmetic runs in int64 when every
intermediate fits (conversions between types up to 60 bits, sums and products whose result
type fits int64, e.g. two 32-bit signed codes), else in Python ints. Widths up to 1024 (the headers' AP_INT_MAX_W) are accepted.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quant.errors import UserError

Q_MODES = ("AP_TRN", "AP_TRN_ZERO", "AP_RND", "AP_RND_ZERO", "AP_RND_INF", "AP_RND_MIN_INF", "AP_RND_CONV")
O_MODES = ("AP_WRAP", "AP_SAT", "AP_SAT_ZERO", "AP_SAT_SYM")
MAX_WIDTH = 1024
_FAST_BITS = 62  # int64 arithmetic is used when all intermediates stay below 2**_FAST_BITS


class FixedTypeError(UserError, ValueError):
    """An invalid fixed-point type or operand; the message names the bad field."""


@dataclass(frozen=True)
class FixedType:
    """An ap_fixed / ap_ufixed / ap_int / ap_uint type. `integer` marks ap_int/ap_uint spellings."""
    width: int
    int_bits: int
    signed: bool = True
    q_mode: str = "AP_TRN"
    o_mode: str = "AP_WRAP"
    integer: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.width, (int, np.integer)) or isinstance(self.width, bool) \
                or not 1 <= self.width <= MAX_WIDTH:
            raise FixedTypeError(f"FixedType: width must be an integer in 1..{MAX_WIDTH}, got {self.width!r}")
        if not isinstance(self.int_bits, (int, np.integer)) or isinstance(self.int_bits, bool):
            raise FixedTypeError(f"FixedType: int_bits must be an integer, got {self.int_bits!r}")
        for f in ("signed", "integer"):
            if not isinstance(getattr(self, f), (bool, np.bool_)):
                raise FixedTypeError(f"FixedType: {f} must be a bool, got {getattr(self, f)!r}")
        if self.q_mode not in Q_MODES:
            raise FixedTypeError(f"FixedType: q_mode must be one of {', '.join(Q_MODES)}; got {self.q_mode!r}")
        if self.o_mode not in O_MODES:
            raise FixedTypeError(f"FixedType: o_mode must be one of {', '.join(O_MODES)}; got {self.o_mode!r}")
        if self.integer and (self.int_bits != self.width or self.q_mode != "AP_TRN" or self.o_mode != "AP_WRAP"):
            raise FixedTypeError("FixedType: integer=True (ap_int) needs int_bits == width, AP_TRN and AP_WRAP; "
                                 f"got int_bits={self.int_bits}, {self.q_mode}, {self.o_mode}")
        for f in ("width", "int_bits"):
            object.__setattr__(self, f, int(getattr(self, f)))
        object.__setattr__(self, "signed", bool(self.signed))
        object.__setattr__(self, "integer", bool(self.integer))

    @property
    def frac_bits(self) -> int:
        return self.width - self.int_bits

    @property
    def min_code(self) -> int:
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def max_code(self) -> int:
        return (1 << (self.width - self.signed)) - 1

    @property
    def lsb(self) -> float:
        return 2.0 ** -self.frac_bits

    @property
    def min_value(self) -> float:
        return self.min_code * self.lsb

    @property
    def max_value(self) -> float:
        return self.max_code * self.lsb

    @property
    def fits_int64(self) -> bool:
        """Whether codes are stored as int64 (else as Python ints in an object array)."""
        return self.width <= (64 if self.signed else 63)

    def cpp_name(self) -> str:
        if self.integer:
            return f"ap_{'' if self.signed else 'u'}int<{self.width}>"
        modes = ""
        if self.o_mode != "AP_WRAP":
            modes = f",{self.q_mode},{self.o_mode}"
        elif self.q_mode != "AP_TRN":
            modes = f",{self.q_mode}"
        return f"ap_{'' if self.signed else 'u'}fixed<{self.width},{self.int_bits}{modes}>"

    def with_modes(self, q_mode: str | None = None, o_mode: str | None = None) -> FixedType:
        """The same bits with other modes (an ap_int becomes the equivalent ap_fixed<W,W>)."""
        return FixedType(self.width, self.int_bits, self.signed, q_mode or self.q_mode,
                         o_mode or self.o_mode, integer=False)

    def __str__(self) -> str:
        return self.cpp_name()


def ap_int(width: int) -> FixedType:
    return FixedType(width, width, True, integer=True)


def ap_uint(width: int) -> FixedType:
    return FixedType(width, width, False, integer=True)


def ap_fixed(width: int, int_bits: int, q_mode: str = "AP_TRN", o_mode: str = "AP_WRAP") -> FixedType:
    return FixedType(width, int_bits, True, q_mode, o_mode)


def ap_ufixed(width: int, int_bits: int, q_mode: str = "AP_TRN", o_mode: str = "AP_WRAP") -> FixedType:
    return FixedType(width, int_bits, False, q_mode, o_mode)


# ----------------------------------------------------------------------------- integer kernels
def _work_dtype(bits: int):
    """int64 when intermediates of `bits` bits fit with room to spare, else Python-int objects."""
    return np.int64 if bits <= _FAST_BITS else object


def _store(codes: np.ndarray, t: FixedType) -> np.ndarray:
    return codes.astype(np.int64 if t.fits_int64 else object, copy=False)


def _wrap(q, t: FixedType):
    """q modulo 2**width, read as t's two's-complement code."""
    u = q & ((1 << t.width) - 1)
    if t.signed:
        u = u - (((u >> (t.width - 1)) & 1) << t.width)
    return u


def _round_right(c, sh, q_mode: str):
    """c / 2**sh (sh >= 1, scalar or per element) rounded per q_mode; c exact, sign-extended."""
    floor = c >> sh
    qb = ((c >> (sh - 1)) & 1).astype(bool)               # first dropped bit
    r = (c & ((np.ones_like(c) << (sh - 1)) - 1)) != 0    # any later dropped bit
    neg = c < 0
    if q_mode == "AP_TRN":
        inc = np.zeros_like(qb)
    elif q_mode == "AP_TRN_ZERO":
        inc = neg & (qb | r)
    elif q_mode == "AP_RND":
        inc = qb
    elif q_mode == "AP_RND_ZERO":
        inc = qb & (neg | r)
    elif q_mode == "AP_RND_INF":
        inc = qb & (~neg | r)
    elif q_mode == "AP_RND_MIN_INF":
        inc = qb & r
    else:  # AP_RND_CONV: ties to even
        inc = qb & (((floor & 1) != 0) | r)
    return floor + inc.astype(np.int64)


def _requantize(c: np.ndarray, frac_src, t: FixedType, fast: bool) -> np.ndarray:
    """Codes of t for the exact values c * 2**-frac_src (frac_src scalar or per element).

    fast: c is int64 with |c| < 2**60 and t.width <= 60; otherwise c is an object array.
    """
    dt = np.int64 if fast else object
    shape, c = np.shape(c), np.atleast_1d(c).reshape(-1)  # >= 1-d: 0-d object math yields bare ints
    sh = np.atleast_1d(np.asarray(frac_src - t.frac_bits)).reshape(-1)
    if fast:  # shifts of 62+ give the same results as any larger shift for |c| < 2**60
        sh = np.clip(sh, -62, 62)
    sh = sh.astype(dt)
    lo, hi = t.min_code, t.max_code
    right = sh > 0
    # Quantization: only when bits are dropped (sh > 0). Use sh=1 as a harmless placeholder elsewhere.
    q = _round_right(c, np.where(right, sh, 1).astype(dt), t.q_mode)
    q_over, q_under = q > hi, q < lo
    # Left shift by k = -sh >= 0: exact, no quantization. Compare without forming c << k.
    k = np.where(right, 0, -sh).astype(dt)
    kw = np.minimum(k, t.width).astype(dt)
    lwrap = np.where(k < t.width, (c & ((np.ones_like(c) << (t.width - kw)) - 1)) << kw, 0)
    l_over = c > (hi >> k)
    l_under = c < -((-lo) >> k)
    over = np.where(right, q_over, l_over).astype(bool)
    under = np.where(right, q_under, l_under).astype(bool)
    wrapped = _wrap(np.where(right, q, lwrap), t)
    o = t.o_mode
    if o == "AP_WRAP":
        return wrapped.reshape(shape)
    if o == "AP_SAT_ZERO":
        return np.where(over | under, 0, wrapped).reshape(shape)
    if o == "AP_SAT_SYM" and t.signed and t.width > 1:
        # Xilinx: a (signed) source landing on the most negative code is raised to -max too.
        # (c << k == lo only when k < width and c == lo >> k, which is then exact.)
        on_lo = np.where(right, q == lo, (k < t.width) & (c == (lo >> np.minimum(k, t.width - 1))))
        under, lo = under | on_lo.astype(bool), -hi
    return np.where(over, hi, np.where(under, lo, wrapped)).reshape(shape)


# ----------------------------------------------------------------------------- the value class
class Fixed:
    """A numpy array of `FixedType` values, stored as raw codes (value = code * 2**-frac_bits)."""
    __slots__ = ("codes", "type")

    def __init__(self, codes, t: FixedType, *, wrap: bool = False):
        """Wrap raw integer codes; out-of-range codes raise unless wrap=True (keep low bits)."""
        if not isinstance(t, FixedType):
            raise FixedTypeError(f"Fixed: type must be a FixedType, got {type(t).__name__}")
        arr = np.asarray(codes)
        if arr.dtype.kind == "u" and arr.dtype.itemsize == 8:
            arr = arr.astype(object)
        elif arr.dtype == object:
            if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in arr.flat):
                raise FixedTypeError("Fixed: codes must be integers (use from_float for real values)")
            arr = np.vectorize(int, otypes=[object])(arr) if arr.size else arr
        elif arr.dtype.kind not in "iu":
            raise FixedTypeError(f"Fixed: codes must be integers, got dtype {arr.dtype} (use from_float)")
        if wrap:
            arr = _wrap(arr.astype(_work_dtype(t.width + 1) if arr.dtype != object else object), t)
        elif arr.size and (np.any(arr < t.min_code) or np.any(arr > t.max_code)):
            bad = arr[(arr < t.min_code) | (arr > t.max_code)].flat[0]
            raise FixedTypeError(f"Fixed: code {bad} is out of range [{t.min_code}, {t.max_code}] of {t}")
        self.codes = _store(arr, t)
        self.type = t

    @classmethod
    def _raw(cls, codes: np.ndarray, t: FixedType) -> Fixed:
        v = object.__new__(cls)
        v.codes = _store(np.asarray(codes), t)
        v.type = t
        return v

    # numpy-like conveniences
    @property
    def shape(self) -> tuple[int, ...]:
        return self.codes.shape

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, idx) -> Fixed:
        return Fixed._raw(np.asarray(self.codes[idx]), self.type)

    def to_float(self) -> np.ndarray:
        """Values as float64 (exact while |code| < 2**53 and in double range)."""
        return np.ldexp(self.codes.astype(np.float64), -self.type.frac_bits)

    def cast(self, t: FixedType) -> Fixed:
        return convert(self, t)

    def __repr__(self) -> str:
        vals = np.array2string(self.to_float(), threshold=8, edgeitems=3, separator=", ")
        return f"Fixed({self.type.cpp_name()}, shape={self.shape}, values={vals})"

    def __add__(self, other: Fixed) -> Fixed:
        return add(self, other)

    def __sub__(self, other: Fixed) -> Fixed:
        return sub(self, other)

    def __mul__(self, other: Fixed) -> Fixed:
        return mul(self, other)

    def __lshift__(self, n) -> Fixed:
        return lshift(self, n)

    def __rshift__(self, n) -> Fixed:
        return rshift(self, n)


# ----------------------------------------------------------------------------- conversions
def from_float(x, t: FixedType) -> Fixed:
    """`T v = (double)x;` elementwise for T = t (float32 inputs widen exactly, as in C++).

    ap_fixed targets: exact value, then t.q_mode, then t.o_mode. ap_int targets follow the
    header's ap_int_base(double): the magnitude is truncated (toward zero) and wrapped, except
    that a negative double with |x| < 0.5 gives +1 (a header bug, reproduced).
    """
    bits = np.array(x, dtype=np.float64, order="C").view(np.uint64)
    neg = (bits >> np.uint64(63)).astype(bool)
    expo = ((bits >> np.uint64(52)) & np.uint64(0x7FF)).astype(np.int64) - 1023
    man = ((bits & np.uint64((1 << 52) - 1)) | np.uint64(1 << 52)).astype(np.int64)  # implicit 1, always
    zero = (bits & np.uint64((1 << 63) - 1)) == 0
    fast = t.width <= 60
    sh = 52 - expo  # value = +-man * 2**-sh
    if t.integer:
        shape, man, sh, neg = bits.shape, *(np.atleast_1d(a).reshape(-1) for a in (man, sh, neg))
        m = man.astype(np.int64 if fast else object)
        k = np.clip(-sh, 0, t.width).astype(m.dtype)
        left = (m & ((np.ones_like(m) << (t.width - k)) - 1)) << k
        mag = np.where(sh > 0, m >> np.clip(sh, 0, 60).astype(m.dtype), left)
        mag = np.where(sh >= 54, np.where(neg, -1, 0), mag)
        codes = _wrap(np.where(neg, -mag, mag), t).reshape(shape)
    else:
        c = np.where(neg, -man, man)
        codes = _requantize(c if fast else c.astype(object), sh, t, fast)
    return Fixed._raw(np.where(zero, 0, codes), t)


def convert(v: Fixed, t: FixedType) -> Fixed:
    """Assignment `T x = v;` for T = t: quantization (t.q_mode), then overflow (t.o_mode).

    Into an ap_int/ap_uint the header truncates toward zero (like C's double -> int) and wraps;
    a signed source with int_bits == 0 gives -1 for negative values (header quirk, reproduced);
    with int_bits < 0 the header reads an uninitialised value: this model returns 0 there.
    """
    _check(v)
    s = v.type
    te = t if not t.integer else FixedType(t.width, t.width, t.signed, "AP_TRN" if s.int_bits == 0 else "AP_TRN_ZERO")
    fast = max(s.width, t.width) <= 60
    codes = _requantize(v.codes.astype(np.int64 if fast else object), s.frac_bits, te, fast)
    return Fixed._raw(codes, t)


# ----------------------------------------------------------------------------- arithmetic
def result_type(op: str, a: FixedType, b: FixedType) -> FixedType:
    """The C++ result type of `a op b` for op in '+', '-', '*' (RType in ap_fixed_base.h / ap_int_base.h)."""
    fa, fb = a.frac_bits, b.frac_bits
    if op == "*":
        w, i, s = a.width + b.width, a.int_bits + b.int_bits, a.signed or b.signed
    elif op in ("+", "-"):
        # An unsigned operand meeting a signed one needs one more integer bit to stay exact.
        i = max(a.int_bits + (b.signed and not a.signed), b.int_bits + (a.signed and not b.signed)) + 1
        w, s = i + max(fa, fb), (op == "-") or a.signed or b.signed
    else:
        raise FixedTypeError(f"result_type: op must be '+', '-' or '*', got {op!r}")
    if w > MAX_WIDTH:
        raise FixedTypeError(f"result_type: {a} {op} {b} would need {w} bits (> {MAX_WIDTH})")
    if a.integer and b.integer:
        return FixedType(w, w, s, integer=True)
    return FixedType(w, i, s)


def _check(*vs) -> None:
    for v in vs:
        if not isinstance(v, Fixed):
            raise FixedTypeError(f"expected a Fixed operand, got {type(v).__name__}")


def _flat(dtype, *arrays):
    """Broadcast arrays and flatten them to 1-d in `dtype` (0-d object math would yield bare ints)."""
    arrays = np.broadcast_arrays(*(np.asarray(a) for a in arrays))
    return (arrays[0].shape, *(np.array(a).reshape(-1).astype(dtype) for a in arrays))


def _addsub(a: Fixed, b: Fixed, op: str) -> Fixed:
    _check(a, b)
    rt = result_type(op, a.type, b.type)
    # RType is wide enough for the exact result (and the aligned operands): no wrap, and int64
    # arithmetic is exact whenever the result type's codes fit in int64.
    shape, ca, cb = _flat(np.int64 if rt.fits_int64 else object, a.codes, b.codes)
    ca, cb = ca << (rt.frac_bits - a.type.frac_bits), cb << (rt.frac_bits - b.type.frac_bits)
    return Fixed._raw((ca + cb if op == "+" else ca - cb).reshape(shape), rt)


def add(a: Fixed, b: Fixed) -> Fixed:
    """Exact a + b in ap_fixed's operator+ result type."""
    return _addsub(a, b, "+")


def sub(a: Fixed, b: Fixed) -> Fixed:
    """Exact a - b in ap_fixed's operator- result type (always signed)."""
    return _addsub(a, b, "-")


def mul(a: Fixed, b: Fixed) -> Fixed:
    """Exact a * b in ap_fixed's operator* result type (width W1+W2, int_bits I1+I2)."""
    _check(a, b)
    rt = result_type("*", a.type, b.type)
    shape, ca, cb = _flat(np.int64 if rt.fits_int64 else object, a.codes, b.codes)  # exact, as in _addsub
    return Fixed._raw((ca * cb).reshape(shape), rt)


def _shift_amount(n) -> np.ndarray:
    n = np.asarray(n)
    if n.dtype.kind not in "iu" or (n.size and np.any(n < 0)):
        raise FixedTypeError(f"shift amount must be a non-negative integer (C++ unsigned int), got {n!r}")
    return n.astype(np.int64)


def lshift(v: Fixed, n) -> Fixed:
    """`v << n` (n unsigned, scalar or array): same type, top bits lost, no saturation."""
    _check(v)
    t = v.type
    shape, c, n = _flat(_work_dtype(t.width + 1), v.codes, _shift_amount(n))
    nw = np.minimum(n, t.width)
    shifted = (c & ((np.ones_like(c) << (t.width - nw)) - 1)) << nw
    return Fixed._raw(_wrap(np.where(n < t.width, shifted, 0), t).reshape(shape), t)


def rshift(v: Fixed, n) -> Fixed:
    """`v >> n` (n unsigned, scalar or array): same type, truncates (arithmetic for signed)."""
    _check(v)
    t = v.type
    shape, c, n = _flat(_work_dtype(t.width + 1), v.codes, _shift_amount(n))
    return Fixed._raw((c >> np.minimum(n, t.width)).reshape(shape), t)
