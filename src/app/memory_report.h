// The memory plan as a table (axialfold plan, predict's fit check): persistent buffers, every stage's total,
// the peak stage's buffers, backend scratch and the predicted peak.
#pragma once

#include <ostream>

#include "model/memory_plan.h"

namespace axf::app {

void print_memory_plan(std::ostream& out, const model::MemoryPlan& plan);

// "3.95 GiB"
std::string format_gib(double bytes);

}  // namespace axf::app
