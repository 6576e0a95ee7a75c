/* Driver of capi-aot.test: links the ahead-of-time compiled
 * Inputs/aot-sdpa.mlir and checks _mlir_ciface_sdpa_causal against attention
 * in double precision (sdpa-check.h). Exits 1 when the error exceeds 1e-5. */

#include "sdpa-check.h"

void _mlir_ciface_sdpa_causal(Memref4 *result, Memref4 *q, Memref4 *k,
                              Memref4 *v, Memref4 *o);

int main(void) {
  return checkSdpaCausal("sdpa_causal", _mlir_ciface_sdpa_causal);
}
