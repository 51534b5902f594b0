#include "support/reference_modules.h"

#include <gtest/gtest.h>

#include <cmath>

#include "support/model_test_support.h"

namespace axf::test::reference {

// LayerNorm over the last dim (c channels) of every row, parameters scope["scale"], scope["offset"].
Vec layer_norm(const model::Scope& s, const Vec& x, int64_t c) {
  const Vec g = to_doubles(s["scale"]), b = to_doubles(s["offset"]);
  Vec out(x.size());
  for (size_t r = 0; r < x.size() / static_cast<size_t>(c); ++r)
    layer_norm_ref(&x[r * c], g.data(), b.data(), c, &out[r * c]);
  return out;
}

// x [rows, cin] @ weights [cin, cout] + bias.
Vec linear(const model::Scope& s, const Vec& x, int64_t cin) {
  const Vec w = to_doubles(s["weights"]), b = to_doubles(s["bias"]);
  const int64_t cout = static_cast<int64_t>(b.size()), rows = static_cast<int64_t>(x.size()) / cin;
  Vec out(static_cast<size_t>(rows * cout));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t o = 0; o < cout; ++o) {
      double acc = b[o];
      for (int64_t a = 0; a < cin; ++a) acc += x[r * cin + a] * w[a * cout + o];
      out[r * cout + o] = acc;
    }
  }
  return out;
}

// AlphaFold modules.Attention, literally: residual[b, q, :] += Attention(q_data[b], m_data[b], mask(b, k), bias).
void attention_add(const model::Scope& s, const model::AttentionConfig& cfg, int64_t B, int64_t Q, int64_t K,
                   const Vec& q_data, int64_t cq, const Vec& m_data, int64_t cm,
                   const std::function<double(int64_t, int64_t)>& mask, const Vec* bias, Vec& residual,
                   int64_t cout) {
  const int64_t H = cfg.num_head, kd = cfg.key_dim / H, vd = cfg.value_dim / H;
  const Vec wq = to_doubles(s["query_w"]), wk = to_doubles(s["key_w"]), wv = to_doubles(s["value_w"]);
  const Vec wo = to_doubles(s["output_w"]), bo = to_doubles(s["output_b"]);
  Vec wg, bg;
  if (cfg.gating) {
    wg = to_doubles(s["gating_w"]);
    bg = to_doubles(s["gating_b"]);
  }
  const double scale = 1.0 / std::sqrt(static_cast<double>(kd));
  for (int64_t b = 0; b < B; ++b) {
    const double* qd = &q_data[b * Q * cq];
    const double* md = &m_data[b * K * cm];
    Vec q(Q * H * kd, 0.0), k(K * H * kd, 0.0), v(K * H * vd, 0.0);
    for (int64_t i = 0; i < Q; ++i)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t c = 0; c < kd; ++c) {
          double acc = 0;
          for (int64_t a = 0; a < cq; ++a) acc += qd[i * cq + a] * wq[(a * H + h) * kd + c];
          q[(i * H + h) * kd + c] = acc * scale;
        }
    for (int64_t j = 0; j < K; ++j)
      for (int64_t h = 0; h < H; ++h) {
        for (int64_t c = 0; c < kd; ++c) {
          double acc = 0;
          for (int64_t a = 0; a < cm; ++a) acc += md[j * cm + a] * wk[(a * H + h) * kd + c];
          k[(j * H + h) * kd + c] = acc;
        }
        for (int64_t c = 0; c < vd; ++c) {
          double acc = 0;
          for (int64_t a = 0; a < cm; ++a) acc += md[j * cm + a] * wv[(a * H + h) * vd + c];
          v[(j * H + h) * vd + c] = acc;
        }
      }
    for (int64_t i = 0; i < Q; ++i) {
      Vec weighted(H * vd, 0.0);
      for (int64_t h = 0; h < H; ++h) {
        Vec logits(K);
        for (int64_t j = 0; j < K; ++j) {
          double acc = 0;
          for (int64_t c = 0; c < kd; ++c) acc += q[(i * H + h) * kd + c] * k[(j * H + h) * kd + c];
          if (bias) acc += (*bias)[(h * Q + i) * K + j];
          logits[j] = (mask && mask(b, j) == 0.0) ? -1e9 : acc;  // jnp.where(mask, logits, -1e9)
        }
        double mx = logits[0];
        for (double l : logits) mx = std::max(mx, l);
        double sum = 0;
        for (double& l : logits) sum += (l = std::exp(l - mx));
        for (int64_t c = 0; c < vd; ++c) {
          double acc = 0;
          for (int64_t j = 0; j < K; ++j) acc += logits[j] / sum * v[(j * H + h) * vd + c];
          if (cfg.gating) {
            double g = bg[h * vd + c];
            for (int64_t a = 0; a < cq; ++a) g += qd[i * cq + a] * wg[(a * H + h) * vd + c];
            acc *= sigmoid_ref(g);
          }
          weighted[h * vd + c] = acc;
        }
      }
      for (int64_t o = 0; o < cout; ++o) {
        double acc = bo[o];
        for (int64_t hc = 0; hc < H * vd; ++hc) acc += weighted[hc] * wo[hc * cout + o];
        residual[(b * Q + i) * cout + o] += acc;
      }
    }
  }
}

