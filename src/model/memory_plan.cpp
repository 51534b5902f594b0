#include "model/memory_plan.h"

#include <algorithm>
#include <map>

#include "core/error.h"
#include "model/embedders.h"
#include "model/params.h"

namespace axf::model {

namespace {

using runtime::chunk_length;

int64_t total_bytes(const std::vector<MemoryItem>& items) {
  int64_t s = 0;
  for (const MemoryItem& i : items) s += i.bytes;
  return s;
}

constexpr int64_t kF32 = 4;

// The temporaries of the modules of one Evoformer-style block, at the run's chunk sizes and dtype, as the model
// code allocates them (msa_attention.cpp, attention.cpp, transition.cpp, outer_product_mean.cpp,
// triangle_multiplication.cpp, triangle_attention.cpp). Each function returns the items alive at the module's peak.
// The output projections into strided views (MSA column attention and the ending node's triangle attention in
// chunks, global column attention always) go through a contiguous update in the compute dtype (attention.cpp). On
// CUDA (workspace > 0) also the backend's scratch inside the modules that take some (cuda_gemm.cpp): the op
// workspace of the triangle product and the outer product mean, each as many rows as fit the workspace budget
// (triangle_multiply_chunk_rows, outer_product_mean_chunk_rows). Attention runs in the flash kernels, which take
// none; the bf16 triangle multiplication's lines 1-3 and line 5 run in one kernel each (fused_triangle_projection,
// fused_triangle_output), and so do the bf16 attention pair biases (fused_pair_bias), the transitions
// (fused_transition) and the outer product mean's projections (fused_outer_product_projections).
struct Planner {
  int64_t dt;  // activation bytes
  runtime::ChunkConfig chunks;
  int64_t workspace = 0;  // the CUDA op workspace budget; 0: a backend without scratch

  std::vector<MemoryItem> strided_update(const std::string& what, int64_t n, int64_t C) const {
    return {{what + " update", n * C * dt}};
  }
  int64_t triangle_product_scratch(int64_t rows, int64_t L, int64_t C) const {
    return workspace <= 0 ? 0 : cuda_triangle_product_workspace(rows, L, C, workspace);
  }
  // The CUDA backend's bf16 triangle multiplication updates the pair rows in one kernel (no normed rows or gate).
  bool fused_triangle_output(int64_t cz, int64_t c) const {
    return workspace > 0 && dt == 2 && cuda_fuses_triangle_output(cz, c);
  }
  // ... and its lines 1-3 from the pair rows straight into left and right (no normed rows or projections).
  bool fused_triangle_projection(int64_t cz, int64_t cb) const {
    return workspace > 0 && dt == 2 && cuda_fuses_triangle_projection(cz, cb);
  }
  // ... and the attention pair biases from the pair rows straight into the bias (no normalised rows or logits).
  bool fused_pair_bias(int64_t cz, int64_t H) const { return workspace > 0 && dt == 2 && cuda_fuses_pair_bias(cz, H); }
  // ... and the transitions at its kernel's widths (no normed rows or hidden activations; the two-pass widths take
  // a bf16 share of the update per row, as many rows as fit the workspace).
  bool fused_transition(int64_t c, int64_t hidden) const {
    return workspace > 0 && dt == 2 && cuda_fuses_transition(c, hidden);
  }
  // ... and the outer product mean's masked projections from the MSA rows (no normalised rows).
  bool fused_outer_product_projections(int64_t c, int64_t c_opm) const {
    return workspace > 0 && dt == 2 && cuda_fuses_outer_product_projections(c, c_opm, c_opm);
  }
  int64_t opm_scratch(int64_t rows, int64_t S, int64_t L, int64_t A, int64_t Cz) const {
    return workspace <= 0 ? 0 : cuda_outer_product_workspace(rows, S, L, A, Cz, dt, workspace);
  }
  static std::vector<MemoryItem> with(std::vector<MemoryItem> items, const std::vector<MemoryItem>& more) {
    items.insert(items.end(), more.begin(), more.end());
    return items;
  }

