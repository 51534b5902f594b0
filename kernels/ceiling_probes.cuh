// Probes for two of `axialfold bench`'s measured ceilings (runtime/bench_ceilings.cpp), the limits the attention
// kernels meet besides the GEMM and the DRAM copy: bias and key tiles re-read through L2, and softmax exponentials.
//   L2 read:   every block reads a buffer that fits in L2 `passes` times with 16-byte ld.global.cg (L1 bypassed),
//              each block starting at its own offset so all L2 slices serve at once; a block writes the wrapping
//              32-bit sum of every word it read, i.e. passes * (sum of the buffer's words) mod 2^32.
//   SFU exp2:  every thread runs kExp2Chains independent chains x <- ex2.approx.ftz.f32(-|x|) (MUFU.EX2, the flash
//              kernels' softmax instruction) and writes the sum of its chains' ends. The map contracts (|slope| <=
//              ln 2 on the chain's range), so ex2.approx's few-ulp error does not grow along a chain and the host's
//              exp2f recurrence matches to ~1e-6.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace axf::kernels {

constexpr int kL2ReadBlock = 512;
constexpr int kL2ReadUnroll = 4;  // 16-byte loads in flight per thread
// The L2 buffer's size must be a multiple of this (one step of a block: every thread's kL2ReadUnroll loads).
constexpr size_t kL2ReadGranule = size_t{16} * kL2ReadBlock * kL2ReadUnroll;

// Blocks of the L2 read kernel the current device holds at once (at least one per SM).
int64_t l2_read_grid();
// d_out[b] for b < blocks: the sum of the 32-bit words of d_buffer (bytes long, 16-byte aligned, a multiple of
// kL2ReadGranule) read `passes` times, mod 2^32.
void launch_l2_read(const void* d_buffer, size_t bytes, int passes, int64_t blocks, uint32_t* d_out,
                    cudaStream_t stream);
// What every block must write: passes * (the wrapping sum of the `count` words), from the host copy.
uint32_t l2_read_expected(const uint32_t* h_words, size_t count, int passes);

constexpr int kExp2Block = 256;
constexpr int kExp2Chains = 8;     // independent chains per thread, enough to hide MUFU latency
constexpr int kExp2Starts = 1024;  // distinct chain start values, -4 + s / 128 for s < kExp2Starts

// Blocks of the exp2 kernel the current device holds at once (at least one per SM).
int64_t exp2_grid();
// d_out[t] for t < blocks * kExp2Block: the sum over the thread's chains of `iterations` steps of ex2(-|x|);
// blocks * kExp2Block * kExp2Chains * iterations exp2 evaluations in all.
void launch_exp2_chains(int64_t blocks, int iterations, float* d_out, cudaStream_t stream);
// Host reference in float (exp2f): the end of a chain of `iterations` steps from each of the kExp2Starts starts
// (cheap: threads share the starts), and from it thread t's expected output.
std::vector<float> exp2_chain_ends(int iterations);
float exp2_thread_expected(const std::vector<float>& chain_ends, int64_t thread);

}  // namespace axf::kernels
