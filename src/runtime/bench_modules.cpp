// Per-module benchmark: the modules of one Evoformer block (Suppl. Alg. 6 lines 2-10) at L residues and S MSA rows
// with the preset's widths and random parameters, the whole block, and one extra-MSA block (Alg. 18). Each
// module updates the representations in place, so they are restored from a saved copy before every run (outside
// the timed region). FLOPs and bytes are counted from the backend operations the module issues (one counted,
// untimed run through CountingBackend). #wrong: non-finite elements of the updated representations.
#include <cmath>
#include <functional>

#include "model/evoformer.h"
#include "model/msa_attention.h"
#include "model/outer_product_mean.h"
#include "model/transition.h"
#include "model/triangle_attention.h"
#include "model/triangle_multiplication.h"
#include "parallel/communicator.h"
#include "runtime/bench.h"
#include "runtime/bench_data.h"

namespace axf::runtime::bench {

namespace {

using model::ModelConfig;
using model::Scope;

struct Module {
  std::string name;
  std::string shape;
  bool extra = false;  // works on the extra MSA instead of the MSA
  std::function<void(ExecutionContext&)> run;
};

}  // namespace

std::vector<Row> bench_modules(backend::Backend& be, const BenchOptions& opt, const BenchParams& bp, int64_t L) {
  const ModelConfig& cfg = bp.config;
  const int64_t S = opt.msa, E = opt.extra, cm = cfg.msa_channel, cz = cfg.pair_channel, ce = cfg.extra_msa_channel;
  const uint64_t seed = opt.seed * 31 + static_cast<uint64_t>(L);
  const core::DType dt = opt.precision == Precision::Bf16 ? core::DType::BF16 : core::DType::F32;
  const Tensor msa0 = be.upload(random_host({S, L, cm}, seed + 1).to(dt));
  const Tensor pair0 = be.upload(random_host({L, L, cz}, seed + 2).to(dt));
  const Tensor extra0 = be.upload(random_host({E, L, ce}, seed + 3).to(dt));
  const Tensor msa_mask = be.upload(Tensor::full({S, L}, 1.f)), extra_mask = be.upload(Tensor::full({E, L}, 1.f));
  const Tensor pair_mask = be.upload(Tensor::full({L, L}, 1.f));
  Tensor msa = be.empty({S, L, cm}, dt), pair = be.empty({L, L, cz}, dt), extra = be.empty({E, L, ce}, dt);

  const Scope evo(bp.params, std::string(model::kRootScope) + "/evoformer");
  const Scope block = evo.sub("evoformer_iteration").block(0), extra_block = evo.sub("extra_msa_stack").block(0);
  const model::EvoformerBlockConfig& ec = cfg.evoformer;
  auto att = [](const model::AttentionConfig& a, int64_t c) {
    return ModelConfig::resolved(a, static_cast<int>(c), static_cast<int>(c));
  };
  const std::string ms = "S=" + std::to_string(S) + " L=" + std::to_string(L) + " c_m=" + std::to_string(cm);
  const std::string ps = "L=" + std::to_string(L) + " c_z=" + std::to_string(cz);

  std::vector<Module> modules = {
      {"msa row attention (pair bias)", ms + " H=" + std::to_string(ec.msa_row_attention.num_head), false,
       [&](ExecutionContext& ctx) {
         model::msa_row_attention_with_pair_bias(ctx, block.sub("msa_row_attention_with_pair_bias"),
                                                 att(ec.msa_row_attention, cm), msa, msa_mask, pair);
       }},
      {"msa column attention", ms + " H=" + std::to_string(ec.msa_column_attention.num_head), false,
       [&](ExecutionContext& ctx) {
         model::msa_column_attention(ctx, block.sub("msa_column_attention"), att(ec.msa_column_attention, cm), msa,
                                     msa_mask);
       }},
      {"msa transition", ms + " x" + std::to_string(ec.msa_transition_factor), false,
       [&](ExecutionContext& ctx) { model::transition(ctx, block.sub("msa_transition"), msa, ctx.chunks().msa_rows); }},
      {"outer product mean", ms + " c=" + std::to_string(ec.outer_product_channels) + " c_z=" + std::to_string(cz),
       false, [&](ExecutionContext& ctx) { model::outer_product_mean(ctx, block.sub("outer_product_mean"), msa, msa_mask, pair); }},
      {"triangle mult outgoing", ps + " c=" + std::to_string(ec.triangle_multiplication_channels), false,
       [&](ExecutionContext& ctx) {
         model::triangle_multiplication(ctx, block.sub("triangle_multiplication_outgoing"),
                                        backend::TriangleDirection::Outgoing, pair, pair_mask);
       }},
      {"triangle mult incoming", ps + " c=" + std::to_string(ec.triangle_multiplication_channels), false,
       [&](ExecutionContext& ctx) {
         model::triangle_multiplication(ctx, block.sub("triangle_multiplication_incoming"),
                                        backend::TriangleDirection::Incoming, pair, pair_mask);
       }},
      {"triangle att starting", ps + " H=" + std::to_string(ec.triangle_attention_starting.num_head), false,
       [&](ExecutionContext& ctx) {
         model::triangle_attention(ctx, block.sub("triangle_attention_starting_node"),
                                   att(ec.triangle_attention_starting, cz), model::TriangleNode::Starting, pair,
                                   pair_mask);
       }},
      {"triangle att ending", ps + " H=" + std::to_string(ec.triangle_attention_ending.num_head), false,
       [&](ExecutionContext& ctx) {
         model::triangle_attention(ctx, block.sub("triangle_attention_ending_node"),
                                   att(ec.triangle_attention_ending, cz), model::TriangleNode::Ending, pair, pair_mask);
       }},
      {"pair transition", ps + " x" + std::to_string(ec.pair_transition_factor), false,
       [&](ExecutionContext& ctx) {
         model::transition(ctx, block.sub("pair_transition"), pair, ctx.chunks().pair_rows);
       }},
      {"evoformer block", ms + " c_z=" + std::to_string(cz), false,
       [&](ExecutionContext& ctx) {
         model::evoformer_iteration(ctx, block, ec, false, msa, msa_mask, pair, pair_mask);
       }},
      {"extra msa block", "E=" + std::to_string(E) + " L=" + std::to_string(L) + " c_e=" + std::to_string(ce), true,
       [&](ExecutionContext& ctx) {
         model::evoformer_iteration(ctx, extra_block, ec, true, extra, extra_mask, pair, pair_mask);
       }},
  };

  parallel::SelfCommunicator comm;
  CountingBackend counting(be);
  ExecutionContext count_ctx(counting, comm, opt.chunks), ctx(be, comm, opt.chunks);
  apply_precision(opt.precision, count_ctx);
  apply_precision(opt.precision, ctx);
  DeviceTimer timer(be);
  std::vector<Row> rows;
  for (const Module& m : modules) {
    auto restore = [&](int) {
      be.copy(pair0, pair);
      if (m.extra) {
        be.copy(extra0, extra);
      } else {
        be.copy(msa0, msa);
      }
    };
    restore(0);
    counting.reset();
    m.run(count_ctx);  // counted, untimed (and a first warm-up)
    be.synchronize();
    Row row;
    row.name = m.name;
    row.shape = m.shape;
    row.length = L;
    row.flops = counting.tallies().flops();
    row.bytes = counting.tallies().bytes();
    row.time = timer.run(opt.warmup, opt.repeat, [&](int) { m.run(ctx); }, restore);
    Checker chk(0);
    chk.add_nonfinite_scan(be.download(pair));
    chk.add_nonfinite_scan(be.download(m.extra ? extra : msa));
    row.wrong = chk.wrong();
    row.checked = chk.checked();
    row.note = "#wrong: non-finite outputs";
    rows.push_back(row);
  }
  return rows;
}

}  // namespace axf::runtime::bench
