# lit configuration of the attn-mlir IR tests.
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "ATTN"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.attn_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(["attn-opt", "attn-run", "attn-compile"], [config.attn_tools_dir])
config.substitutions.append(("%attn_src_root", config.attn_src_root))

# GPU features: the CUDA toolkit that attn-gpu-pipeline uses by default
# (ptxas, fatbinary), and a CUDA driver (which CI machines do not have).
if all(os.path.exists(os.path.join("/usr/local/cuda/bin", tool))
       for tool in ("ptxas", "fatbinary")):
    config.available_features.add("cuda-toolkit")
try:
    import ctypes
    ctypes.CDLL("libcuda.so.1")
    config.available_features.add("cuda-driver")
except OSError:
    pass
