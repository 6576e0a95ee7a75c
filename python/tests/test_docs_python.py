"""docs/Python.md: its python blocks run, in order, in one namespace (the torch ones in
test_api_torch.py), against a fresh cache directory."""

from api_cache import cache  # noqa: F401 - the module's cache
from docs_blocks import code_blocks, run_python_blocks


def test_quick_start_blocks_run(capsys):
    blocks = code_blocks("Python.md", "python")
    ran = run_python_blocks("Python.md", with_torch=False)
    assert ran == len([b for b in blocks if "torch" not in b[0]]) >= 6
    assert "(2, 8, 100, 64) float32" in capsys.readouterr().out
