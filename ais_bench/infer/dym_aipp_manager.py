"""ais_bench's ``--aipp_config`` file: dynamic AIPP parameters in an ``[aipp_op]`` section.

The file is an INI file (``key = value``), unlike ATC's ``aipp_op { ... }`` blocks. Each
reader checks its fields with ais_bench's ranges and messages, and records them in a
``DynamicAipp`` parameter set (every image of the batch gets the same per-image fields); a
bad field is logged and raises ``RuntimeError("wrong aipp config file content!")``.
"""

from __future__ import annotations

import logging
from configparser import ConfigParser, Error as ConfigError

from openacl.errors import AclError
from openacl.model.aipp_dynamic import DynamicAipp

__all__ = ["parameters_from_file", "WRONG_CONFIG", "input_format", "src_image_size",
           "rbuv_swap_switch", "ax_swap_switch", "csc_params", "crop_params",
           "padding_params", "dtc_pixel_mean", "dtc_pixel_min", "pixel_var_reci"]

logger = logging.getLogger("ais_bench.infer.interface")

WRONG_CONFIG = "wrong aipp config file content!"
SECTION = "aipp_op"
_FORMATS = {"YUV420SP_U8": 1, "XRGB8888_U8": 2, "RGB888_U8": 3, "YUV400_U8": 4}
_CSC_NAMES = ("matrix_r0c0", "matrix_r0c1", "matrix_r0c2", "matrix_r1c0", "matrix_r1c1",
              "matrix_r1c2", "matrix_r2c0", "matrix_r2c1", "matrix_r2c2", "output_bias_0",
              "output_bias_1", "output_bias_2", "input_bias_0", "input_bias_1", "input_bias_2")
_MATRIX_RANGE = (-32677, 32676)


def parameters_from_file(config_file: str, batchsize: int) -> DynamicAipp:
    """The parameter set an ais_bench AIPP config file describes, for ``batchsize`` images."""
    cfg = ConfigParser()
    try:
        read = cfg.read(config_file, "UTF-8")
    except ConfigError as error:
        logger.error("aipp config file %s cannot be parsed: %s", config_file, error)
        raise RuntimeError(WRONG_CONFIG) from None
    if not read:
        raise RuntimeError(f"aipp config file {config_file!r} cannot be read")
    if cfg.sections().count(SECTION) != 1:
        _fail("nums of section aipp_op in .config file is not supported")
    options = cfg.options(SECTION)
    if "input_format" not in options:
        _fail("can not find input_format in config file")
    if "src_image_size_w" not in options or "src_image_size_h" not in options:
        _fail("can not find src_image_size in config file")
    if not isinstance(batchsize, int) or batchsize < 1:
        raise RuntimeError(f"batchsize:{batchsize} is not a positive integer")
    aipp = DynamicAipp(batchsize)
    input_format(aipp, cfg)
    src_image_size(aipp, cfg)
    for reader in (rbuv_swap_switch, ax_swap_switch, csc_params, crop_params, padding_params,
                   dtc_pixel_mean, dtc_pixel_min, pixel_var_reci):
        reader(aipp, cfg, options)
    return aipp


def input_format(aipp: DynamicAipp, cfg) -> None:
    name = cfg.get(SECTION, "input_format")
    if name not in _FORMATS:
        _fail("input_format in config file is illegal")
    aipp.set_input_format(_FORMATS[name])


def src_image_size(aipp: DynamicAipp, cfg) -> None:
    width, height = _int(cfg, "src_image_size_w"), _int(cfg, "src_image_size_h")
    if not 2 <= width <= 4096 or not 1 <= height <= 4096:
        _fail("src_image_size in config file out of range")
    aipp.set_src_image_size(width, height)


def rbuv_swap_switch(aipp: DynamicAipp, cfg, options) -> None:
    aipp.set_rbuv_swap(_switch(cfg, options, "rbuv_swap_switch", "rbuv_swap_switch"))


def ax_swap_switch(aipp: DynamicAipp, cfg, options) -> None:
    aipp.set_ax_swap(_switch(cfg, options, "ax_swap_switch", "ax_swap_switch"))


def csc_params(aipp: DynamicAipp, cfg, options) -> None:
    switch = _switch(cfg, options, "csc_switch", "csc_switch")
    values = [_int(cfg, name) if name in options else 0 for name in _CSC_NAMES]
    low, high = _MATRIX_RANGE
    if switch and (any(not low <= v <= high for v in values[:9])
                   or any(not 0 <= v <= 255 for v in values[9:])):
        _fail("csc_params in config file out of range")
    _record("csc_params", lambda: aipp.set_csc(switch, values[:9], values[9:12], values[12:]))


def crop_params(aipp: DynamicAipp, cfg, options) -> None:
    switch = _switch(cfg, options, "crop", "crop_switch(crop)")
    values = _ints(cfg, options, ("load_start_pos_w", "load_start_pos_h", "crop_size_w",
                                  "crop_size_h"), 0)
    _per_image(aipp, "crop_params", lambda i: aipp.set_crop(switch, *values, i))


def padding_params(aipp: DynamicAipp, cfg, options) -> None:
    switch = _switch(cfg, options, "padding", "padding_switch")
    values = _ints(cfg, options, ("padding_size_top", "padding_size_bottom",
                                  "padding_size_left", "padding_size_right"), 0)
    _per_image(aipp, "padding_params", lambda i: aipp.set_padding(switch, *values, i))


def dtc_pixel_mean(aipp: DynamicAipp, cfg, options) -> None:
    values = _ints(cfg, options, [f"mean_chn_{c}" for c in range(4)], 0)
    _per_image(aipp, "mean_chn_params", lambda i: aipp.set_mean(values, i))


def dtc_pixel_min(aipp: DynamicAipp, cfg, options) -> None:
    values = _floats(cfg, options, [f"min_chn_{c}" for c in range(4)], 0.0)
    _per_image(aipp, "min_chn_params", lambda i: aipp.set_min(values, i))


def pixel_var_reci(aipp: DynamicAipp, cfg, options) -> None:
    values = _floats(cfg, options, [f"var_reci_chn_{c}" for c in range(4)], 1.0)
    _per_image(aipp, "var_reci_chn_params", lambda i: aipp.set_var_reci(values, i))


def _fail(what: str):
    logger.error("%s, please check it!", what)
    raise RuntimeError(WRONG_CONFIG)


def _int(cfg, option: str) -> int:
    try:
        return cfg.getint(SECTION, option)
    except ValueError:
        _fail(f"{option} in config file is not an integer")


def _ints(cfg, options, names, default) -> list[int]:
    return [_int(cfg, name) if name in options else default for name in names]


def _floats(cfg, options, names, default) -> list[float]:
    values = []
    for name in names:
        try:
            values.append(cfg.getfloat(SECTION, name) if name in options else default)
        except ValueError:
            _fail(f"{name} in config file is not a number")
    return values


def _switch(cfg, options, option: str, what: str) -> int:
    value = _int(cfg, option) if option in options else 0
    if value not in (0, 1):
        _fail(f"{what} in config file out of range")
    return value


def _record(what: str, set_it) -> None:
    try:
        set_it()
    except AclError as error:
        logger.error("%s in config file out of range, please check it! (%s)", what,
                     error.message)
        raise RuntimeError(WRONG_CONFIG) from error


def _per_image(aipp: DynamicAipp, what: str, set_one) -> None:
    _record(what, lambda: [set_one(index) for index in range(aipp.batch)])
