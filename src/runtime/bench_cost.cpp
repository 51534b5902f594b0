// Operation counts for the benchmark (formulas documented in bench_cost.h).
#include "runtime/bench_cost.h"

#include <algorithm>

#include "core/error.h"

namespace axf::runtime::bench {

namespace {
double num(const Tensor& t) { return t.defined() ? static_cast<double>(t.numel()) : 0.0; }
double dsize(const Tensor& t) { return t.defined() ? static_cast<double>(t.size(-1)) : 0.0; }
}  // namespace

double tensor_bytes(const Tensor& t) {
  return t.defined() ? num(t) * static_cast<double>(core::dtype_size(t.dtype())) : 0.0;
}

OpCost layer_norm_cost(const Tensor& x, const Tensor& scale, const Tensor& offset, const Tensor& out) {
  return {8.0 * num(x), tensor_bytes(x) + tensor_bytes(scale) + tensor_bytes(offset) + tensor_bytes(out)};
}

OpCost elementwise_cost(const Tensor& dst, const Tensor& src, double flops_per_element) {
  return {flops_per_element * num(dst), 2.0 * tensor_bytes(dst) + tensor_bytes(src)};
}

OpCost mul_rows_cost(const Tensor& x, const Tensor& row_scale) {
  return {num(x), 2.0 * tensor_bytes(x) + tensor_bytes(row_scale)};
}

OpCost relu_cost(const Tensor& x) { return {num(x), 2.0 * tensor_bytes(x)}; }

OpCost embedding_cost(const Tensor& index, const Tensor& table, const Tensor& out, bool accumulate) {
  // One table row read per index (negative indices, which skip their row, are rare): as many bytes as `out`.
  (void)table;
  return {accumulate ? num(out) : 0.0, tensor_bytes(index) + (accumulate ? 3.0 : 2.0) * tensor_bytes(out)};
}

OpCost masked_mean_cost(const Tensor& x, const Tensor& mask, const Tensor& out) {
  return {2.0 * num(x), tensor_bytes(x) + tensor_bytes(mask) + tensor_bytes(out)};
}

OpCost softmax_expectations_cost(const Tensor& logits, const Tensor& values, const Tensor& out) {
  return {(3.0 + 2.0 * static_cast<double>(values.size(0))) * num(logits),
          tensor_bytes(logits) + tensor_bytes(values) + tensor_bytes(out)};
}

OpCost copy_cost(const Tensor& src, const Tensor& dst) { return {0.0, tensor_bytes(src) + tensor_bytes(dst)}; }

OpCost fill_cost(const Tensor& t) { return {0.0, tensor_bytes(t)}; }

OpCost linear_cost(const backend::LinearArgs& a) {
  const double k = dsize(a.x), n = a.w.defined() ? static_cast<double>(a.w.size(-1)) : 0.0;
  const double m = k > 0 ? num(a.x) / k : 0.0;
  return {2.0 * m * n * k, tensor_bytes(a.x) + tensor_bytes(a.w) + tensor_bytes(a.bias) +
                               (a.accumulate ? 2.0 : 1.0) * tensor_bytes(a.out)};
}

OpCost gemm_cost(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, const Tensor& c, float beta) {
  const double k = static_cast<double>(trans_a ? a.size(0) : a.size(1));
  const double m = static_cast<double>(c.size(0)), n = static_cast<double>(c.size(1));
  (void)trans_b;
  return {2.0 * m * n * k, tensor_bytes(a) + tensor_bytes(b) + (beta != 0.f ? 2.0 : 1.0) * tensor_bytes(c)};
}

OpCost attention_cost(const backend::AttentionArgs& a) {
  const double B = static_cast<double>(a.q.size(0)), Q = static_cast<double>(a.q.size(1));
  const double H = static_cast<double>(a.q.size(2)), D = static_cast<double>(a.q.size(3));
  const double K = static_cast<double>(a.k.size(1)), Dv = static_cast<double>(a.v.size(3));
  return {2.0 * B * H * Q * K * (D + Dv), tensor_bytes(a.q) + tensor_bytes(a.k) + tensor_bytes(a.v) +
                                              tensor_bytes(a.key_mask) + tensor_bytes(a.bias) +
                                              tensor_bytes(a.gate) + tensor_bytes(a.out)};
}

OpCost attention_accumulate_cost(const backend::OnlineAttentionArgs& a) {
  const double rows = a.q.defined() ? static_cast<double>(a.q.size(0) * a.q.size(1)) : 0.0;
  const double D = a.q.defined() ? static_cast<double>(a.q.size(2)) : 0.0;
  const double Dv = a.v.defined() ? static_cast<double>(a.v.size(2)) : 0.0;
  return {2.0 * rows * (D + Dv), tensor_bytes(a.q) + tensor_bytes(a.k) + tensor_bytes(a.v) +
                                     2.0 * (tensor_bytes(a.m) + tensor_bytes(a.l) + tensor_bytes(a.acc))};
}

OpCost attention_normalize_cost(const Tensor& acc, const Tensor& l, const Tensor& out) {
  return {num(acc), tensor_bytes(acc) + tensor_bytes(l) + tensor_bytes(out)};
}

OpCost triangle_multiply_cost(const backend::TriangleMultiplyArgs& a) {
  const double C = static_cast<double>(a.left.size(0)), L = static_cast<double>(a.left.size(1));
  const double R = static_cast<double>(a.out.size(0));
  const double es = static_cast<double>(core::dtype_size(a.left.dtype()));
  // The fused center LayerNorm counts as layer_norm_cost does (8 per element); it moves no extra bytes.
  const double norm_flops = a.center_scale.defined() ? 8.0 * num(a.out) : 0.0;
  return {2.0 * C * R * L * L + norm_flops, es * (C * R * L + C * L * L) + tensor_bytes(a.out)};
}

OpCost triangle_gated_output_cost(const backend::TriangleGatedOutputArgs& a) {
  // The FLOPs of the unfused sequence (LayerNorm 8, two linear layers, gated add 6 per element); the bytes of one
  // pass: the pair rows read and written, t and the parameters read.
  const double n = num(a.pair), cz = dsize(a.pair), rows = cz > 0 ? n / cz : 0.0, c = dsize(a.t);
  const double flops = 8.0 * n + 2.0 * rows * cz * cz + 2.0 * rows * c * cz + 6.0 * n;
  return {flops, 2.0 * tensor_bytes(a.pair) + tensor_bytes(a.t) + tensor_bytes(a.gating_w) + tensor_bytes(a.output_w) +
                     tensor_bytes(a.gating_b) + tensor_bytes(a.output_b) + tensor_bytes(a.ln_scale) +
                     tensor_bytes(a.ln_offset)};
}

OpCost triangle_projection_cost(const backend::TriangleProjectionArgs& a) {
  // The FLOPs of the unfused sequence (LayerNorm 8 per element, the fused projection, the two gated transposes 6
  // per output element); the bytes of one pass: the pair rows, parameters and mask read, left and right rows written.
  const double n = num(a.pair), cz = dsize(a.pair), rows = cz > 0 ? n / cz : 0.0;
  const double cb = a.weights.defined() ? static_cast<double>(a.weights.size(-1)) / 4.0 : 0.0;
  const double es = a.left.defined() ? static_cast<double>(core::dtype_size(a.left.dtype())) : 0.0;
  const double flops = 8.0 * n + 2.0 * rows * cz * 4.0 * cb + 6.0 * 2.0 * rows * cb;
  return {flops, tensor_bytes(a.pair) + tensor_bytes(a.ln_scale) + tensor_bytes(a.ln_offset) +
                     tensor_bytes(a.weights) + tensor_bytes(a.bias) + tensor_bytes(a.mask) + 2.0 * rows * cb * es};
}

OpCost pair_bias_cost(const backend::PairBiasArgs& a) {
  // The FLOPs of the unfused sequence (LayerNorm 8 per element when there is one, the projection to H heads); the
  // bytes of one pass: the pair rows and parameters read, the bias (and the normalised rows when kept) written.
  const double n = num(a.rows), cz = dsize(a.rows), rows = cz > 0 ? n / cz : 0.0;
  const double H = a.w.defined() ? static_cast<double>(a.w.size(-1)) : 0.0;
  const double flops = (a.ln_scale.defined() ? 8.0 * n : 0.0) + 2.0 * rows * cz * H;
  return {flops, tensor_bytes(a.rows) + tensor_bytes(a.ln_scale) + tensor_bytes(a.ln_offset) + tensor_bytes(a.w) +
                     tensor_bytes(a.out) + tensor_bytes(a.normed)};
}

OpCost transition_cost(const backend::TransitionArgs& a) {
  // The FLOPs of the unfused sequence (LayerNorm 8 per element, the two linear layers); the bytes of one pass: the
  // rows read and written, the parameters read.
  const double n = num(a.act), c = dsize(a.act), rows = c > 0 ? n / c : 0.0;
  const double hidden = a.w1.defined() ? static_cast<double>(a.w1.size(-1)) : 0.0;
  return {8.0 * n + 4.0 * rows * c * hidden, 2.0 * tensor_bytes(a.act) + tensor_bytes(a.ln_scale) +
                                                 tensor_bytes(a.ln_offset) + tensor_bytes(a.w1) + tensor_bytes(a.b1) +
                                                 tensor_bytes(a.w2) + tensor_bytes(a.b2)};
}

OpCost outer_product_projections_cost(const backend::OuterProductProjectionArgs& a) {
  // The FLOPs of the unfused sequence (LayerNorm 8 per element, the two linear layers, the two row scalings); the
  // bytes of one pass: the MSA rows, mask and parameters read, left and right written.
  const double n = num(a.msa), c = dsize(a.msa), rows = c > 0 ? n / c : 0.0;
  const double out = num(a.left) + num(a.right);
  return {8.0 * n + 2.0 * rows * c * (dsize(a.left) + dsize(a.right)) + out,
          tensor_bytes(a.msa) + tensor_bytes(a.mask) + tensor_bytes(a.ln_scale) + tensor_bytes(a.ln_offset) +
              tensor_bytes(a.w_left) + tensor_bytes(a.b_left) + tensor_bytes(a.w_right) + tensor_bytes(a.b_right) +
              tensor_bytes(a.left) + tensor_bytes(a.right)};
}

OpCost gated_transpose_cost(const backend::GatedTransposeArgs& a) {
  const double n = num(a.proj);
  const double out_bytes = a.out.defined() ? n * static_cast<double>(core::dtype_size(a.out.dtype())) : 0.0;
  return {6.0 * n, tensor_bytes(a.proj) + tensor_bytes(a.gate) + tensor_bytes(a.mask) + out_bytes};
}

OpCost invariant_point_attention_cost(const backend::IpaArgs& a) {
  const double L = a.affines.defined() ? static_cast<double>(a.affines.size(0)) : 0.0;
  const double cz = a.pair.defined() ? static_cast<double>(a.pair.size(-1)) : 0.0;
  const double per_pair = static_cast<double>(a.num_scalar_qk + 3 * a.num_point_qk + a.num_scalar_v +
                                              3 * a.num_point_v) + cz;
  const double bytes = tensor_bytes(a.q_scalar) + tensor_bytes(a.kv_scalar) + tensor_bytes(a.q_point) +
                       tensor_bytes(a.kv_point) + tensor_bytes(a.affines) + tensor_bytes(a.bias_2d) +
                       tensor_bytes(a.pair) + tensor_bytes(a.mask) + tensor_bytes(a.point_weights) +
                       tensor_bytes(a.out);
  return {2.0 * L * L * static_cast<double>(a.num_head) * per_pair, bytes};
}

OpCost backbone_update_cost(const Tensor& affines, const Tensor& update) {
  return {60.0 * static_cast<double>(affines.defined() ? affines.size(0) : 0),
          2.0 * tensor_bytes(affines) + tensor_bytes(update)};
}

OpCost template_pair_features_cost(const backend::TemplatePairFeatureArgs& a) {
  const double inputs = tensor_bytes(a.pseudo_beta) + tensor_bytes(a.pseudo_beta_mask) + tensor_bytes(a.ca) +
                        tensor_bytes(a.rotation) + tensor_bytes(a.backbone_mask) + tensor_bytes(a.aatype);
  double flops = 0;
  if (a.w.defined() && a.out.defined())
    flops = 2.0 * static_cast<double>(a.out.numel()) * static_cast<double>(a.w.size(0));
  return {flops, inputs + tensor_bytes(a.w) + tensor_bytes(a.bias) + tensor_bytes(a.out)};
}

OpCost pair_embedding_cost(const Tensor& table, const Tensor& bias, const Tensor& pair) {
  return {2.0 * num(pair), tensor_bytes(table) + tensor_bytes(bias) + 2.0 * tensor_bytes(pair)};
}

OpCost extra_msa_embedding_cost(const backend::ExtraMsaEmbeddingArgs& a) {
  return {3.0 * num(a.out), tensor_bytes(a.aatype) + tensor_bytes(a.has_deletion) + tensor_bytes(a.deletion_value) +
                                tensor_bytes(a.w) + tensor_bytes(a.bias) + tensor_bytes(a.out)};
}

OpCost outer_product_mean_cost(const backend::OuterProductMeanArgs& a) {
  const double S = static_cast<double>(a.left.size(0)), L = static_cast<double>(a.left.size(1));
  const double A = static_cast<double>(a.left.size(2)), Bc = static_cast<double>(a.right.size(2));
  const double R = static_cast<double>(a.out.size(0)), Cz = static_cast<double>(a.out.size(2));
  const double es = static_cast<double>(core::dtype_size(a.left.dtype()));
  return {2.0 * S * R * L * A * Bc + 2.0 * R * L * A * Bc * Cz,
          es * S * R * A + tensor_bytes(a.right) + tensor_bytes(a.w) + tensor_bytes(a.bias) + tensor_bytes(a.norm) +
              (a.accumulate ? 2.0 : 1.0) * tensor_bytes(a.out)};
}

void OpTallies::add(const std::string& op, const OpCost& cost) {
  OpTally& t = ops[op];
  ++t.calls;
  t.flops += cost.flops;
  t.bytes += cost.bytes;
}

void OpTallies::add(const OpTallies& other) {
  for (const auto& [name, t] : other.ops) {
    OpTally& mine = ops[name];
    mine.calls += t.calls;
    mine.flops += t.flops;
    mine.bytes += t.bytes;
  }
  upload_bytes += other.upload_bytes;
  download_bytes += other.download_bytes;
}

OpTallies OpTallies::minus(const OpTallies& earlier) const {
  OpTallies d;
  for (const auto& [name, t] : ops) {
    const auto it = earlier.ops.find(name);
    const OpTally e = it == earlier.ops.end() ? OpTally{} : it->second;
    if (t.calls == e.calls) continue;
    d.ops[name] = {t.calls - e.calls, t.flops - e.flops, t.bytes - e.bytes};
  }
  d.upload_bytes = upload_bytes - earlier.upload_bytes;
  d.download_bytes = download_bytes - earlier.download_bytes;
  return d;
}

double OpTallies::flops() const {
  double s = 0;
  for (const auto& [name, t] : ops) s += t.flops;
  return s;
}

double OpTallies::bytes() const {
  double s = 0;
  for (const auto& [name, t] : ops) s += t.bytes;
  return s;
}

int64_t OpTallies::calls() const {
  int64_t s = 0;
  for (const auto& [name, t] : ops) s += t.calls;
  return s;
}

Tensor CountingBackend::tracked(const Tensor& t) {
  std::shared_ptr<core::Storage> inner = t.storage();
  if (!inner) return t;
  const int64_t bytes = static_cast<int64_t>(inner->bytes());
  std::shared_ptr<LiveBytes> live = live_;
  live->live += bytes;
  live->peak = std::max(live->peak, live->live);
  // A storage over the same memory whose deleter counts the release and lets the inner storage go.
  auto storage = std::make_shared<core::Storage>(
      inner->data(), inner->bytes(), inner->device(), inner->device_index(),
      [inner, live, bytes](void*) mutable {
        live->live -= bytes;
        inner.reset();
      });
  return Tensor(storage, t.offset(), t.shape(), t.strides(), t.dtype());
}

Tensor CountingBackend::upload(const Tensor& host) {
  tallies_.upload_bytes += tensor_bytes(host);
  return tracked(inner_.upload(host));
}

Tensor CountingBackend::download(const Tensor& t) {
  tallies_.download_bytes += tensor_bytes(t);
  return inner_.download(t);
}

void CountingBackend::download_to(const Tensor& t, Tensor& host_dst) {
  tallies_.download_bytes += tensor_bytes(t);
  inner_.download_to(t, host_dst);
}

void CountingBackend::upload_to(const Tensor& host, Tensor& device_dst) {
  tallies_.upload_bytes += tensor_bytes(host);
  inner_.upload_to(host, device_dst);
}

void CountingBackend::copy(const Tensor& src, Tensor& dst) {
  tallies_.add("copy", copy_cost(src, dst));
  inner_.copy(src, dst);
}

void CountingBackend::fill(Tensor& t, float value) {
  tallies_.add("fill", fill_cost(t));
  inner_.fill(t, value);
}

namespace {
struct CountedWork final : backend::RecordedWork {
  std::unique_ptr<backend::RecordedWork> inner;
  OpTallies cost;  // of one run of the recorded operations
};
}  // namespace

void CountingBackend::begin_recording() {
  inner_.begin_recording();
  before_recording_ = tallies_;
}

std::unique_ptr<backend::RecordedWork> CountingBackend::end_recording() {
  auto work = std::make_unique<CountedWork>();
  work->cost = tallies_.minus(before_recording_);
  tallies_ = before_recording_;
  work->inner = inner_.end_recording();
  return work;
}

void CountingBackend::abort_recording() {
  tallies_ = before_recording_;
  inner_.abort_recording();
}

void CountingBackend::replay(const backend::RecordedWork& work) {
  const auto* counted = dynamic_cast<const CountedWork*>(&work);
  AXF_CHECK(counted, "replay: the work was not recorded through this counting backend");
  inner_.replay(*counted->inner);
  tallies_.add(counted->cost);
}

void CountingBackend::layer_norm(const Tensor& x, const Tensor& scale, const Tensor& offset, Tensor& out, float eps) {
  tallies_.add("layer_norm", layer_norm_cost(x, scale, offset, out));
  inner_.layer_norm(x, scale, offset, out, eps);
}

void CountingBackend::add(Tensor& dst, const Tensor& src) {
  tallies_.add("add", elementwise_cost(dst, src, 1.0));
  inner_.add(dst, src);
}

void CountingBackend::sigmoid_mul(Tensor& dst, const Tensor& gate_logits) {
  tallies_.add("sigmoid_mul", elementwise_cost(dst, gate_logits, 4.0));
  inner_.sigmoid_mul(dst, gate_logits);
}

void CountingBackend::mul_rows(Tensor& x, const Tensor& row_scale) {
  tallies_.add("mul_rows", mul_rows_cost(x, row_scale));
  inner_.mul_rows(x, row_scale);
}

void CountingBackend::relu(Tensor& x) {
  tallies_.add("relu", relu_cost(x));
  inner_.relu(x);
}

void CountingBackend::embedding(const Tensor& index, const Tensor& table, Tensor& out, bool accumulate) {
  tallies_.add("embedding", embedding_cost(index, table, out, accumulate));
  inner_.embedding(index, table, out, accumulate);
}

void CountingBackend::masked_mean(const Tensor& x, const Tensor& mask, Tensor& out, float eps) {
  tallies_.add("masked_mean", masked_mean_cost(x, mask, out));
  inner_.masked_mean(x, mask, out, eps);
}

void CountingBackend::softmax_expectations(const Tensor& logits, const Tensor& values, Tensor& out) {
  tallies_.add("softmax_expectations", softmax_expectations_cost(logits, values, out));
  inner_.softmax_expectations(logits, values, out);
}

void CountingBackend::linear(const backend::LinearArgs& args) {
  tallies_.add("linear", linear_cost(args));
  inner_.linear(args);
}

void CountingBackend::gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c, float alpha,
                           float beta) {
  tallies_.add("gemm", gemm_cost(a, trans_a, b, trans_b, c, beta));
  inner_.gemm(a, trans_a, b, trans_b, c, alpha, beta);
}