  // Self-attention of B rows of N positions over C channels (q_data, q, k, v, gate, out), plus its bias.
  std::vector<MemoryItem> row_attention(const std::string& what, int64_t rows, int64_t L, int64_t C, int64_t H,
                                        int64_t cz, int64_t chunk) const {
    const int64_t n = chunk_length(chunk, rows), p = chunk_length(chunks.pair_rows, L);
    const int64_t bias = H * L * L * dt;
    const int64_t build = fused_pair_bias(cz, H) ? 0 : p * L * (cz + H) * dt;  // normalised pair rows, logits
    const int64_t attend = 6 * n * L * C * dt;
    if (build > attend) return {{what + " pair bias", bias}, {what + " bias rows (normalised pair, logits)", build}};
    return {{what + " pair bias", bias}, {what + " q_data, q, k, v, gate, out", attend}};
  }

  std::vector<MemoryItem> column_attention(int64_t S, int64_t L, int64_t C) const {
    const int64_t n = chunk_length(chunks.msa_columns, L);
    // Unchunked, the output projection accumulates into the MSA rows in place (attention.cpp).
    const std::vector<MemoryItem> items{{"MSA column attention key mask", L * S * kF32},
                                        {"MSA column attention q_data, q, k, v, gate, out", 6 * n * S * C * dt}};
    return n >= L ? items : with(items, strided_update("MSA column attention out-projection", n * S, C));
  }

  // Global column attention (Alg. 19): normed, k, v (one head), gate and the gated average.
  std::vector<MemoryItem> global_column_attention(int64_t E, int64_t L, int64_t C, int64_t H) const {
    const int64_t n = chunk_length(chunks.msa_columns, L);
    const int64_t kd = C / std::max<int64_t>(H, 1);
    return with({{"global column attention key mask", L * E * kF32},
                 {"global column attention normed, k, v, gate, gated", n * E * (3 * C + 2 * kd) * dt}},
                strided_update("global column attention out-projection", n * E, C));
  }

  std::vector<MemoryItem> transition(const std::string& what, int64_t rows, int64_t per_row, int64_t C,
                                     int factor, int64_t chunk) const {
    const int64_t n = chunk_length(chunk, rows);
    if (fused_transition(C, C * factor))
      return {{what + " CUDA partial update", cuda_transition_workspace(n * per_row, C, C * factor, workspace)}};
    return {{what + " normed, hidden", n * per_row * C * (1 + factor) * dt}};
  }

  std::vector<MemoryItem> outer_product_mean(int64_t S, int64_t L, int64_t C, int64_t c_opm, int64_t cz) const {
    const int64_t n = chunk_length(chunks.msa_rows, S);
    const int64_t projections = 2 * S * L * c_opm * dt;
    const int64_t normed = fused_outer_product_projections(C, c_opm) ? 0 : n * L * C * dt;
    const int64_t norm = L * L * kF32 + opm_scratch(chunk_length(chunks.opm_rows, L), S, L, c_opm, cz);
    return {{"outer product mean left, right", projections},
            {normed > norm ? "outer product mean normed MSA rows" : "outer product mean norm (and CUDA workspace)",
             std::max(normed, norm)}};
  }

