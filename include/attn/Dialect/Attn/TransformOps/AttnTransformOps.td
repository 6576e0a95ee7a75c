//===- AttnTransformOps.td - transform.attn.* ops ----------*- tablegen -*-===//
#ifndef ATTN_DIALECT_ATTN_TRANSFORMOPS_ATTNTRANSFORMOPS_TD
#define ATTN_DIALECT_ATTN_TRANSFORMOPS_ATTNTRANSFORMOPS_TD

include "mlir/Dialect/Transform/IR/TransformDialect.td"
include "mlir/Dialect/Transform/Interfaces/TransformInterfaces.td"
include "mlir/Dialect/Transform/IR/TransformTypes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/OpBase.td"

class Attn_TransformOp<string mnemonic, list<Trait> traits = []>
    : Op<Transform_Dialect, "attn." # mnemonic, !listconcat(traits, [
        DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
        DeclareOpInterfaceMethods<TransformOpInterface>])> {
  let cppNamespace = "::mlir::attn";
}

def Attn_DecomposeOp : Attn_TransformOp<"decompose"> {
  let summary = "Decomposes the non-core attn ops into attn.sdpa and linalg";
  let description = [{
    Every attn op other than `attn.sdpa` (lsh, cluster, lowrank, kernelized,
    pkm, lightconv) among the targets, or nested in them, is replaced by its
    decomposition, as `attn-decompose{compute-type=...}` does. The target
    handle is only read (a nested op it points to that is decomposed is
    removed from it); the op has no result: match the `attn.sdpa` ops that
    come out of it afterwards.

    ```mlir
    transform.attn.decompose %func {compute_type = "f32"} : !transform.any_op
    ```
  }];
  let arguments = (ins TransformHandleTypeInterface:$target,
                       DefaultValuedStrAttr<StrAttr, "f32">:$compute_type);
  let assemblyFormat = "$target attr-dict `:` type($target)";
}

def Attn_TileOp : Attn_TransformOp<"tile"> {
  let summary = "Rewrites attn.sdpa ops into the flash form (attn-tile)";
  let description = [{
    Each target must be an `attn.sdpa`; it is replaced by the flash form that
    `attn-tile{q-tile=... kv-tile=... compute-type=... prefetch=...}` builds (an
    `scf.forall` over batch, head and query tile with the online softmax over
    key tiles; docs/Pipelines.md). The target handle is consumed; the result
    maps to the `scf.forall` of each target (or, for an op with a head dim of
    0, which takes the reference lowering, to the op that defines its
    replacement). With the unit attribute `prefetch`, each query tile
    prefetches the next query tile's rows of q (and of an output written in
    place) and, before its key loop, the rows of k and v of the key tile
    just past each of its key ranges (attn-tile's `prefetch=true`). With the
    unit attribute `in_place`, a destination that is the function's own
    returned argument is written in place (attn-tile's
    `fresh-destination=false`, as attn-cpu-pipeline tiles: its lowering drops
    the clone that the buffer deallocation makes of a returned argument).

    ```mlir
    %loops = transform.attn.tile %sdpa {q_tile = 64, kv_tile = 64}
        : (!transform.any_op) -> !transform.any_op
    ```
  }];
  let arguments = (ins TransformHandleTypeInterface:$target,
                       DefaultValuedAttr<I64Attr, "64">:$q_tile,
                       DefaultValuedAttr<I64Attr, "64">:$kv_tile,
                       DefaultValuedStrAttr<StrAttr, "f32">:$compute_type,
                       UnitAttr:$prefetch, UnitAttr:$in_place);
  let results = (outs TransformHandleTypeInterface:$loops);
  let assemblyFormat =
      "$target attr-dict `:` functional-type(operands, results)";
}

def Attn_LowerToLinalgOp : Attn_TransformOp<"lower_to_linalg"> {
  let summary = "Lowers attn.sdpa ops to linalg: the reference path";
  let description = [{
    Each target must be an `attn.sdpa`; it is replaced by the unfused linalg
    of `attn-lower-to-linalg{compute-type=...}` (scores materialized). The
    target handle is consumed.

    ```mlir
    transform.attn.lower_to_linalg %sdpa {compute_type = "f64"} : !transform.any_op
    ```
  }];
  let arguments = (ins TransformHandleTypeInterface:$target,
                       DefaultValuedStrAttr<StrAttr, "f32">:$compute_type);
  let assemblyFormat = "$target attr-dict `:` type($target)";
}

def Attn_PrepareTileLoopsOp : Attn_TransformOp<"prepare_tile_loops"> {
  let summary = "Readies the flash form's tile ops for the CPU (attn-prepare-tile-loops)";
  let description = [{
    Runs `attn-prepare-tile-loops` on each target, which must be isolated
    from above (a function or a module): the tile's `linalg.matmul` ops
    become `linalg.generic`, the `P V` contraction is interchanged and the
    tile arithmetic gets reassociation flags. The handle is only read.

    ```mlir
    transform.attn.prepare_tile_loops %module : !transform.any_op
    ```
  }];
  let arguments = (ins TransformHandleTypeInterface:$target);
  let assemblyFormat = "$target attr-dict `:` type($target)";
}

