"""openacl's ``atc``: Huawei's ATC command line, converting ONNX models to openacl .om files.

An openacl .om is the ONNX model (shapes fixed, float16 inputs and re-typed outputs made
explicit with Cast nodes) plus one JSON metadata record (see :mod:`openacl.model.om`). The
modules, one job each:

``options``   the command line -> :class:`AtcOptions`
``values``    the text of structured flags (shapes, profiles, ranges, types)
``shapes``    input shapes, formats, gear tables and shape ranges, with ATC's rules
``graph``     the ONNX edits
``convert``   ``--mode=0``: the conversion, :func:`convert`
``to_json``   ``--mode=1``: :func:`model_to_json`
``cli``       the console script (prints; everything else raises)
"""

from openacl.atc.convert import convert
from openacl.atc.errors import AtcError, AtcWarning
from openacl.atc.options import AtcOptions, parse
from openacl.atc.to_json import model_to_json, write_json

__all__ = ["convert", "parse", "AtcOptions", "AtcError", "AtcWarning", "model_to_json",
           "write_json"]
