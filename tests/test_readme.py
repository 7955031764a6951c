"""The README's pyACL program runs as written (samples run as tests)."""

import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks, "the README has no python example"
    result = subprocess.run([sys.executable, "-c", blocks[0]], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("marker,printed", [
    ("dvpp_jpeg_decode_async", "top class:"),          # JPEG decode -> resize -> model
    ("vdec_send_frame", "frames classified: 10"),      # VDEC -> resize -> model in callbacks
])
def test_readme_media_examples_run(tmp_path, marker, printed):
    """The DVPP and video examples, with the AIPP model they name built here."""
    from tests.model.test_aipp import JPEG_YUV2RGB, build, config_text, identity

    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    example = next(b for b in blocks if marker in b)
    cfg = {"input_format": "YUV420SP_U8", "src_image_size_w": 224, "src_image_size_h": 224,
           "csc_switch": True, "matrix": JPEG_YUV2RGB, "input_bias": [0, 128, 128]}
    model = build(tmp_path, identity(tmp_path / "id.onnx", [1, 3, 224, 224]), config_text(cfg))
    code = example.replace('"resnet50_aipp.om"', repr(model))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, cwd=README.parent)
    assert result.returncode == 0, result.stderr
    assert printed in result.stdout
    assert "Warning" not in result.stderr


def test_readme_infer_session_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    example = next(b for b in blocks if "InferSession(0" in b)
    result = subprocess.run([sys.executable, "-c", example], capture_output=True, text=True,
                            timeout=120, cwd=README.parent)
    assert result.returncode == 0, result.stderr
    predicted, label = re.search(r"predicted (\d+) label (\d+)", result.stdout).groups()
    assert predicted == label                     # the bundled classifier gets this one right
    assert "Warning" not in result.stderr


def test_readme_ais_bench_commands_run(tmp_path):
    """The CLI lines of the README, on the bundled digits model converted by atc."""
    import shutil
    import shlex
    from importlib import resources

    text = README.read_text()
    block = text[text.index("## ais_bench"):]
    block = re.search(r"```bash\n(.*?)```", block, re.S).group(1).replace("\\\n", " ")
    shutil.copy(resources.files("openacl.assets") / "digits_cnn.onnx", tmp_path / "digits.onnx")
    images = tmp_path / "images"
    images.mkdir()
    rng = np.random.default_rng(0)
    for i in range(10):
        np.save(images / f"digit_{i}.npy", rng.random((1, 1, 8, 8), np.float32))
    for line in filter(None, (line.strip() for line in block.splitlines())):
        argv = shlex.split(line)
        if argv[0] == "atc":
            argv = [sys.executable, "-m", "openacl.atc", *argv[1:]]
        else:
            argv[0] = sys.executable
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert result.returncode == 0, (line, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
    outputs = sorted((tmp_path / "result").glob("*/*.npy"))
    assert len(outputs) == 10                        # one output file per input file
