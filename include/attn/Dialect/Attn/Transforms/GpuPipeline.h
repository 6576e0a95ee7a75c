//===- GpuPipeline.h - attn-gpu-pipeline ------------------------*- C++ -*-===//
#ifndef ATTN_DIALECT_ATTN_TRANSFORMS_GPUPIPELINE_H
#define ATTN_DIALECT_ATTN_TRANSFORMS_GPUPIPELINE_H

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir {
class DialectRegistry;
namespace attn {

/// Options of `attn-gpu-pipeline`.
struct GpuPipelineOptions : public PassPipelineOptions<GpuPipelineOptions> {
  PassOptions::Option<std::string> chip{
      *this, "chip", llvm::cl::desc("The GPU architecture (sm_90a: Hopper)"),
      llvm::cl::init("sm_90a")};
  PassOptions::Option<std::string> features{
      *this, "features",
      llvm::cl::desc("PTX features; sm_90a needs +ptx80 or newer"),
      llvm::cl::init("+ptx80")};
  PassOptions::Option<std::string> toolkit{
      *this, "toolkit",
      llvm::cl::desc("CUDA toolkit (ptxas, fatbinary, libdevice); the "
                     "environment is not consulted"),
      llvm::cl::init("/usr/local/cuda")};
  PassOptions::Option<unsigned> optLevel{
      *this, "opt-level", llvm::cl::desc("Optimisation level of the kernels"),
      llvm::cl::init(3)};
  PassOptions::Option<std::string> format{
      *this, "format",
      llvm::cl::desc("The GPU binary: fatbin (default; ptxas + fatbinary), "
                     "bin (cubin; ptxas) or isa (PTX, JIT-compiled by the "
                     "driver; needs no toolkit)"),
      llvm::cl::init("fatbin")};
  PassOptions::Option<int64_t> qTile{
      *this, "q-tile",
      llvm::cl::desc("Hopper core (chip=sm_90a): rows of a query tile, 64 "
                     "(one warpgroup) or 128 (two)"),
      llvm::cl::init(128)};
  PassOptions::Option<int64_t> kvTile{
      *this, "kv-tile",
      llvm::cl::desc("Hopper core (chip=sm_90a): keys of a key/value tile, "
                     "64, 128 or 0 (per op, as attn-gpu-sdpa-core's kv-tile)"),
      llvm::cl::init(0)};
  PassOptions::Option<bool> heavyFirst{
      *this, "heavy-first",
      llvm::cl::desc("Hopper core: query tiles in the order of "
                     "attn-gpu-sdpa-core's heavy-first (default) or, when "
                     "false, the grid's"),
      llvm::cl::init(true)};
  PassOptions::Option<int64_t> minBlocksPerSM{
      *this, "min-blocks-per-sm",
      llvm::cl::desc("Hopper core: CTAs per multiprocessor that ptxas must "
                     "leave room for (attn-gpu-sdpa-core's option; 0: "
                     "2 where two CTAs' shared memory fits)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> persistent{
      *this, "persistent",
      llvm::cl::desc("Hopper core: a persistent grid of at most this many "
                     "CTAs (attn-gpu-sdpa-core's persistent; 0: off; -1, "
                     "the default: every work tile its own CTA in its order "
                     "for causal patterns)"),
      llvm::cl::init(-1)};
  PassOptions::Option<bool> pairStores{
      *this, "pair-stores",
      llvm::cl::desc("Hopper core: 4-byte stores of output column pairs "
                     "(attn-gpu-sdpa-core's pair-stores)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> overlap{
      *this, "overlap",
      llvm::cl::desc("Hopper core: the softmax of a key tile overlapped "
                     "with the next tile's scores (attn-gpu-sdpa-core's "
                     "option)"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> warpSpecialize{
      *this, "warp-specialize",
      llvm::cl::desc("Hopper core: a producer warpgroup and two consumer "
                     "warpgroups (attn-gpu-sdpa-core's option)"),
      llvm::cl::init(false)};
  PassOptions::Option<int64_t> wsStages{
      *this, "ws-stages",
      llvm::cl::desc("Hopper core: K/V stages with warp-specialize "
                     "(attn-gpu-sdpa-core's option)"),
      llvm::cl::init(2)};
  PassOptions::Option<bool> wsPingPong{
      *this, "ws-pingpong",
      llvm::cl::desc("Hopper core: ping-pong consumers with warp-specialize "
                     "(attn-gpu-sdpa-core's option)"),
      llvm::cl::init(false)};
  PassOptions::Option<int64_t> favorKvSplits{
      *this, "favor-kv-splits",
      llvm::cl::desc("Hopper core: key runs of FAVOR+'s first phase "
                     "(attn-gpu-kernelized-as-sdpa's kv-splits; 0: picked "
                     "from the static shape)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> blockSize{
      *this, "block-size",
      llvm::cl::desc("General path: threads of a block (the innermost "
                     "dimension of each loop nest is split by it)"),
      llvm::cl::init(128)};
  PassOptions::Option<std::string> abi{
      *this, "abi",
      llvm::cl::desc("The entry functions' buffers: host (default; host "
                     "memory, copied to and from the device on each call) "
                     "or device (device pointers used in place: no "
                     "allocation or copy of an argument; every result must "
                     "be an argument, the outs operand written in place)"),
      llvm::cl::init("host")};
};

/// Appends `attn-gpu-pipeline`: attn IR on tensors to host code in the LLVM
/// dialect that calls the mgpu* functions, with the kernels in a gpu.binary.
/// Steps that claim the ops they support (the sdpa core) run first; every
/// other op takes the general path (attn-decompose, attn-lower-to-linalg,
/// buffers, parallel loops, one gpu.launch per loop nest).
LogicalResult
buildGpuPipeline(OpPassManager &pm, const GpuPipelineOptions &options,
                 function_ref<LogicalResult(const Twine &)> errorHandler);

/// The checks of `attn-gpu-pipeline`'s options (format, chip, block-size,
/// the Hopper core's tiles, abi); reports the first failure to
/// `errorHandler`.
LogicalResult verifyGpuPipelineOptions(
    const GpuPipelineOptions &options,
    function_ref<LogicalResult(const Twine &)> errorHandler);

/// The claiming step of the Hopper core (chip sm_90a): attn-gpu-sdpa-core
/// with `claim` (the attn.sdpa ops it supports become its kernels, the
/// others stay), then the inliner and symbol-dce for its pattern helpers.
/// `heavyFirst`, `minBlocksPerSM`, `overlap`, `persistent`, `pairStores`,
/// `warpSpecialize`, `wsStages` and `wsPingPong` are the pass's options of
/// those names (the defaults are the pipeline's).
void buildGpuCoreSteps(OpPassManager &pm, int64_t qTile, int64_t kvTile,
                       bool heavyFirst = true, int64_t minBlocksPerSM = 0,
                       bool overlap = false, int64_t persistent = -1,
                       bool pairStores = true, bool warpSpecialize = false,
                       int64_t wsStages = 2, bool wsPingPong = false);

/// The steps of `attn-gpu-pipeline` after the attn lowering: linalg on
/// tensors through bufferization, device buffers, one gpu.launch per loop
/// nest, the NVVM lowering and the gpu.binary; `options` must be valid.
void buildGpuBackend(OpPassManager &pm, const GpuPipelineOptions &options);

/// `attn-gpu-host-buffers`: after bufferization, moves every buffer of each
/// function to the device. The function's arguments and results stay host
/// memrefs: arguments are copied to device buffers on entry, results are
/// copied back to host buffers (into the argument's buffer when a result is
/// an argument) before the return. memref.alloc / dealloc become gpu.alloc /
/// dealloc and memref.copy becomes linalg.copy (a kernel). With
/// `abi` = "device" the arguments are the caller's device buffers, used in
/// place, and every memref result must be one of them.
std::unique_ptr<Pass> createGpuHostBuffersPass(StringRef abi = "host");

/// `attn-gpu-device-results` (abi=device, before the claiming steps): a
/// returned attn.sdpa result of a public function whose outs operand is an
/// argument is materialized in that argument
/// (bufferization.materialize_in_destination), so that it is written in
/// place; attn-gpu-host-buffers{abi=device} then lets the Hopper core's
/// output buffer be the argument itself (no copy).
std::unique_ptr<Pass> createGpuDeviceResultsPass();

/// `attn-gpu-kernelized-as-sdpa{kv-splits}` (chip sm_90a, before the
/// claiming steps): a non-causal favor_plus attn.kernelized in bf16 / f16
/// with D = Dv = 64 or 128 becomes two attn.sdpa ops with a bias (the
/// projection's rows as queries over the keys, then the queries over the
/// projection's rows), which the Hopper core takes; `kvSplits` key runs of
/// the first (0: picked from the static shape).
std::unique_ptr<Pass> createGpuKernelizedAsSdpaPass(int64_t kvSplits = 0);

/// attn-gpu-lsh-cluster-as-sdpa (a claiming step, before the core): attn.lsh
/// and attn.cluster in bf16 / f16 with D = Dv = 64 or 128 as parallel hash /
/// select and sort kernels, one attn.sdpa over the gathered chunks or
/// clusters (the core takes it) and a log-sum-exp combine
/// (GpuLshClusterAsSdpa.cpp).
std::unique_ptr<Pass> createGpuLshClusterAsSdpaPass();

/// `attn-gpu-tile-loops{block-size}`: splits the innermost dimension of each
/// outermost scf.parallel into tiles of `blockSize` iterations, a nested
/// one-dimensional scf.parallel (the threads of a block) with a bounds check.
std::unique_ptr<Pass> createGpuTileLoopsPass(int64_t blockSize = 128);

/// `attn-gpu-check-host-code`: fails on host code (outside gpu.launch) that
/// reads or writes a device buffer, or on a linalg op or scf.parallel left
/// on the host.
std::unique_ptr<Pass> createGpuCheckHostCodePass();

/// Registers `attn-gpu-pipeline`, `attn-gpu-host-buffers`,
/// `attn-gpu-tile-loops` and `attn-gpu-check-host-code`.
void registerGpuPipeline();

/// Registers what lowering to and serialising NVVM needs in a context: the
/// NVVM target attribute's interface and the LLVM IR translations of the
/// GPU, NVVM, LLVM and builtin dialects (with GPU offloading).
void registerGpuTargets(DialectRegistry &registry);

} // namespace attn
} // namespace mlir

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_GPUPIPELINE_H