// pair [L, L, c] -> pair^T (swapaxes of the two residue axes).
Vec transpose_pair(const Vec& x, int64_t L) {
  const int64_t c = static_cast<int64_t>(x.size()) / (L * L);
  Vec out(x.size());
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j < L; ++j)
      for (int64_t ch = 0; ch < c; ++ch) out[(j * L + i) * c + ch] = x[(i * L + j) * c + ch];
  return out;
}

// modules.TriangleMultiplication._triangle_multiplication, plus the residual add.
void triangle_multiplication(const model::Scope& s, bool outgoing, int64_t L, const Vec& mask, Vec& pair) {
  const int64_t cz = static_cast<int64_t>(pair.size()) / (L * L);
  const Vec x = layer_norm(s.sub("layer_norm_input"), pair, cz);
  const Vec lp = linear(s.sub("left_projection"), x, cz), lg = linear(s.sub("left_gate"), x, cz);
  const Vec rp = linear(s.sub("right_projection"), x, cz), rg = linear(s.sub("right_gate"), x, cz);
  const int64_t c = static_cast<int64_t>(lp.size()) / (L * L);
  Vec left(lp.size()), right(rp.size());
  for (int64_t n = 0; n < L * L; ++n)
    for (int64_t ch = 0; ch < c; ++ch) {
      left[n * c + ch] = mask[n] * lp[n * c + ch] * sigmoid_ref(lg[n * c + ch]);
      right[n * c + ch] = mask[n] * rp[n * c + ch] * sigmoid_ref(rg[n * c + ch]);
    }
  Vec t(static_cast<size_t>(L * L * c), 0.0);
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j < L; ++j)
      for (int64_t ch = 0; ch < c; ++ch) {
        double acc = 0;
        for (int64_t k = 0; k < L; ++k) {
          if (outgoing) {  // 'ikc,jkc->ijc'
            acc += left[(i * L + k) * c + ch] * right[(j * L + k) * c + ch];
          } else {  // 'kjc,kic->ijc'
            acc += left[(k * L + j) * c + ch] * right[(k * L + i) * c + ch];
          }
        }
        t[(i * L + j) * c + ch] = acc;
      }
  const Vec tn = layer_norm(s.sub("center_layer_norm"), t, c);
  const Vec update = linear(s.sub("output_projection"), tn, c);
  const Vec gate = linear(s.sub("gating_linear"), x, cz);
  for (size_t e = 0; e < pair.size(); ++e) pair[e] += update[e] * sigmoid_ref(gate[e]);
}

// modules.TriangleAttention (per_row = starting node, per_column = ending node), plus the residual add.
void triangle_attention(const model::Scope& s, const model::AttentionConfig& cfg, bool ending, int64_t L,
                        const Vec& mask, Vec& pair) {
  const int64_t cz = static_cast<int64_t>(pair.size()) / (L * L);
  Vec x = ending ? transpose_pair(pair, L) : pair;
  const Vec m = ending ? transpose_pair(mask, L) : mask;
  const Vec y = layer_norm(s.sub("query_norm"), x, cz);
  const Vec w = to_doubles(s["feat_2d_weights"]);
  const int64_t H = cfg.num_head;
  Vec bias(static_cast<size_t>(H * L * L), 0.0);
  for (int64_t q = 0; q < L; ++q)
    for (int64_t k = 0; k < L; ++k)
      for (int64_t h = 0; h < H; ++h) {
        double acc = 0;
        for (int64_t c = 0; c < cz; ++c) acc += y[(q * L + k) * cz + c] * w[c * H + h];
        bias[(h * L + q) * L + k] = acc;
      }
  Vec update(x.size(), 0.0);
  attention_add(s.sub("attention"), cfg, L, L, L, y, cz, y, cz,
                [&](int64_t b, int64_t k) { return m[b * L + k]; }, &bias, update, cz);
  for (size_t e = 0; e < x.size(); ++e) x[e] += update[e];
  pair = ending ? transpose_pair(x, L) : x;
}