void CountingBackend::attention(const backend::AttentionArgs& args) {
  tallies_.add("attention", attention_cost(args));
  inner_.attention(args);
}

void CountingBackend::attention_accumulate(const backend::OnlineAttentionArgs& args) {
  tallies_.add("attention_accumulate", attention_accumulate_cost(args));
  inner_.attention_accumulate(args);
}

void CountingBackend::attention_normalize(const Tensor& acc, const Tensor& l, Tensor& out) {
  tallies_.add("attention_normalize", attention_normalize_cost(acc, l, out));
  inner_.attention_normalize(acc, l, out);
}

void CountingBackend::gated_add(Tensor& dst, const Tensor& src, const Tensor& gate_logits) {
  OpCost c = elementwise_cost(dst, src, 6.0);
  c.bytes += tensor_bytes(gate_logits);
  tallies_.add("gated_add", c);
  inner_.gated_add(dst, src, gate_logits);
}

void CountingBackend::triangle_gated_output(const backend::TriangleGatedOutputArgs& args) {
  tallies_.add("triangle_gated_output", triangle_gated_output_cost(args));
  inner_.triangle_gated_output(args);
}

void CountingBackend::triangle_projection(const backend::TriangleProjectionArgs& args) {
  count_fused_or_default(
      inner_.fuses_triangle_projection(args), "triangle_projection", [&] { return triangle_projection_cost(args); },
      [&] { Backend::triangle_projection(args); }, [&] { inner_.triangle_projection(args); });
}

