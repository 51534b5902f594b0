#include "model/transition.h"

#include "core/error.h"

namespace axf::model {

void transition(runtime::ExecutionContext& ctx, const Scope& scope, Tensor& act, int64_t chunk) {
  backend::Backend& be = ctx.backend();
  const Scope ln = scope.sub("input_layer_norm");
  const Scope t1 = scope.sub("transition1"), t2 = scope.sub("transition2");
  const Tensor w1 = t1["weights"], w2 = t2["weights"];
  AXF_CHECK(act.ndim() >= 2 && w1.size(0) == act.size(-1), "transition '", scope.path(), "': activations ",
            act.describe(), " vs weights ", w1.describe());
  runtime::for_each_chunk(act.size(0), chunk, [&](int64_t begin, int64_t end) {
    be.transition({act.slice(0, begin, end), ln["scale"], ln["offset"], w1, t1["bias"], w2, t2["bias"]});
  });
}

}  // namespace axf::model
