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

# The CUDA toolkit's ptxas, for the GPU tests that assemble generated PTX.
import sys
config.substitutions.append(("%python", sys.executable))
if os.path.exists("/usr/local/cuda/bin/ptxas"):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", "/usr/local/cuda/bin/ptxas"))

# test/Embedding: upstream mlir-opt (by its full path) with our plugin, the
# installed tree and the C API. They need the shared libraries, which the
# sanitizer builds do not have: such tests require "attn-embedding".
llvm_config.add_tool_substitutions(["mlir-opt"], [config.llvm_tools_dir])
llvm_config.add_tool_substitutions(
    ["attn-lsp-server", "attn-capi-test", "attn-capi-compile", "attn-capi-jit",
     "attn-capi-artifact"],
    [config.attn_tools_dir])
llvm_config.add_tool_substitutions(["llc"], [config.llvm_tools_dir])
config.substitutions.append(("%cc", config.cmake_c_compiler))
config.substitutions.append(
    ("%llvm_lib_dir", os.path.join(os.path.dirname(config.llvm_tools_dir), "lib")))
config.substitutions.append(
    ("%attn_plugin", os.path.join(config.attn_obj_root, "lib", "AttnPlugin.so")))
config.substitutions.append(("%attn_obj_root", config.attn_obj_root))
config.substitutions.append(("%cmake", config.cmake_command))
config.substitutions.append(
    ("%consumer_cmake_args",
     " ".join(["-G Ninja", "-DCMAKE_MAKE_PROGRAM=" + config.cmake_make_program,
               "-DCMAKE_C_COMPILER=" + config.cmake_c_compiler,
               "-DCMAKE_CXX_COMPILER=" + config.cmake_cxx_compiler]
              + (["-DCMAKE_C_COMPILER_LAUNCHER=" + config.cmake_cxx_launcher,
                  "-DCMAKE_CXX_COMPILER_LAUNCHER=" + config.cmake_cxx_launcher]
                 if config.cmake_cxx_launcher else []))))
if config.attn_embedding == "ON":
    config.available_features.add("attn-embedding")

# CPU features of the host that the JIT-compiled code may use: a test that
# needs one says REQUIRES and is UNSUPPORTED elsewhere.
try:
    with open("/proc/cpuinfo") as cpuinfo:
        cpu_flags = set(cpuinfo.read().split())
except OSError:
    cpu_flags = set()
if {"avx512f", "avx512_bf16"} <= cpu_flags:
    config.available_features.add("avx512bf16")
    if {"amx_tile", "amx_bf16"} <= cpu_flags:
        config.available_features.add("amx-bf16")

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
