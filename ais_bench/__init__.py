"""ais_bench on openacl: the ``python -m ais_bench`` tool and ``InferSession``.

Huawei's ais_bench runs offline models on an Ascend NPU; this package gives the same
command line and Python API on openacl's runtime, so programs written against
``ais_bench.infer.interface.InferSession`` run unchanged on any machine.
"""
