// Backbone frame arithmetic shared by the CPU backend and the CUDA kernels (host and device code alike): AlphaFold's
// QuatAffine as a [7] row (quaternion w, x, y, z, then translation), in the float order of operations of
// model/rigid.cpp so every backend updates frames the way the host model code did.
#pragma once

#include <cmath>

#if defined(__CUDACC__)
#define AXF_FRAME_FN __host__ __device__ __forceinline__
#else
#define AXF_FRAME_FN inline
#endif

namespace axf::backend::frame {

// quat_affine.quat_to_rot (no normalisation): row-major R, x_global = R x_local + t.
AXF_FRAME_FN void quat_to_rot(const float* q, float* r) {
  const float w = q[0], x = q[1], y = q[2], z = q[3];
  r[0] = w * w + x * x - y * y - z * z;
  r[1] = 2 * x * y - 2 * w * z;
  r[2] = 2 * x * z + 2 * w * y;
  r[3] = 2 * x * y + 2 * w * z;
  r[4] = w * w - x * x + y * y - z * z;
  r[5] = 2 * y * z - 2 * w * x;
  r[6] = 2 * x * z - 2 * w * y;
  r[7] = 2 * y * z + 2 * w * x;
  r[8] = w * w - x * x - y * y + z * z;
}

// out = R v + t.
AXF_FRAME_FN void apply_point(const float* r, const float* t, float x, float y, float z, float* out) {
  out[0] = r[0] * x + r[1] * y + r[2] * z + t[0];
  out[1] = r[3] * x + r[4] * y + r[5] * z + t[1];
  out[2] = r[6] * x + r[7] * y + r[8] * z + t[2];
}

// QuatAffine.pre_compose(update) of the row a = (q, t), update = (b, c, d, tx, ty, tz):
// q' = normalise(q + q (0, b, c, d)), t' = t + R(q) (tx, ty, tz). `out` may alias `a`.
AXF_FRAME_FN void pre_compose(const float* a, const float* u, float* out) {
  const float q0 = a[0], q1 = a[1], q2 = a[2], q3 = a[3];
  // quat_multiply_by_vec(q, (b, c, d)).
  const float d0 = -q1 * u[0] - q2 * u[1] - q3 * u[2];
  const float d1 = q0 * u[0] + q2 * u[2] - q3 * u[1];
  const float d2 = q0 * u[1] - q1 * u[2] + q3 * u[0];
  const float d3 = q0 * u[2] + q1 * u[1] - q2 * u[0];
  const float n0 = q0 + d0, n1 = q1 + d1, n2 = q2 + d2, n3 = q3 + d3;
  float r[9];
  quat_to_rot(a, r);
  const float t0 = a[4] + (r[0] * u[3] + r[1] * u[4] + r[2] * u[5]);
  const float t1 = a[5] + (r[3] * u[3] + r[4] * u[4] + r[5] * u[5]);
  const float t2 = a[6] + (r[6] * u[3] + r[7] * u[4] + r[8] * u[5]);
  const float norm = sqrtf(n0 * n0 + n1 * n1 + n2 * n2 + n3 * n3);
  out[0] = n0 / norm;
  out[1] = n1 / norm;
  out[2] = n2 / norm;
  out[3] = n3 / norm;
  out[4] = t0;
  out[5] = t1;
  out[6] = t2;
}

}  // namespace axf::backend::frame
