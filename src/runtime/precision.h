// Compute precision of a run (`--precision`):
//   fp32  true fp32 everywhere (the reference; no TF32);
//   tf32  fp32 activations, GEMMs on the TF32 tensor cores (CUDA);
//   bf16  the trunk's activations (MSA, extra MSA, pair) and its weight matrices in bf16, products on the tensor
//         cores with fp32 accumulation; LayerNorm statistics, softmax, masks, biases, the structure module and
//         every output stay fp32 (CUDA).
#pragma once

#include <string>

#include "backend/backend.h"
#include "runtime/execution_context.h"

namespace axf::runtime {

enum class Precision { Fp32, Tf32, Bf16 };

// "fp32" | "tf32" | "bf16"; anything else is an error listing the choices.
Precision parse_precision(const std::string& text);
std::string precision_name(Precision p);

// Sets the backend's math mode and the context's activation dtype for `p`; an error naming the backend when it
// cannot compute in that precision (the CPU reference is fp32 only).
void apply_precision(Precision p, ExecutionContext& ctx);

}  // namespace axf::runtime
