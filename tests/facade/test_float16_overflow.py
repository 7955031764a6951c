"""acl.float_to_float16 beyond float16's range: the infinity bits, without a numpy warning."""

import warnings

import acl

FLOAT16_POSITIVE_INFINITY, FLOAT16_NEGATIVE_INFINITY = 0x7C00, 0xFC00


def test_out_of_range_values_give_infinity_quietly():
    with warnings.catch_warnings():
        warnings.simplefilter("error")           # numpy's RuntimeWarning would be an error
        assert acl.float_to_float16(1e9) == FLOAT16_POSITIVE_INFINITY
        assert acl.float_to_float16(-70000) == FLOAT16_NEGATIVE_INFINITY
        assert acl.float_to_float16(1e300) == FLOAT16_POSITIVE_INFINITY   # beyond float32 too
        assert acl.float_to_float16(65504.0) == 0x7BFF                     # largest finite
