// Engine ops (CUDA): the six element types on the device, their dispatch, the binding of a
// stream's device, launch helpers and strided-index arguments with dimension coalescing.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "cuda_check.cuh"
#include "dtype.hpp"
#include "mambaops.h"
#include "status.hpp"

namespace mops {
namespace ce {

/** One boolean element: a byte that is 0 or 1. */
struct boolean {
    uint8_t v;
};

/** The type arithmetic runs in: float for floating-point types, int64 otherwise. */
template <typename T> struct compute { using type = float; };
template <> struct compute<int32_t> { using type = int64_t; };
template <> struct compute<int64_t> { using type = int64_t; };
template <> struct compute<boolean> { using type = int64_t; };

template <typename T> __host__ __device__ constexpr bool is_floating() {
    return std::is_same<typename compute<T>::type, float>::value;
}

__device__ __forceinline__ float load(float v) {
    return v;
}
__device__ __forceinline__ float load(f16 v) {
    return to_float(v);
}
__device__ __forceinline__ float load(bf16 v) {
    return to_float(v);
}
__device__ __forceinline__ int64_t load(int32_t v) {
    return v;
}
__device__ __forceinline__ int64_t load(int64_t v) {
    return v;
}
__device__ __forceinline__ int64_t load(boolean v) {
    return v.v;
}

template <typename T> __device__ __forceinline__ T store(typename compute<T>::type v);
template <> __device__ __forceinline__ float store<float>(float v) {
    return v;
}
template <> __device__ __forceinline__ f16 store<f16>(float v) {
    return from_float<f16>(v);
}
template <> __device__ __forceinline__ bf16 store<bf16>(float v) {
    return from_float<bf16>(v);
}
template <> __device__ __forceinline__ int32_t store<int32_t>(int64_t v) {
    return static_cast<int32_t>(v);
}
template <> __device__ __forceinline__ int64_t store<int64_t>(int64_t v) {
    return v;
}
template <> __device__ __forceinline__ boolean store<boolean>(int64_t v) {
    return boolean{static_cast<uint8_t>(v != 0)};
}

/** Loads an element as a double (the common type of conversions, as on the CPU). */
__device__ __forceinline__ double load_double(float v) {
    return v;
}
__device__ __forceinline__ double load_double(f16 v) {
    return to_float(v);
}
__device__ __forceinline__ double load_double(bf16 v) {
    return to_float(v);
}
__device__ __forceinline__ double load_double(int32_t v) {
    return v;
}
__device__ __forceinline__ double load_double(int64_t v) {
    return static_cast<double>(v);
}
__device__ __forceinline__ double load_double(boolean v) {
    return v.v ? 1.0 : 0.0;
}

template <typename T> __device__ __forceinline__ T store_double(double v);
template <> __device__ __forceinline__ float store_double<float>(double v) {
    return static_cast<float>(v);
}
template <> __device__ __forceinline__ f16 store_double<f16>(double v) {
    return from_float<f16>(static_cast<float>(v));
}
template <> __device__ __forceinline__ bf16 store_double<bf16>(double v) {
    return from_float<bf16>(static_cast<float>(v));
}
template <> __device__ __forceinline__ int32_t store_double<int32_t>(double v) {
    return static_cast<int32_t>(v);
}
template <> __device__ __forceinline__ int64_t store_double<int64_t>(double v) {
    return static_cast<int64_t>(v);
}
template <> __device__ __forceinline__ boolean store_double<boolean>(double v) {
    return boolean{static_cast<uint8_t>(v != 0.0)};
}

/** The size in bytes of an engine dtype, 0 if unknown. */
inline int dtype_bytes(int32_t dtype) {
    switch (dtype) {
    case MOPS_T_F32:
    case MOPS_T_I32:
        return 4;
    case MOPS_T_F16:
    case MOPS_T_BF16:
        return 2;
    case MOPS_T_I64:
        return 8;
    case MOPS_T_BOOL:
        return 1;
    default:
        return 0;
    }
}

/** Calls fn with a value of the C++ type of any engine dtype. */
template <typename Fn> void dispatch(int32_t dtype, Fn &&fn) {
    switch (dtype) {
    case MOPS_T_F32:
        fn(float{});
        break;
    case MOPS_T_F16:
        fn(f16{});
        break;
    case MOPS_T_BF16:
        fn(bf16{});
        break;
    case MOPS_T_I32:
        fn(int32_t{});
        break;
    case MOPS_T_I64:
        fn(int64_t{});
        break;
    case MOPS_T_BOOL:
        fn(boolean{});
        break;
    default:
        throw Error(MOPS_ERR_INVALID_ARGUMENT,
                    "unknown tensor dtype code " + std::to_string(dtype) +
                        " (0 float32, 1 float16, 2 bfloat16, 3 int32, 4 int64, 5 bool)");
    }
}

/** Checks a rank and a shape, returning the element count. */
inline int64_t check_shape(int32_t rank, const int64_t *shape) {
    require(rank >= 0 && rank <= MOPS_MAX_RANK, "rank " + std::to_string(rank) +
                                                    " is outside [0, " +
                                                    std::to_string(MOPS_MAX_RANK) + "]");
    require(rank == 0 || shape != nullptr, "shape is NULL");
    int64_t n = 1;
    for (int32_t i = 0; i < rank; ++i) {
        require(shape[i] >= 0, "negative dimension " + std::to_string(shape[i]));
        n *= shape[i];
    }
    return n;
}

/** Checks the sizes of an [outer, n, inner] operation. */
inline void check_oni(const void *x, const void *out, int64_t outer, int64_t n, int64_t inner) {
    require(x != nullptr && out != nullptr, "x or out is NULL");
    require(outer >= 0 && n > 0 && inner >= 0,
            "sizes must be outer >= 0, n > 0, inner >= 0: got [" + std::to_string(outer) + ", " +
                std::to_string(n) + ", " + std::to_string(inner) + "]");
}

/** Makes the device of a stream current for this thread; returns the stream. */
/** Remembers the device of an engine stream, so that bind need not ask CUDA for it. */
void remember_stream(cudaStream_t stream, int device);

/** The device of an engine stream made by mops_cuda_engine_stream_create, or -1. */
int engine_stream_device(cudaStream_t stream);

inline cudaStream_t bind(void *stream) {
    require(stream != nullptr, "stream is NULL: pass a stream of the engine's device");
    auto s = static_cast<cudaStream_t>(stream);
    // cudaStreamGetDevice is refused (and breaks the recording) while the stream records a graph:
    // the engine's own streams are looked up instead
    int device = engine_stream_device(s);
    if (device < 0) {
        MOPS_CUDA_CHECK(cudaStreamGetDevice(s, &device));
    }
    int current = -1;
    MOPS_CUDA_CHECK(cudaGetDevice(&current));
    if (current != device) {
        MOPS_CUDA_CHECK(cudaSetDevice(device));
    }
    return s;
}

/** A grid of at most 65535 * 8 blocks of `threads` covering `total` items (grid-stride loops). */
inline unsigned int blocks_for(int64_t total, int threads) {
    int64_t b = (total + threads - 1) / threads;
    if (b > 65535 * 8) {
        b = 65535 * 8;
    }
    return static_cast<unsigned int>(b < 1 ? 1 : b);
}

/** A shape and N operands' strides over it, passed to kernels by value. */
template <int N> struct Strided {
    int32_t rank;
    int64_t shape[MOPS_MAX_RANK];
    int64_t strides[N][MOPS_MAX_RANK];

    /** Element offsets of operand j for the row-major element i. */
    __device__ __forceinline__ void offsets(int64_t i, int64_t *off) const {
        for (int j = 0; j < N; ++j) {
            off[j] = 0;
        }
        for (int32_t d = rank - 1; d >= 0; --d) {
            const int64_t idx = i % shape[d];
            i /= shape[d];
            for (int j = 0; j < N; ++j) {
                off[j] += idx * strides[j][d];
            }
        }
    }
};

/**
 * Builds the kernel arguments of a strided loop: drops dimensions of size 1 and merges adjacent
 * dimensions that every operand walks contiguously (row-major order is kept, so a contiguous
 * output indexed by the element number stays correct).
 */
template <int N>
Strided<N> coalesce(int32_t rank, const int64_t *shape, const int64_t *const *strides) {
    Strided<N> s{};
    s.rank = 0;
    for (int32_t d = 0; d < rank; ++d) {
        if (shape[d] == 1) {
            continue;
        }
        if (s.rank > 0) {
            const int32_t p = s.rank - 1;
            bool merge = true;
            for (int j = 0; j < N; ++j) {
                merge = merge && strides[j][d] * shape[d] == s.strides[j][p];
            }
            if (merge) {
                s.shape[p] *= shape[d];
                for (int j = 0; j < N; ++j) {
                    s.strides[j][p] = strides[j][d];
                }
                continue;
            }
        }
        s.shape[s.rank] = shape[d];
        for (int j = 0; j < N; ++j) {
            s.strides[j][s.rank] = strides[j][d];
        }
        ++s.rank;
    }
    return s;
}

/** Device memory from the engine pool, returned in stream order when the scope ends. */
class PoolBuffer {
  public:
    PoolBuffer(cudaStream_t stream, int64_t bytes);
    ~PoolBuffer();
    PoolBuffer(const PoolBuffer &) = delete;
    PoolBuffer &operator=(const PoolBuffer &) = delete;
    void *get() const { return ptr_; }

