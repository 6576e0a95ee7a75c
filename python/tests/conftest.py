"""Puts python/ on sys.path so that `import attn_mlir` works without installing it."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pytest_collection_modifyitems(config, items):
    """ATTN_PYTEST_SAMPLE=K keeps every K-th case of each parametrized test (its first case
    always): the sanitizer suite (scripts/sanitize.sh) runs this sample under ASan + UBSan,
    every function with a spread of its parameters, while scripts/test.sh runs every case.
    The cases left out are reported as deselected."""
    sample = int(os.environ.get("ATTN_PYTEST_SAMPLE", "1") or "1")
    if sample <= 1:
        return
    seen = {}
    kept, dropped = [], []
    for item in items:
        key = (item.path, getattr(item, "originalname", item.name))
        index = seen.get(key, 0)
        seen[key] = index + 1
        (kept if index % sample == 0 else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
