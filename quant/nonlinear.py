"""HeatViT / I-BERT style integer nonlinear units: the definition of what the hardware computes.

The implementation is split by unit; this module re-exports the public API:

* quant.nl_exp       -- exp_int (I-BERT range reduction + quadratic) and softmax_int (one division per row)
* quant.nl_gelu      -- gelu_int (I-BERT polynomial erf)
* quant.nl_layernorm -- layernorm_int and the integer reciprocal square root (rsqrt_int: piecewise
                        quadratic, the default; rsqrt_newton_int: Newton iterations, measured alternative)

All *_int functions take and return numpy int64 codes; they use only add, sub, multiply, shifts,
compares/clamps, count-leading-zeros, small constant tables and (softmax only) one integer division
per row. Every intermediate width is stated and checked (intops.check_bits, <= 48 bits).
Parameters are frozen dataclasses of plain ints with to_dict(); fit_* functions compute them at
generation time with quantization in the loop (float least squares, then a neighbour search over the
coefficient codes minimising the mean abs error of the integer evaluation over all input codes,
tie-break max abs error). Error tables: quant.nl_report (python -m quant.nl_report).
"""
from quant.nl_exp import (ExpParams, SoftmaxParams, exp_domain, exp_int, exp_score, fit_exp, fit_softmax,
                          neighbour_search, softmax_int, softmax_unrounded)
from quant.nl_gelu import GeluParams, fit_gelu, gelu_codes, gelu_float, gelu_int, gelu_score
from quant.nl_layernorm import (LayerNormParams, RsqrtNewtonParams, RsqrtParams, fit_layernorm, fit_rsqrt,
                                fit_rsqrt_newton, layernorm_float, layernorm_int, measure_rsqrt, rsqrt_int,
                                rsqrt_newton_int)

__all__ = [
    "ExpParams", "SoftmaxParams", "GeluParams", "LayerNormParams", "RsqrtParams", "RsqrtNewtonParams",
    "fit_exp", "fit_softmax", "fit_gelu", "fit_layernorm", "fit_rsqrt", "fit_rsqrt_newton",
    "exp_int", "softmax_int", "gelu_int", "layernorm_int", "rsqrt_int", "rsqrt_newton_int",
    "exp_domain", "exp_score", "gelu_codes", "gelu_score", "gelu_float", "layernorm_float",
    "softmax_unrounded", "measure_rsqrt", "neighbour_search",
]
