#include "model/heads.h"

#include <vector>

#include "core/error.h"
#include "model/confidence.h"

namespace axf::model {

namespace {

using backend::Activation;
using backend::Backend;

// A single Linear head on [N, ..., C_in] activations, chunked over dim 0, downloaded into a host tensor.
Tensor linear_head(runtime::ExecutionContext& ctx, const Scope& lin, const Tensor& act, int64_t chunk) {
  Backend& be = ctx.backend();
  const Tensor w = lin["weights"], b = lin["bias"];
  AXF_CHECK(act.ndim() >= 2 && act.size(-1) == w.size(0), "head '", lin.path(), "': activations ", act.describe(),
            " vs weights ", w.describe());
  Shape shape = act.shape();
  shape.back() = w.size(1);
  Tensor out = Tensor::empty(shape);
  runtime::for_each_chunk(act.size(0), chunk, [&](int64_t begin, int64_t end) {
    Shape part_shape = shape;
    part_shape[0] = end - begin;
    Tensor part = be.empty(part_shape);
    be.linear({act.slice(0, begin, end), w, b, part});
    Tensor rows = out.slice(0, begin, end);
    be.download_to(part, rows);
  });
  return out;
}

// DistogramHead: logits = half_logits + swapaxes(half_logits, -2, -3), half_logits = Linear(pair). Rows [b, e) of
// the result need half_logits[b:e, :] and half_logits[:, b:e] (the latter from the pair columns b..e).
Tensor distogram_logits(runtime::ExecutionContext& ctx, const Scope& lin, const Tensor& pair) {
  Backend& be = ctx.backend();
  const Tensor w = lin["weights"], b = lin["bias"];
  const int64_t L = pair.size(0), cz = pair.size(2), nb = w.size(1);
  AXF_CHECK(pair.ndim() == 3 && pair.size(1) == L && cz == w.size(0), "distogram head: pair ", pair.describe(),
            " vs weights ", w.describe());
  Tensor out = Tensor::empty({L, L, nb});
  runtime::for_each_chunk(L, ctx.chunks().pair_rows, [&](int64_t begin, int64_t end) {
    const int64_t rows = end - begin;
    Tensor logits = be.empty({rows, L, nb});
    be.linear({pair.slice(0, begin, end), w, b, logits});
    Tensor columns = be.empty({L, rows, cz}, pair.dtype());
    be.copy(pair.slice(1, begin, end), columns);
    Tensor half_t = be.empty({L, rows, nb});  // half_logits[:, begin:end]
    be.linear({columns, w, b, half_t});
    Tensor half = be.empty({rows, L, nb});
    be.copy(half_t.transpose(0, 1), half);
    be.add(logits, half);
    Tensor out_rows = out.slice(0, begin, end);
    be.download_to(logits, out_rows);
  });
  return out;
}

// PredictedLDDTHead (Alg. 29): LayerNorm -> Linear+relu -> Linear+relu -> Linear, on the structure module's
// activations.
Tensor plddt_logits(runtime::ExecutionContext& ctx, const Scope& s, const Tensor& act) {
  Backend& be = ctx.backend();
  const Scope ln = s.sub("input_layer_norm"), a0 = s.sub("act_0"), a1 = s.sub("act_1"), lg = s.sub("logits");
  const int64_t L = act.size(0);
  AXF_CHECK(act.ndim() == 2 && act.size(1) == a0["weights"].size(0), "pLDDT head: activations ", act.describe(),
            " vs weights ", a0["weights"].describe());
  const int64_t c = a0["weights"].size(1);
  Tensor normed = be.empty(act.shape());
  be.layer_norm(act, ln["scale"], ln["offset"], normed);
  Tensor h0 = be.empty({L, c}), h1 = be.empty({L, c}), logits = be.empty({L, lg["weights"].size(1)});
  be.linear({normed, a0["weights"], a0["bias"], h0, Activation::Relu});
  be.linear({h0, a1["weights"], a1["bias"], h1, Activation::Relu});
  be.linear({h1, lg["weights"], lg["bias"], logits});
  return be.download(logits);
}

// PredictedAlignedErrorHead (1.9.7): logits = Linear(pair), a block of pair rows at a time; on the device each block
// gives its expected aligned error and pTM terms (Backend::softmax_expectations over the bin centres and the TM
// terms), so only [L, L, 2] comes to the host unless the logits are asked for.
void aligned_error_head(runtime::ExecutionContext& ctx, const Scope& lin, const Tensor& pair,
                        const HeadsOptions& options, HeadOutputs& out) {
  Backend& be = ctx.backend();
  const Tensor w = lin["weights"], b = lin["bias"];
  const int64_t L = pair.size(0), nb = w.size(1);
  AXF_CHECK(pair.ndim() == 3 && pair.size(1) == L && pair.size(2) == w.size(0), "PAE head: pair ", pair.describe(),
            " vs weights ", w.describe());
  const std::vector<double> centers = aligned_error_bin_centers(out.pae_breaks);
  const std::vector<double> tm = tm_score_bin_terms(out.pae_breaks, L, options.residue_weights);
  AXF_CHECK(static_cast<int64_t>(centers.size()) == nb, "PAE head: ", nb, " bins for ", out.pae_breaks.describe(),
            " breaks");
  std::vector<float> table(centers.begin(), centers.end());
  table.insert(table.end(), tm.begin(), tm.end());
  const Tensor values = be.upload(Tensor::from_vector({2, nb}, table));
  if (options.pae_logits) out.pae_logits = Tensor::empty({L, L, nb});
  Tensor expectations = Tensor::empty({L, L, 2});
  runtime::for_each_chunk(L, ctx.chunks().pair_rows, [&](int64_t begin, int64_t end) {
    Tensor logits = be.empty({end - begin, L, nb});
    be.linear({pair.slice(0, begin, end), w, b, logits});
    if (options.pae_logits) {
      Tensor rows = out.pae_logits.slice(0, begin, end);
      be.download_to(logits, rows);
    }
    Tensor part = be.empty({end - begin, L, 2});
    be.softmax_expectations(logits, values, part);
    Tensor rows = expectations.slice(0, begin, end);
    be.download_to(part, rows);
  });
  out.pae = expectations.select(2, 0).contiguous();
  out.tm_terms = expectations.select(2, 1).contiguous();
}

}  // namespace

int64_t pair_array_bytes(int64_t num_res, const ModelConfig& cfg) {
  return num_res * num_res * (cfg.pair_channel + cfg.heads.distogram_num_bins) * static_cast<int64_t>(sizeof(float));
}

bool pair_arrays_by_default(int64_t num_res, const ModelConfig& cfg) {
  return pair_array_bytes(num_res, cfg) <= kPairArraysAutoBytes;
}

Tensor linspace(float start, float stop, int64_t num) {
  AXF_CHECK(num >= 2, "linspace: need at least 2 points, got ", num);
  std::vector<float> v(static_cast<size_t>(num));
  for (int64_t i = 0; i < num; ++i) {
    const double t = static_cast<double>(i) / static_cast<double>(num - 1);
    v[static_cast<size_t>(i)] =
        static_cast<float>(static_cast<double>(start) + t * (static_cast<double>(stop) - start));
  }
  v.back() = stop;
  return Tensor::from_vector({num}, v);
}

HeadOutputs run_heads(runtime::ExecutionContext& ctx, const Params& params, const ModelConfig& cfg,
                      const Tensor& single, const Tensor& pair, const Tensor& msa, const Tensor& structure_single,
                      const HeadsOptions& options) {
  const HeadsConfig& h = cfg.heads;
  const Scope root(params, kRootScope);
  AXF_CHECK(pair.ndim() == 3 && single.ndim() == 2 && msa.ndim() == 3 && single.size(0) == pair.size(0) &&
                msa.size(1) == pair.size(0) && structure_single.ndim() == 2 && structure_single.size(0) == pair.size(0),
            "heads: inconsistent inputs single ", single.describe(), ", pair ", pair.describe(), ", msa ",
            msa.describe(), ", structure single ", structure_single.describe());
  HeadOutputs out;
  if (options.distogram_logits)
    out.distogram_logits = distogram_logits(ctx, root.sub("distogram_head").sub("half_logits"), pair);
  out.distogram_bin_edges = linspace(h.distogram_first_break, h.distogram_last_break, h.distogram_num_bins - 1);
  out.plddt_logits = plddt_logits(ctx, root.sub("predicted_lddt_head"), structure_single);
  out.masked_msa_logits = linear_head(ctx, root.sub("masked_msa_head").sub("logits"), msa, ctx.chunks().msa_rows);
  out.experimentally_resolved_logits =
      linear_head(ctx, root.sub("experimentally_resolved_head").sub("logits"), single, 0);
  if (h.predicted_aligned_error) {
    out.pae_breaks = linspace(0.f, h.pae_max_error_bin, h.pae_num_bins - 1);
    aligned_error_head(ctx, root.sub("predicted_aligned_error_head").sub("logits"), pair, options, out);
  }
  return out;
}

}  // namespace axf::model
