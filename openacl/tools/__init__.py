"""Command-line tools: ``openacl`` (demo) and ``atc`` (in openacl.atc)."""