void CountingBackend::outer_product_projections(const backend::OuterProductProjectionArgs& args) {
  count_fused_or_default(
      inner_.fuses_outer_product_projections(args), "outer_product_projections",
      [&] { return outer_product_projections_cost(args); },
      [&] { Backend::outer_product_projections(args); }, [&] { inner_.outer_product_projections(args); });
}

void CountingBackend::transition(const backend::TransitionArgs& args) {
  count_fused_or_default(
      inner_.fuses_transition(args), "transition", [&] { return transition_cost(args); },
      [&] { Backend::transition(args); }, [&] { inner_.transition(args); });
}

void CountingBackend::pair_bias(const backend::PairBiasArgs& args) {
  count_fused_or_default(
      inner_.fuses_pair_bias(args), "pair_bias", [&] { return pair_bias_cost(args); },
      [&] { Backend::pair_bias(args); }, [&] { inner_.pair_bias(args); });
}

void CountingBackend::gated_transpose(const backend::GatedTransposeArgs& args) {
  tallies_.add("gated_transpose", gated_transpose_cost(args));
  inner_.gated_transpose(args);
}

void CountingBackend::triangle_multiply(const backend::TriangleMultiplyArgs& args) {
  tallies_.add("triangle_multiply", triangle_multiply_cost(args));
  inner_.triangle_multiply(args);
}

