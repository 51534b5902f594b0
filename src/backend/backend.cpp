#include "backend/backend.h"

#include "core/error.h"

namespace axf::backend {

void Backend::throw_no_tf32() const { AXF_FAIL("the ", name(), " backend has no TF32 mode (use --precision fp32)"); }

}  // namespace axf::backend
