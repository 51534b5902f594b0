// Subcommands of the axialfold binary. Each parses its own options (Boost.Program_options; every option can
// also come from a --config FILE in the same "name = value" form) and returns the process exit code.
#pragma once

namespace axf::app {

int dispatch(int argc, char** argv);
int run_bench(int argc, char** argv);
int run_features(int argc, char** argv);
int run_make_params(int argc, char** argv);
int run_msa(int argc, char** argv);
int run_plan(int argc, char** argv);
int run_predict(int argc, char** argv);
int run_show_config(int argc, char** argv);

}  // namespace axf::app