void CountingBackend::outer_product_mean(const backend::OuterProductMeanArgs& args) {
  tallies_.add("outer_product_mean", outer_product_mean_cost(args));
  inner_.outer_product_mean(args);
}

void CountingBackend::invariant_point_attention(const backend::IpaArgs& args) {
  tallies_.add("invariant_point_attention", invariant_point_attention_cost(args));
  inner_.invariant_point_attention(args);
}

void CountingBackend::backbone_update(Tensor& affines, const Tensor& update) {
  tallies_.add("backbone_update", backbone_update_cost(affines, update));
  inner_.backbone_update(affines, update);
}

void CountingBackend::template_pair_features(const backend::TemplatePairFeatureArgs& args) {
  tallies_.add("template_pair_features", template_pair_features_cost(args));
  inner_.template_pair_features(args);
}

void CountingBackend::relative_position_embedding(const backend::RelativePositionEmbeddingArgs& args) {
  tallies_.add("relative_position_embedding", pair_embedding_cost(args.table, args.bias, args.pair));
  inner_.relative_position_embedding(args);
}

void CountingBackend::distogram_embedding(const backend::DistogramEmbeddingArgs& args) {
  tallies_.add("distogram_embedding", pair_embedding_cost(args.table, args.bias, args.pair));
  inner_.distogram_embedding(args);
}

void CountingBackend::extra_msa_embedding(const backend::ExtraMsaEmbeddingArgs& args) {
  tallies_.add("extra_msa_embedding", extra_msa_embedding_cost(args));
  inner_.extra_msa_embedding(args);
}

}  // namespace axf::runtime::bench