  std::vector<MemoryItem> triangle_multiplication(int64_t L, int64_t cz, int64_t c) const {
    const int64_t p = chunk_length(chunks.pair_rows, L), cb = chunk_length(chunks.triangle_channels, c);
    if (cb >= c) {
      const int64_t project = fused_triangle_projection(cz, c) ? 0 : p * L * (cz + 4 * c) * dt;
      const int64_t update = p * L * (c + (fused_triangle_output(cz, c) ? 0 : 2 * cz)) * dt;
      const int64_t multiply = p * L * c * dt + triangle_product_scratch(p, L, c);
      const int64_t worst = std::max({project, update, multiply});
      return {{"triangle multiplication left, right [c, L, L]", 2 * c * L * L * dt},
              {worst == project  ? "triangle multiplication normed rows, projections"
               : worst == update ? "triangle multiplication t, normed rows, gate"
                                 : "triangle multiplication t rows, CUDA product rows",
               worst}};
    }
    const int64_t blocks = 2 * cb * L * L * dt;
    const int64_t project = blocks + (fused_triangle_projection(cz, cb) ? 0 : p * L * (cz + 4 * cb) * dt);
    const int64_t update = fused_triangle_output(cz, c) ? 0 : p * L * 2 * cz * dt;
    const int64_t multiply = blocks + triangle_product_scratch(L, L, cb);
    const int64_t worst = std::max({project, update, multiply});
    return {{"triangle multiplication t [L, L, c]", L * L * c * dt},
            {worst == project  ? "triangle multiplication left, right block, projections"
             : worst == update ? "triangle multiplication normed rows, gate"
                               : "triangle multiplication left, right block, CUDA product rows",
             worst}};
  }

  // The bias build (normalised rows and logits of one chunk, unfused) is smaller than the attention's items; in one
  // chunk the normalised pair it writes stays alive for the attention.
  std::vector<MemoryItem> triangle_attention(int64_t L, int64_t cz, int64_t H) const {
    const int64_t p = chunk_length(chunks.pair_rows, L);
    std::vector<MemoryItem> items{{"triangle attention bias [H, L, L]", H * L * L * dt}};
    if (p >= L) {  // one chunk: the normalised pair serves bias and attention
      items.push_back({"triangle attention normed pair, q, k, v, gate, out", 6 * L * L * cz * dt});
      items.push_back({"triangle attention key mask", L * L * kF32});
    } else {
      items.push_back({"triangle attention normed rows, q, k, v, gate, out", 6 * p * L * cz * dt});
      items.push_back({"triangle attention key mask", p * L * kF32});
    }
    // The ending node works on the transposed pair: in chunks of rows its output projection's rows are strided
    // (unchunked, it accumulates into the pair's rows in place).
    return p >= L ? items : with(items, strided_update("triangle attention ending out-projection", p * L, cz));
  }

  // The largest module of an Evoformer-style block over S rows of C channels and the pair.
  std::vector<MemoryItem> block(const EvoformerBlockConfig& b, bool extra, int64_t S, int64_t L, int64_t C,
                                int64_t cz) const {
    std::vector<std::vector<MemoryItem>> modules = {
        row_attention("MSA row attention", S, L, C, b.msa_row_attention.num_head, cz, chunks.msa_rows),
        extra ? global_column_attention(S, L, C, b.msa_column_attention.num_head) : column_attention(S, L, C),
        transition("MSA transition", S, L, C, b.msa_transition_factor, chunks.msa_rows),
        outer_product_mean(S, L, C, b.outer_product_channels, cz),
        pair_modules(L, cz, b.triangle_multiplication_channels, b.triangle_attention_starting.num_head,
                     b.pair_transition_factor)};
    return largest(modules);
  }

  std::vector<MemoryItem> pair_modules(int64_t L, int64_t cz, int64_t c, int64_t H, int factor) const {
    return largest({triangle_multiplication(L, cz, c), triangle_attention(L, cz, H),
                    transition("pair transition", L, L, cz, factor, chunks.pair_rows)});
  }

