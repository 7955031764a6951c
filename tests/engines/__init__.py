"""The engine contract suite: every engine against ONNX Runtime as the reference."""
