// Literal double-precision implementations of AlphaFold modules (layer norm, linear, Attention, triangle
// multiplication and attention, transition) used as references by the model tests. Row-major vectors.
#pragma once

#include <array>
#include <functional>
#include <vector>

#include "model/config.h"
#include "model/params.h"

namespace axf::test::reference {
using Vec = std::vector<double>;
Vec layer_norm(const model::Scope& s, const Vec& x, int64_t c);
Vec linear(const model::Scope& s, const Vec& x, int64_t cin);
void attention_add(const model::Scope& s, const model::AttentionConfig& cfg, int64_t B, int64_t Q, int64_t K,
                   const Vec& q_data, int64_t cq, const Vec& m_data, int64_t cm,
                   const std::function<double(int64_t, int64_t)>& mask, const Vec* bias, Vec& residual,
                   int64_t cout);
void triangle_multiplication(const model::Scope& s, bool outgoing, int64_t L, const Vec& mask, Vec& pair);
void triangle_attention(const model::Scope& s, const model::AttentionConfig& cfg, bool ending, int64_t L,
                        const Vec& mask, Vec& pair);
void transition(const model::Scope& s, Vec& x, int64_t c);
}  // namespace axf::test::reference

namespace axf::test {
// Literal Suppl. Alg. 22 (invariant point attention) in AlphaFold's variant; see reference_modules.cpp.
std::vector<double> ipa_reference(const model::Scope& s, const model::StructureModuleConfig& c, int64_t L, int64_t cz,
                                  const std::vector<double>& act, const std::vector<double>& pair,
                                  const std::vector<double>& mask, const std::vector<std::array<double, 4>>& quats,
                                  const std::vector<std::array<double, 3>>& trans);
}  // namespace axf::test
