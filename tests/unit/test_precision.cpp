// --precision parsing and its effect on a run's context: fp32 everywhere on the CPU reference, which refuses bf16
// and TF32 with an error naming the backend; bf16 trunk weights are converted by name, vectors stay fp32.
#include <gtest/gtest.h>

#include "core/error.h"
#include "model/config.h"
#include "model/params.h"
#include "parallel/communicator.h"
#include "runtime/precision.h"

namespace axf::test {
namespace {

using core::Tensor;

TEST(Precision, ParsesTheThreeNamesAndRejectsOthers) {
  EXPECT_EQ(runtime::parse_precision("fp32"), runtime::Precision::Fp32);
  EXPECT_EQ(runtime::parse_precision("tf32"), runtime::Precision::Tf32);
  EXPECT_EQ(runtime::parse_precision("bf16"), runtime::Precision::Bf16);
  for (const char* bad : {"fp16", "BF16", "", "float"}) {
    try {
      runtime::parse_precision(bad);
      ADD_FAILURE() << bad << " accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("expected fp32, tf32 or bf16"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(runtime::precision_name(runtime::Precision::Bf16), "bf16");
}

TEST(Precision, CpuBackendRunsFp32AndRefusesBf16AndTf32) {
  auto cpu = backend::make_cpu_backend(1);
  parallel::SelfCommunicator comm;
  runtime::ExecutionContext ctx(*cpu, comm);
  runtime::apply_precision(runtime::Precision::Fp32, ctx);
  EXPECT_EQ(ctx.dtype(), core::DType::F32);
  try {
    runtime::apply_precision(runtime::Precision::Bf16, ctx);
    ADD_FAILURE() << "bf16 accepted on the CPU backend";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cpu backend computes in fp32 only"), std::string::npos) << e.what();
  }
  EXPECT_THROW(runtime::apply_precision(runtime::Precision::Tf32, ctx), Error);
  EXPECT_EQ(ctx.dtype(), core::DType::F32);
}

TEST(Precision, ConvertTrunkWeightsConvertsMatricesByNameOnly) {
  auto cpu = backend::make_cpu_backend(1);
  model::Params params;
  const std::string evo = std::string(model::kRootScope) + "/evoformer/";
  params.insert(evo + "evoformer_iteration/msa_transition/transition1//weights", Tensor::zeros({2, 4, 8}));
  params.insert(evo + "evoformer_iteration/msa_transition/transition1//bias", Tensor::zeros({2, 8}));  // stacked vector
  params.insert(evo + "evoformer_iteration/msa_row_attention_with_pair_bias/attention//query_w",
                Tensor::zeros({2, 4, 2, 2}));
  params.insert(evo + "evoformer_iteration/msa_row_attention_with_pair_bias//feat_2d_weights", Tensor::zeros({2, 3, 2}));
  params.insert(evo + "evoformer_iteration/msa_row_attention_with_pair_bias/attention//gating_b", Tensor::zeros({2, 2, 2}));
  params.insert(std::string(model::kRootScope) + "/structure_module//weights", Tensor::zeros({4, 4}));
  EXPECT_EQ(model::convert_trunk_weights(params, *cpu, core::DType::BF16), 3);
  for (const auto& [key, t] : params.arrays()) {
    const std::string name = key.substr(key.rfind("//") + 2);
    const bool matrix = name == "weights" || name == "query_w" || name == "feat_2d_weights";
    const bool trunk = key.rfind(evo, 0) == 0;
    EXPECT_EQ(t.dtype(), trunk && matrix ? core::DType::BF16 : core::DType::F32) << key;
  }
}

}  // namespace
}  // namespace axf::test