// modules.Transition, plus the residual add.
void transition(const model::Scope& s, Vec& x, int64_t c) {
  const Vec y = layer_norm(s.sub("input_layer_norm"), x, c);
  Vec hidden = linear(s.sub("transition1"), y, c);
  for (double& h : hidden) h = h > 0 ? h : 0;
  const Vec out = linear(s.sub("transition2"), hidden, static_cast<int64_t>(hidden.size() / (x.size() / c)));
  for (size_t e = 0; e < x.size(); ++e) x[e] += out[e];
}

}  // namespace axf::test::reference

namespace axf::test {

// Literal Suppl. Alg. 22 in double, AlphaFold's variant (folding.InvariantPointAttention): Linear layers with bias,
// logits w_L (1/sqrt(c) q.k + b - gamma w_C / 2 sum_p |T_i q_p - T_j k_p|^2) - 1e5 (1 - m_i m_j), output features
// concatenated as [scalar | local points x | y | z | point norms (eps 1e-8) | pair], output_projection with bias.
// act [L, c_s], pair [L, L, c_z] (already layer-normed), quats (w, x, y, z) unit, trans [L, 3]. Returns [L, c_s].
std::vector<double> ipa_reference(const model::Scope& s, const model::StructureModuleConfig& c, int64_t L, int64_t cz,
                                  const std::vector<double>& act, const std::vector<double>& pair,
                                  const std::vector<double>& mask, const std::vector<std::array<double, 4>>& quats,
                                  const std::vector<std::array<double, 3>>& trans) {
  const int64_t H = c.num_head, C = c.num_scalar_qk, V = c.num_scalar_v, P = c.num_point_qk, PV = c.num_point_v;
  const int64_t cs = c.num_channel;
  auto lin = [&](const std::string& name, const std::vector<double>& x, int64_t rows) {
    const auto w = to_doubles(s.sub(name)["weights"]), b = to_doubles(s.sub(name)["bias"]);
    const int64_t cout = static_cast<int64_t>(b.size()), cin = static_cast<int64_t>(w.size()) / cout;
    std::vector<double> y(static_cast<size_t>(rows * cout));
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t o = 0; o < cout; ++o) {
        double acc = b[o];
        for (int64_t i = 0; i < cin; ++i) acc += x[r * cin + i] * w[i * cout + o];
        y[r * cout + o] = acc;
      }
    return y;
  };
  // Line 1-3: scalar and local point projections, pair bias.
  const auto q_s = lin("q_scalar", act, L), kv_s = lin("kv_scalar", act, L);
  const auto q_pl = lin("q_point_local", act, L), kv_pl = lin("kv_point_local", act, L);
  const auto bias = lin("attention_2d", pair, L * L);
  auto q = [&](int64_t i, int64_t h, int64_t k) { return q_s[(i * H + h) * C + k]; };
  auto key = [&](int64_t i, int64_t h, int64_t k) { return kv_s[(i * H + h) * (C + V) + k]; };
  auto val = [&](int64_t i, int64_t h, int64_t k) { return kv_s[(i * H + h) * (C + V) + C + k]; };
  // T_i o x: rotation of the unit quaternion (textbook form) and translation.
  auto apply = [&](int64_t i, const double x[3], double out[3]) {
    const double w = quats[i][0], a = quats[i][1], b = quats[i][2], d = quats[i][3];
    const double r[9] = {1 - 2 * (b * b + d * d), 2 * (a * b - w * d),     2 * (a * d + w * b),
                         2 * (a * b + w * d),     1 - 2 * (a * a + d * d), 2 * (b * d - w * a),
                         2 * (a * d - w * b),     2 * (b * d + w * a),     1 - 2 * (a * a + b * b)};
    for (int e = 0; e < 3; ++e) out[e] = r[e * 3] * x[0] + r[e * 3 + 1] * x[1] + r[e * 3 + 2] * x[2] + trans[i][e];
  };
  auto invert = [&](int64_t i, const double x[3], double out[3]) {
    const double w = quats[i][0], a = quats[i][1], b = quats[i][2], d = quats[i][3];
    const double r[9] = {1 - 2 * (b * b + d * d), 2 * (a * b - w * d),     2 * (a * d + w * b),
                         2 * (a * b + w * d),     1 - 2 * (a * a + d * d), 2 * (b * d - w * a),
                         2 * (a * d - w * b),     2 * (b * d + w * a),     1 - 2 * (a * a + b * b)};
    const double y[3] = {x[0] - trans[i][0], x[1] - trans[i][1], x[2] - trans[i][2]};
    for (int e = 0; e < 3; ++e) out[e] = r[e] * y[0] + r[3 + e] * y[1] + r[6 + e] * y[2];
  };
  // Local point p of head h: the projection is split into x, y, z thirds (jnp.split(..., 3, axis=-1)).
  auto q_point = [&](int64_t i, int64_t h, int64_t p, double out[3]) {
    double x[3];
    for (int e = 0; e < 3; ++e) x[e] = q_pl[i * 3 * H * P + e * H * P + h * P + p];
    apply(i, x, out);
  };
  auto kv_point = [&](int64_t i, int64_t h, int64_t p, double out[3]) {  // p < P: key, p >= P: value P - p
    double x[3];
    for (int e = 0; e < 3; ++e) x[e] = kv_pl[i * 3 * H * (P + PV) + e * H * (P + PV) + h * (P + PV) + p];
    apply(i, x, out);
  };

