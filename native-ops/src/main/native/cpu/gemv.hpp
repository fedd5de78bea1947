// Engine ops: products of a few rows (decoding: one token per sequence) with a matrix, read
// once, straight from its storage, without packing. Used by mops_cpu_matmul for small m.
#pragma once

#include <cstdint>

#include "dtype.hpp"

namespace mops {

/** The largest m served by gemv_rows; beyond it the packed GEMM reuses B better. */
constexpr int64_t GEMV_MAX_ROWS = 4;

/**
 * c (m x n, row-major, float32) = a (m x k) * b (k x n) for m <= GEMV_MAX_ROWS, when b has a
 * unit stride along one axis: brs == 1 (b's columns contiguous: the rows of a [n, k] weight
 * read through a transpose) or bcs == 1 (b's rows contiguous). Each output is summed by one
 * thread in a fixed order, so results do not depend on the thread count.
 *
 * @return false (computing nothing) when the shapes or strides do not suit this path
 */
bool gemv_rows(int64_t m, int64_t n, int64_t k, const float *a, int64_t ars, int64_t acs,
               const float *b, int64_t brs, int64_t bcs, float *c);
bool gemv_rows(int64_t m, int64_t n, int64_t k, const f16 *a, int64_t ars, int64_t acs,
               const f16 *b, int64_t brs, int64_t bcs, float *c);
bool gemv_rows(int64_t m, int64_t n, int64_t k, const bf16 *a, int64_t ars, int64_t acs,
               const bf16 *b, int64_t brs, int64_t bcs, float *c);

/**
 * c[j] = sum_p a[p] * b[j * bcs + p] for j < n (b the rows of an [n, k] weight, a k floats), in
 * the calling thread: each sum taken exactly as gemv_rows takes it for the same column (same
 * instruction set, same order), so that a kernel computing a few of a product's columns itself
 * gets the values the product would give.
 */
void gemv_dot_columns(int64_t n, int64_t k, const float *a, const float *b, int64_t bcs, float *c);
void gemv_dot_columns(int64_t n, int64_t k, const float *a, const f16 *b, int64_t bcs, float *c);
void gemv_dot_columns(int64_t n, int64_t k, const float *a, const bf16 *b, int64_t bcs, float *c);

} // namespace mops
