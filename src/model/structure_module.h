// The structure module (Suppl. Alg. 20 "StructureModule" with Alg. 21-24: rigid frames, invariant point attention,
// backbone update, the angle ResNet; AlphaFold folding.py): trunk single [L, c_s] and pair [L, L, c_z] -> backbone
// frames, torsion angles and all-atom coordinates, with 8 shared-weight iterations.
#pragma once

#include "model/config.h"
#include "model/params.h"
#include "runtime/execution_context.h"

namespace axf::model {

struct StructureOutputs {
  Tensor single;                // [L, c_s] activations after the last iteration (input of the pLDDT head), device
  Tensor rotations;             // [L, 3, 3] final backbone frames (host), x_global = R x_local + t
  Tensor translations;          // [L, 3] in Angstrom (host)
  Tensor quaternions;           // [L, 4] (w, x, y, z) of the final frames, AlphaFold's final_affines[:, :4] (host)
  Tensor angles_sin_cos;        // [L, 7, 2] normalised (host)
  Tensor unnormalized_angles;   // [L, 7, 2] (host)
  Tensor atom14_positions;      // [L, 14, 3] (host)
  Tensor atom14_mask;           // [L, 14] (host)
  Tensor final_atom_positions;  // [L, 37, 3] AlphaFold's final_atom_positions (host)
  Tensor final_atom_mask;       // [L, 37] (host)
  Tensor trajectory;            // [num_layer, L, 7] backbone affines per iteration (quaternion, translation in A)
};

// single [L, c_s] fp32, pair [L, L, c_z] in ctx.dtype(), both on the backend's device; aatype [L] int32 host; seq_mask
// [L] host. The normalised pair (the module's largest buffer) is kept in ctx.dtype(), the rest in fp32.
StructureOutputs run_structure_module(runtime::ExecutionContext& ctx, const Params& params, const ModelConfig& cfg,
                                      const Tensor& single, const Tensor& pair, const Tensor& aatype,
                                      const Tensor& seq_mask);

}  // namespace axf::model