def Attn_LowerToCpuOp : Attn_TransformOp<"lower_to_cpu"> {
  let summary = "Maps linalg on tensors (the flash form or the reference) to the LLVM dialect for the CPU";
  let description = [{
    Runs on each target, which must be a `builtin.module`, the steps of
    `attn-cpu-pipeline` that follow the attn lowering: canonicalize and cse,
    bufferization and buffer deallocation, with `mode = "fused"` the vector
    micro-kernels (`vector_width` lanes, 0 for none), the loops and the
    OpenMP parallel loop, and the conversions to the LLVM dialect. After
    `transform.attn.decompose`, `transform.attn.tile` and
    `transform.attn.prepare_tile_loops` with the same options, the module is
    the one `attn-cpu-pipeline{mode=fused ...}` makes; after
    `transform.attn.lower_to_linalg`, use `mode = "reference"`. The handle is
    consumed: handles to ops inside the module are invalid afterwards.

    ```mlir
    transform.attn.lower_to_cpu %module {mode = "fused", vector_width = 16} : !transform.any_op
    ```
  }];
  let arguments = (ins TransformHandleTypeInterface:$target,
                       DefaultValuedStrAttr<StrAttr, "fused">:$mode,
                       DefaultValuedAttr<I64Attr, "16">:$vector_width);
  let assemblyFormat = "$target attr-dict `:` type($target)";
}

def Attn_MapToGpuCoreOp : Attn_TransformOp<"map_to_gpu_core"> {
  let summary = "Lowers the attn.sdpa ops that the Hopper core takes to its kernels";
  let description = [{
    The claiming step of `attn-gpu-pipeline` for `chip = "sm_90a"`: runs
    `attn-gpu-sdpa-core{claim q-tile=... kv-tile=...}` on each target, which
    must be a `builtin.module`, then the inliner and `symbol-dce` for the
    kernels' pattern helpers. Every `attn.sdpa` the core supports (bf16 or
    f16, head dim 64 or 128; docs/GPU.md) becomes a `gpu.launch_func` of a
    kernel in `gpu.module @attn_gpu`; the other ops are left for
    `transform.attn.decompose`, `transform.attn.lower_to_linalg` and
    `transform.attn.lower_to_gpu`. Leave it out for a chip other than
    sm_90a, as the pipeline does. The handle is only read; handles to ops
    inside the module are invalid afterwards.

    ```mlir
    transform.attn.map_to_gpu_core %module {q_tile = 128, kv_tile = 64} : !transform.any_op
    ```

    `kv_tile = 0` (the default, as in the pipeline) lets the core pick the
    key tile per op (128 keys for causal or causal-window ops at head dim
    64, else 64).
  }];
  let arguments = (ins TransformHandleTypeInterface:$target,
                       DefaultValuedAttr<I64Attr, "128">:$q_tile,
                       DefaultValuedAttr<I64Attr, "0">:$kv_tile);
  let assemblyFormat = "$target attr-dict `:` type($target)";
}

def Attn_LowerToGpuOp : Attn_TransformOp<"lower_to_gpu"> {
  let summary = "Maps linalg on tensors to GPU kernels in a gpu.binary and host code in the LLVM dialect";
  let description = [{
    Runs on each target, which must be a `builtin.module`, the steps of
    `attn-gpu-pipeline` that follow the attn lowering: canonicalize and cse,
    bufferization and buffer deallocation, device buffers
    (`attn-gpu-host-buffers{abi}`), linalg to parallel loops split into
    blocks of `block_size` threads, one `gpu.launch` per loop nest, kernel
    outlining, the NVVM lowering for `chip` / `features` / `opt_level` and
    the `gpu.binary` in `format` (`fatbin`, `bin`: with ptxas from
    `toolkit`; `isa`: PTX, no toolkit). The options are those of the
    pipeline, with the same defaults and checks. After
    `transform.attn.map_to_gpu_core` (sm_90a), `transform.attn.decompose`
    and `transform.attn.lower_to_linalg` of the `attn.sdpa` ops left (both
    with compute type f32), the module is the one `attn-gpu-pipeline` makes;
    with `abi = "device"`, first apply the registered pass
    `attn-gpu-device-results`, as the pipeline does. The handle is
    consumed: handles to ops inside the module are invalid afterwards.

    ```mlir
    transform.attn.lower_to_gpu %module {chip = "sm_90a", format = "isa"} : !transform.any_op
    ```
  }];
  let arguments = (ins TransformHandleTypeInterface:$target,
                       DefaultValuedStrAttr<StrAttr, "sm_90a">:$chip,
                       DefaultValuedStrAttr<StrAttr, "+ptx80">:$features,
                       DefaultValuedStrAttr<StrAttr, "/usr/local/cuda">:$toolkit,
                       DefaultValuedAttr<I64Attr, "3">:$opt_level,
                       DefaultValuedStrAttr<StrAttr, "fatbin">:$format,
                       DefaultValuedAttr<I64Attr, "128">:$block_size,
                       DefaultValuedStrAttr<StrAttr, "host">:$abi);
  let assemblyFormat = "$target attr-dict `:` type($target)";
}

#endif // ATTN_DIALECT_ATTN_TRANSFORMOPS_ATTNTRANSFORMOPS_TD