  private:
    cudaStream_t stream_;
    void *ptr_ = nullptr;
};

/** Allocates from the engine pool of the stream's (current) device. */
void *pool_alloc(cudaStream_t stream, int64_t bytes);

/** Returns memory to the engine pool in stream order. */
void pool_free(cudaStream_t stream, void *ptr);

/**
 * Whether the product of 1 to 4 rows a [m, k] (unit column stride) by the transposed view of a
 * weight [n, k] (b with unit row stride) fits the GEMV of run_gemv: the rows of both start on 16
 * bytes and hold whole 16-byte vectors.
 */
bool gemv_applies(int32_t dtype, int64_t batch, int64_t m, int64_t n, int64_t k, const void *a,
                  int64_t a_row_stride, int64_t a_col_stride, const void *b, int64_t b_row_stride,
                  int64_t b_col_stride);

/**
 * Whether the GEMV can normalise m rows of k values (GemvFusion::norm_weight): it stages them in
 * shared memory, at most 96 KiB.
 */
bool gemv_stages_rows(int32_t dtype, int64_t m, int64_t k);

/** The most warps per output column of the GEMV for rows of k values (1, 2, 4 or 8). */
int gemv_max_split(int32_t dtype, int64_t k);

/** The warps per output column that fill the GPU with short blocks for n columns. */
int gemv_default_split(int32_t dtype, int64_t n, int64_t k);

/**
 * What a GEMV fuses around its product (engine_gemv.cu): with norm_weight, the rows of a are
 * RMS-normalised on the way in (norm_weight [k] contiguous in the GEMV's dtype, 16-byte aligned;
 * eps added to the mean square; where gemv_stages_rows); with addend, out = addend + the product,
 * each rounded to the dtype as the separate product and add are (addend [m, n] in the GEMV's dtype,
 * row stride addend_row_stride, not overlapping out). Both null: the plain product.
 */
struct GemvFusion {
    const void *norm_weight = nullptr;
    float eps = 0.0f;
    const void *addend = nullptr;
    int64_t addend_row_stride = 0;
};

/**
 * Queues out [m, n] = a b for operands that gemv_applies to (b's column stride = ldw), with
 * `split` (1, 2, 4 or 8, at most gemv_max_split) warps per output column, and what `fusion` adds.
 */
void run_gemv(cudaStream_t s, int32_t dtype, int split, int64_t m, int64_t n, int64_t k,
              const void *a, int64_t a_row_stride, const void *b, int64_t b_col_stride, void *out,
              const GemvFusion &fusion = GemvFusion{});

/** Whether work queued on `stream` is being recorded into a graph (stream capture). */
bool is_recording(cudaStream_t stream);

/**
 * Ends the bookkeeping of the allocations made while `stream` was recording and still live: kept
 * as ordinary engine allocations (the graph was instantiated and will be launched before they are
 * used), or forgotten when the recording is discarded (they were never allocated).
 */
void settle_recorded(cudaStream_t stream, bool discard);

/** Queues the strided copy with conversion of mops_cuda_copy on a bound stream. */
void strided_copy(cudaStream_t stream, int32_t rank, const int64_t *shape, int32_t src_dtype,
                  const void *src, const int64_t *src_strides, int32_t dst_dtype, void *dst,
                  const int64_t *dst_strides);

} // namespace ce
} // namespace mops