  // Line 4: weights.
  const double w_c = std::sqrt(2.0 / (9.0 * P)), w_l = std::sqrt(1.0 / 3.0);
  const auto tpw = to_doubles(s["trainable_point_weights"]);
  const int64_t F = H * (V + 4 * PV + cz);
  std::vector<double> features(static_cast<size_t>(L * F));
  std::vector<double> a(static_cast<size_t>(L));
  for (int64_t i = 0; i < L; ++i) {
    for (int64_t h = 0; h < H; ++h) {
      const double gamma = std::log(1.0 + std::exp(tpw[h]));
      // Line 5.
      double mx = -1e300;
      for (int64_t j = 0; j < L; ++j) {
        double qk = 0;
        for (int64_t k = 0; k < C; ++k) qk += q(i, h, k) * key(j, h, k);
        double d2 = 0;
        for (int64_t p = 0; p < P; ++p) {
          double qg[3], kg[3];
          q_point(i, h, p, qg);
          kv_point(j, h, p, kg);
          for (int e = 0; e < 3; ++e) d2 += (qg[e] - kg[e]) * (qg[e] - kg[e]);
        }
        a[j] = w_l * (qk / std::sqrt(static_cast<double>(C)) + bias[(i * L + j) * H + h] - gamma * w_c / 2 * d2) -
               1e5 * (1 - mask[i] * mask[j]);
        mx = std::max(mx, a[j]);
      }
      double sum = 0;
      for (int64_t j = 0; j < L; ++j) sum += (a[j] = std::exp(a[j] - mx));
      for (int64_t j = 0; j < L; ++j) a[j] /= sum;
      // Lines 6-8, placed in AlphaFold's concatenation order.
      double* f = &features[i * F];
      for (int64_t k = 0; k < V; ++k) {
        double o = 0;
        for (int64_t j = 0; j < L; ++j) o += a[j] * val(j, h, k);
        f[h * V + k] = o;
      }
      for (int64_t p = 0; p < PV; ++p) {
        double g[3] = {0, 0, 0}, local[3];
        for (int64_t j = 0; j < L; ++j) {
          double vg[3];
          kv_point(j, h, P + p, vg);
          for (int e = 0; e < 3; ++e) g[e] += a[j] * vg[e];
        }
        invert(i, g, local);
        for (int e = 0; e < 3; ++e) f[H * V + e * H * PV + h * PV + p] = local[e];
        f[H * V + 3 * H * PV + h * PV + p] =
            std::sqrt(1e-8 + local[0] * local[0] + local[1] * local[1] + local[2] * local[2]);
      }
      for (int64_t k = 0; k < cz; ++k) {
        double o = 0;
        for (int64_t j = 0; j < L; ++j) o += a[j] * pair[(i * L + j) * cz + k];
        f[H * V + 4 * H * PV + h * cz + k] = o;
      }
    }
  }
  std::vector<double> out = lin("output_projection", features, L);
  EXPECT_EQ(static_cast<int64_t>(out.size()), L * cs);
  return out;
}

}  // namespace axf::test
