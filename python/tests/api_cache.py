"""The attn_mlir.compile cache of the API tests: ``from api_cache import cache`` gives a test
module a disk cache new in this pytest session (shared by the modules that import it) and an
empty in-memory cache."""

import os

import pytest

from attn_mlir import compiler


@pytest.fixture(scope="module", autouse=True)
def cache(tmp_path_factory):
    directory = tmp_path_factory.getbasetemp() / "attn-cache"
    old = os.environ.get("ATTN_MLIR_CACHE")
    os.environ["ATTN_MLIR_CACHE"] = str(directory)
    compiler.clear_memory_cache()
    yield directory
    compiler.clear_memory_cache()
    if old is None:
        del os.environ["ATTN_MLIR_CACHE"]
    else:
        os.environ["ATTN_MLIR_CACHE"] = old