  static std::vector<MemoryItem> largest(const std::vector<std::vector<MemoryItem>>& options) {
    size_t best = 0;
    for (size_t i = 1; i < options.size(); ++i)
      if (total_bytes(options[i]) > total_bytes(options[best])) best = i;
    return options[best];
  }
};

int64_t parameter_bytes(const ModelConfig& cfg, core::DType dtype) {
  int64_t bytes = 0;
  for (const ParamSpec& s : parameter_spec(cfg)) {
    const int64_t n = core::shape_numel(s.shape);
    bytes += n * (dtype != core::DType::F32 && is_trunk_weight_matrix(s.key) ? 2 : kF32);
  }
  return bytes;
}

// The fused projection weights the model makes on first use and keeps with the parameters (Scope::derived): per
// triangle multiplication [c_z, 4 c] (+ fp32 bias [4 c]), per self-attention module (query, key and value weights
// of one shape) [C, 3 or 4 H d] (+ fp32 bias [4 H d] with gating); weights in the compute dtype like the trunk's.
int64_t derived_weight_bytes(const ModelConfig& cfg, core::DType dtype) {
  std::map<std::string, Shape> shapes;
  for (const ParamSpec& s : parameter_spec(cfg)) shapes[s.key] = s.shape;
  auto ends_with = [](const std::string& key, const std::string& suffix) {
    return key.size() >= suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  int64_t bytes = 0;
  for (const auto& [key, shape] : shapes) {
    const int64_t wsize = dtype != core::DType::F32 && is_trunk_weight_matrix(key) ? 2 : kF32;
    const int64_t n = core::shape_numel(shape);
    if (key.find("/triangle_multiplication_") != std::string::npos && ends_with(key, "/left_projection//weights")) {
      bytes += 4 * n * wsize + 4 * core::shape_numel(shapes.at(key.substr(0, key.size() - 7) + "bias")) * kF32;
    } else if (ends_with(key, "//query_w")) {
      const std::string scope = key.substr(0, key.size() - 7);
      const auto k = shapes.find(scope + "key_w"), v = shapes.find(scope + "value_w");
      if (k == shapes.end() || v == shapes.end() || k->second != shape || v->second != shape) continue;
      const auto gating = shapes.find(scope + "gating_b");
      bytes += (gating == shapes.end() ? 3 : 4) * n * wsize;
      if (gating != shapes.end()) bytes += 4 * core::shape_numel(gating->second) * kF32;
    }
  }
  return bytes;
}

// Rows of `per_row` bytes that fit `workspace`, at least one and at most `rows`.
int64_t workspace_rows(int64_t rows, int64_t per_row, int64_t workspace) {
  return std::clamp<int64_t>(workspace / std::max<int64_t>(per_row, 1), 1, std::max<int64_t>(rows, 1));
}

int64_t align256(int64_t bytes) { return (bytes + 255) / 256 * 256; }

}  // namespace

bool cuda_fuses_triangle_output(int64_t cz, int64_t c) { return (cz == 128 && c == 128) || (cz == 64 && c == 64); }

bool cuda_fuses_outer_product_projections(int64_t c, int64_t a, int64_t b) {
  return (c == 256 || c == 64) && a == 32 && b == 32;
}

bool cuda_fuses_transition(int64_t c, int64_t hidden) {
  return (c == 128 && hidden == 512) || (c == 64 && (hidden == 256 || hidden == 128));
}

int64_t cuda_transition_workspace(int64_t rows, int64_t c, int64_t hidden, int64_t workspace) {
  if (c * hidden <= 128 * 256) return 0;  // one pass: both weight matrices fit a block's shared memory
  return workspace_rows(rows, c * 2, workspace) * c * 2;  // bf16
}

bool cuda_fuses_triangle_projection(int64_t cz, int64_t cb) {
  return (cz == 128 && cb == 128) || (cz == 64 && cb == 64);
}
bool cuda_fuses_pair_bias(int64_t cz, int64_t H) { return (cz == 128 || cz == 64) && H >= 1 && H <= 8; }

int64_t cuda_triangle_product_workspace(int64_t rows, int64_t L, int64_t C, int64_t workspace) {
  return workspace_rows(rows, L * C * kF32, workspace) * L * C * kF32;
}

int64_t cuda_outer_product_workspace(int64_t rows, int64_t S, int64_t L, int64_t A, int64_t Cz,
                                     int64_t dtype_bytes, int64_t workspace) {
  // right transposed [S, A, L] whatever the rows, then per row the outer products and the projected result.
  const int64_t fixed = align256(S * A * L * dtype_bytes);
  auto bytes = [&](int64_t r) { return fixed + align256(r * L * A * A * dtype_bytes) + r * L * Cz * kF32; };
  return bytes(workspace_rows(rows, bytes(1) - fixed, workspace - fixed));
}

int64_t MemoryStage::bytes() const { return total_bytes(items); }

int64_t MemoryPlan::persistent_bytes() const { return total_bytes(persistent); }

int64_t MemoryPlan::peak_bytes() const { return persistent_bytes() + (stages.empty() ? 0 : stages[peak_stage].bytes()); }

MemoryPlan plan_memory(const ModelConfig& cfg, const RunShape& shape, const MemoryPlanOptions& options) {
  const int64_t L = shape.num_res, S = shape.num_msa, E = shape.num_extra;
  const int64_t T = cfg.templates.enabled ? shape.num_templates : 0;
  AXF_CHECK(L > 0 && S > 0 && E >= 0 && T >= 0, "memory plan: L=", L, ", S=", S, ", E=", E, ", T=", T);
  const int64_t dt = static_cast<int64_t>(core::dtype_size(options.dtype));
  const int64_t cm = cfg.msa_channel, cz = cfg.pair_channel, ce = cfg.extra_msa_channel;
  const int64_t ct = cfg.templates.num_channels();
  const int64_t T_rows = cfg.templates.enabled && cfg.templates.embed_torsion_angles ? T : 0;
  const int64_t S_rows = S + T_rows;
  const Planner pl{dt, options.chunks, options.cuda_workspace};

  MemoryPlan plan;
  plan.parameter_bytes = parameter_bytes(cfg, options.dtype);
  plan.persistent = {
      {"parameters", plan.parameter_bytes},
      {"fused projection weights (made on first use)", derived_weight_bytes(cfg, options.dtype)},
      {"device inputs (msa_feat, masks, pair mask, extra MSA)",
       L * 22 * kF32 + S * L * 49 * kF32 + S_rows * L * kF32 + L * L * kF32 + L * kF32 + 4 * E * L * kF32},
      {"pair representation [L, L, c_z] (reused across recycles)", L * L * cz * dt},
      {"recycled first MSA row", L * cm * dt},
  };
  const int64_t template_reps = T * L * L * ct * dt;
  if (T > 0 && options.template_cache) plan.persistent.push_back({"template stack output (cached)", template_reps});

  // Embeddings: the recycled pair is normalised a block of rows at a time before being overwritten.
  const int64_t embed_rows = std::min(chunk_length(options.chunks.pair_rows, L), kRecycledPairBlockRows);
  plan.stages.push_back({"embeddings", {{"normalised recycled pair rows", embed_rows * L * cz * dt},
                                        {"left/right single, preprocess_1d", L * (2 * cz + cm) * dt}}});

  if (T > 0) {
    MemoryStage st{"template stack", {}};
    const TemplatePairStackConfig& tp = cfg.templates.template_pair_stack;
    const std::vector<MemoryItem> stack = pl.pair_modules(L, ct, tp.triangle_multiplication_channels,
                                                           tp.triangle_attention_starting.num_head,
                                                           tp.pair_transition_factor);
    const int64_t n = chunk_length(options.chunks.template_rows, L);
    const AttentionConfig att = ModelConfig::resolved(cfg.templates.attention, static_cast<int>(cz), static_cast<int>(ct));
    const int64_t kd = att.key_dim, vd = att.value_dim, gate = att.gating ? vd : 0;
    std::vector<MemoryItem> pointwise;
    if (options.template_cache) {
      // Pointwise attention (Alg. 17) over the cached stack per row chunk of n * L queries: query rows, template
      // memory [T, c_t], q, k and v over the T templates, out (no gate in AlphaFold's template attention).
      pointwise = {{"template pointwise attention query, memory, q, k, v, out",
                    n * L * (cz + T * ct + kd + T * (kd + vd) + vd + gate) * dt}};
    } else if (options.chunks.offload_pair && ct + vd <= cz) {
      // Streamed with the pair in host memory (template_embedding.cpp): the representation and acc live in the
      // pair's buffer; per row chunk the pair rows come back for q (and the gate), and at the end each block's
      // update waits beside its restored rows.
      st.items.push_back({"template softmax state m, l [L, L, H] fp32 (representation and acc in the pair's buffer)",
                          L * L * 2 * att.num_head * kF32});
      pointwise = {{"pair rows from the host, q, k, v of one template", n * L * (cz + 2 * kd + vd) * dt},
                   {"pair rows from the host, gate, update", n * L * (2 * cz + gate) * dt}};
      pointwise = Planner::largest({{pointwise[0]}, {pointwise[1]}});
    } else {
      // Streamed over the templates (template_embedding.cpp): one representation and the online softmax state alive
      // through the stack of every template; per row chunk q, k, v of one template (or the gate at the end).
      st.items.push_back({"template representation [L, L, c_t] (one template at a time)", L * L * ct * dt});
      st.items.push_back({"template softmax state m, l [L, L, H] fp32, acc [L, L, H*dv]",
                          L * L * (2 * att.num_head * kF32 + vd * dt)});
      pointwise = {{"template pointwise attention q, k, v of one template", n * L * std::max(2 * kd + vd, gate) * dt}};
    }
    const std::vector<MemoryItem> worst = Planner::largest({stack, pointwise});
    st.items.insert(st.items.end(), worst.begin(), worst.end());
    plan.stages.push_back(st);
  }
  // With recorded stacks both MSA buffers are kept from pass to pass (persistent); else each lives in its stages.
  const MemoryItem extra_rep{"extra MSA representation [E, L, c_e]", E * L * ce * dt};
  const MemoryItem msa_rep{"MSA representation [S+T, L, c_m]", S_rows * L * cm * dt};
  const MemoryItem msa_in_stages = options.recorded_stacks ? MemoryItem{msa_rep.name, 0} : msa_rep;
  if (options.recorded_stacks) {
    plan.persistent.push_back({msa_rep.name + " (kept for the recorded stacks)", msa_rep.bytes});
    plan.persistent.push_back({extra_rep.name + " (kept for the recorded stacks)", extra_rep.bytes});
  }
  if (E > 0) {
    MemoryStage st{"extra-MSA stack", {options.recorded_stacks ? MemoryItem{extra_rep.name, 0} : extra_rep}};
    const std::vector<MemoryItem> b = pl.block(cfg.evoformer, true, E, L, ce, cz);
    st.items.insert(st.items.end(), b.begin(), b.end());
    plan.stages.push_back(st);
  }
  // The MSA exists from the Evoformer stack on (trunk.cpp builds it after the template and extra-MSA stacks) and
  // stays for the masked-MSA head.
  {
    MemoryStage st{"Evoformer stack", {msa_in_stages}};
    const std::vector<MemoryItem> b = pl.block(cfg.evoformer, false, S_rows, L, cm, cz);
    st.items.insert(st.items.end(), b.begin(), b.end());
    plan.stages.push_back(st);
  }
  // Structure module: LayerNorm(pair) in the compute dtype and its attention_2d logits (fp32), kept through the
  // iterations; at IPA the fp32 per-residue buffers: initial_act, act, the transition's two hidden rows, update,
  // affines, the trajectory, the mask, and IPA's projections and output row.
  {
    const StructureModuleConfig& sm = cfg.structure_module;
    const int64_t H = sm.num_head, sqk = sm.num_scalar_qk, sv = sm.num_scalar_v, pqk = sm.num_point_qk;
    const int64_t pv = sm.num_point_v;
    const int64_t per_residue = cfg.seq_channel + 3 * sm.num_channel + 6 + 7 + 7 * sm.num_layer + 1 +
                                H * (2 * sqk + 2 * sv + 6 * pqk + 7 * pv + cz);
    plan.stages.push_back({"structure module",
                           {msa_in_stages,
                            {"normalised pair [L, L, c_z]", L * L * cz * dt},
                            {"IPA pair logits (fp32)", L * L * sm.num_head * kF32},
                            {"per-residue activations, IPA projections and output (fp32)", L * per_residue * kF32}}});
  }
  // Heads (the template cache is gone by then), one after the other, per block of pair rows: the distogram's logits,
  // the half logits of the block's columns and their transpose, and the pair columns (unless the distogram logits
  // are not asked for); the PAE head's logits and their expected error and pTM terms.
  {
    const int64_t rows = chunk_length(options.chunks.pair_rows, L);
    const std::vector<MemoryItem> distogram{
        {"distogram logits, half logits and transpose (fp32)", 3 * rows * L * cfg.heads.distogram_num_bins * kF32},
        {"pair columns", rows * L * cz * dt}};
    const MemoryItem pae{"PAE logits and expectations (fp32)",
                         cfg.heads.predicted_aligned_error ? rows * L * (cfg.heads.pae_num_bins + 2) * kF32 : 0};
    MemoryStage st{"heads", {msa_in_stages}};
    if (options.distogram_logits && distogram[0].bytes + distogram[1].bytes >= pae.bytes)
      st.items.insert(st.items.end(), distogram.begin(), distogram.end());
    else if (pae.bytes > 0)
      st.items.push_back(pae);
    if (T > 0 && options.template_cache) st.items.push_back({"(template cache freed)", -template_reps});
    plan.stages.push_back(st);
  }
  for (size_t i = 1; i < plan.stages.size(); ++i)
    if (plan.stages[i].bytes() > plan.stages[plan.peak_stage].bytes()) plan.peak_stage = i;
  return plan;
}

std::optional<ChunkChoice> chunks_that_fit(const ModelConfig& cfg, const RunShape& shape, MemoryPlanOptions options,
                                           int64_t workspace_budget, int64_t available) {
  std::vector<runtime::ChunkConfig> candidates{runtime::ChunkConfig{}};
  for (int64_t rows : {1024, 512, 256, 128, 64, 32, 16, 8}) {
    for (int64_t channels : {0, 64, 32, 16, 8}) {
      runtime::ChunkConfig c;
      c.msa_rows = c.msa_columns = c.pair_rows = c.opm_rows = c.template_rows = rows;
      c.triangle_channels = channels;
      candidates.push_back(c);
    }
  }
  // The template cache goes before any chunking is refused, and the pair's trip to host memory (no cache only)
  // comes last.
  std::vector<std::pair<bool, bool>> modes{{options.template_cache, false}};
  if (options.template_cache) modes.push_back({false, false});
  modes.push_back({false, true});
  for (const auto& [cache, offload] : modes) {
    options.template_cache = cache;
    for (runtime::ChunkConfig c : candidates) {
      c.offload_pair = offload;
      options.chunks = c;
      options.cuda_workspace = workspace_budget;
      if (plan_memory(cfg, shape, options).peak_bytes() <= available) return ChunkChoice{c, cache};
    }
  }
  return std::nullopt;
}

std::string describe(const ChunkChoice& c) {
  return "rows " + std::to_string(c.chunks.pair_rows) + ", triangle channels " +
         std::to_string(c.chunks.triangle_channels) + " (0 = whole), template cache " +
         (c.template_cache ? "on" : "off") + (c.chunks.offload_pair ? ", pair in host memory during the templates" : "");
}

}  // namespace axf::model
