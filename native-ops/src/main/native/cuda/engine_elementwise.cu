// Engine ops (CUDA): elementwise functions of one and two arguments, and where.
#include <cuda_runtime.h>

#include <string>

#include "engine_common.cuh"
#include "mambaops.h"
#include "pdl.cuh"
#include "status.hpp"

namespace mops {
namespace ce {
namespace {

#define MOPS_GRID_STRIDE(i, total)                                                                 \
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (total);     \
         i += static_cast<int64_t>(gridDim.x) * blockDim.x)

__device__ __forceinline__ float sigmoid(float v) {
    return 1.0f / (1.0f + expf(-v));
}

/** Functions valid for every dtype (computed in float or int64). */
template <typename C> __device__ __forceinline__ C apply_any(int32_t op, C v) {
    switch (op) {
    case MOPS_UN_NEG:
        return C(-v);
    case MOPS_UN_ABS:
        return v < C(0) ? C(-v) : v;
    case MOPS_UN_SQUARE:
        return C(v * v);
    default: // MOPS_UN_RELU
        return v > C(0) ? v : C(0);
    }
}

__device__ __forceinline__ float apply_float(int32_t op, float v, float p) {
    switch (op) {
    case MOPS_UN_EXP:
        return expf(v);
    case MOPS_UN_LOG:
        return logf(v);
    case MOPS_UN_SQRT:
        return sqrtf(v);
    case MOPS_UN_RSQRT:
        return 1.0f / sqrtf(v);
    case MOPS_UN_TANH:
        return tanhf(v);
    case MOPS_UN_SIGMOID:
        return sigmoid(v);
    case MOPS_UN_SOFTPLUS:
        return v > 20.0f ? v : log1pf(expf(v));
    case MOPS_UN_SILU:
        return v * sigmoid(v);
    case MOPS_UN_GELU:
        return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
    default: // MOPS_UN_POW_SCALAR, with the CPU's special cases
        if (p == 2.0f) {
            return v * v;
        }
        if (p == 0.5f) {
            return sqrtf(v);
        }
        if (p == -0.5f) {
            return 1.0f / sqrtf(v);
        }
        if (p == -1.0f) {
            return 1.0f / v;
        }
        return powf(v, p);
    }
}

bool is_any_dtype_unary(int32_t op) {
    return op == MOPS_UN_NEG || op == MOPS_UN_ABS || op == MOPS_UN_SQUARE || op == MOPS_UN_RELU;
}

template <typename T>
__global__ void unary_kernel(Strided<1> a, int64_t total, int32_t op, float p, const T *x,
                             void *out_ptr) {
    pdl_begin();
    using C = typename compute<T>::type;
    MOPS_GRID_STRIDE(i, total) {
        int64_t off[1];
        a.offsets(i, off);
        const C v = load(x[off[0]]);
        if (op == MOPS_UN_LOGICAL_NOT) {
            static_cast<boolean *>(out_ptr)[i] = boolean{static_cast<uint8_t>(v == C(0))};
        } else if (op <= MOPS_UN_ABS || op == MOPS_UN_SQUARE || op == MOPS_UN_RELU) {
            static_cast<T *>(out_ptr)[i] = store<T>(apply_any<C>(op, v));
        } else {
            if constexpr (is_floating<T>()) {
                static_cast<T *>(out_ptr)[i] = store<T>(apply_float(op, v, p));
            }
        }
    }
}

template <typename C> __device__ __forceinline__ bool compare(int32_t op, C x, C y) {
    switch (op) {
    case MOPS_BIN_EQ:
        return x == y;
    case MOPS_BIN_NE:
        return x != y;
    case MOPS_BIN_GT:
        return x > y;
    case MOPS_BIN_GE:
        return x >= y;
    case MOPS_BIN_LT:
        return x < y;
    case MOPS_BIN_LE:
        return x <= y;
    case MOPS_BIN_AND:
        return x != C(0) && y != C(0);
    case MOPS_BIN_OR:
        return x != C(0) || y != C(0);
    default: // MOPS_BIN_XOR
        return (x != C(0)) != (y != C(0));
    }
}

template <typename C> __device__ __forceinline__ C arithmetic(int32_t op, C x, C y) {
    switch (op) {
    case MOPS_BIN_ADD:
        return C(x + y);
    case MOPS_BIN_SUB:
        return C(x - y);
    case MOPS_BIN_MUL:
        return C(x * y);
    case MOPS_BIN_MAX:
        return x != x ? x : (y != y ? y : (x > y ? x : y));
    case MOPS_BIN_MIN:
        return x != x ? x : (y != y ? y : (x < y ? x : y));
    default:
        break;
    }
    if constexpr (std::is_same<C, float>::value) {
        return op == MOPS_BIN_DIV ? x / y : powf(x, y);
    }
    return C(0);
}

template <typename T>
__global__ void binary_kernel(Strided<2> a, int64_t total, int32_t op, const T *x, const T *y,
                              void *out_ptr) {
    pdl_begin();
    using C = typename compute<T>::type;
    const bool predicate = op >= MOPS_BIN_EQ;
    MOPS_GRID_STRIDE(i, total) {
        int64_t off[2];
        a.offsets(i, off);
        const C u = load(x[off[0]]);
        const C v = load(y[off[1]]);
        if (predicate) {
            static_cast<boolean *>(out_ptr)[i] =
                boolean{static_cast<uint8_t>(compare<C>(op, u, v))};
        } else {
            static_cast<T *>(out_ptr)[i] = store<T>(arithmetic<C>(op, u, v));
        }
    }
}

template <typename T>
__global__ void where_kernel(Strided<3> a, int64_t total, const uint8_t *cond, const T *x,
                             const T *y, T *out) {
    pdl_begin();
    MOPS_GRID_STRIDE(i, total) {
        int64_t off[3];
        a.offsets(i, off);
        out[i] = cond[off[0]] ? x[off[1]] : y[off[2]];
    }
}

} // namespace
} // namespace ce
} // namespace mops

extern "C" MOPS_API int32_t mops_cuda_unary(void *stream, int32_t op, int32_t dtype, int32_t rank,
                                            const int64_t *shape, const void *x,
                                            const int64_t *x_strides, double scalar, void *out) {
    return mops::guarded("cuda_unary", [&] {
        const int64_t total = mops::ce::check_shape(rank, shape);
        mops::require(op >= MOPS_UN_NEG && op <= MOPS_UN_GELU,
                      "unary op " + std::to_string(op) + " is unknown");
        mops::ce::dispatch(dtype, [&](auto tag) {
            using T = decltype(tag);
            mops::require(mops::ce::is_floating<T>() || op == MOPS_UN_LOGICAL_NOT ||
                              mops::ce::is_any_dtype_unary(op),
                          "unary op " + std::to_string(op) + " needs a floating-point dtype");
            if (total == 0) {
                return;
            }
            mops::require(x != nullptr && out != nullptr, "x or out is NULL");
            mops::require(rank == 0 || x_strides != nullptr, "x_strides is NULL");
            cudaStream_t s = mops::ce::bind(stream);
            const int64_t *strides[1] = {x_strides};
            const auto args = mops::ce::coalesce<1>(rank, shape, strides);
            mops::launch_dependent("unary_kernel", mops::ce::unary_kernel<T>,
                                   mops::ce::blocks_for(total, 256), 256, 0, s, args, total, op,
                                   static_cast<float>(scalar), static_cast<const T *>(x), out);
        });
    });
}

extern "C" MOPS_API int32_t mops_cuda_binary(void *stream, int32_t op, int32_t dtype, int32_t rank,
                                             const int64_t *shape, const void *a,
                                             const int64_t *a_strides, const void *b,
                                             const int64_t *b_strides, void *out) {
    return mops::guarded("cuda_binary", [&] {
        const int64_t total = mops::ce::check_shape(rank, shape);
        mops::require(op >= MOPS_BIN_ADD && op <= MOPS_BIN_XOR,
                      "binary op " + std::to_string(op) + " is unknown");
        mops::ce::dispatch(dtype, [&](auto tag) {
            using T = decltype(tag);
            mops::require(mops::ce::is_floating<T>() || (op != MOPS_BIN_DIV && op != MOPS_BIN_POW),
                          "binary op " + std::to_string(op) + " needs a floating-point dtype");
            if (total == 0) {
                return;
            }
            mops::require(a != nullptr && b != nullptr && out != nullptr, "a, b or out is NULL");
            mops::require(rank == 0 || (a_strides != nullptr && b_strides != nullptr),
                          "strides are NULL");
            cudaStream_t s = mops::ce::bind(stream);
            const int64_t *strides[2] = {a_strides, b_strides};
            const auto args = mops::ce::coalesce<2>(rank, shape, strides);
            mops::launch_dependent("binary_kernel", mops::ce::binary_kernel<T>,
                                   mops::ce::blocks_for(total, 256), 256, 0, s, args, total, op,
                                   static_cast<const T *>(a), static_cast<const T *>(b), out);
        });
    });
}

extern "C" MOPS_API int32_t mops_cuda_where(void *stream, int32_t dtype, int32_t rank,
                                            const int64_t *shape, const void *cond,
                                            const int64_t *cond_strides, const void *a,
                                            const int64_t *a_strides, const void *b,
                                            const int64_t *b_strides, void *out) {
    return mops::guarded("cuda_where", [&] {
        const int64_t total = mops::ce::check_shape(rank, shape);
        mops::require(mops::ce::dtype_bytes(dtype) != 0,
                      "unknown tensor dtype code " + std::to_string(dtype));
        if (total == 0) {
            return;
        }
        mops::require(cond != nullptr && a != nullptr && b != nullptr && out != nullptr,
                      "cond, a, b or out is NULL");
        mops::require(rank == 0 || (cond_strides && a_strides && b_strides), "strides are NULL");
        cudaStream_t s = mops::ce::bind(stream);
        const int64_t *strides[3] = {cond_strides, a_strides, b_strides};
        const auto args = mops::ce::coalesce<3>(rank, shape, strides);
        mops::ce::dispatch(dtype, [&](auto tag) {
            using T = decltype(tag);
            mops::launch_dependent("where_kernel", mops::ce::where_kernel<T>,
                                   mops::ce::blocks_for(total, 256), 256, 0, s, args, total,
                                   static_cast<const uint8_t *>(cond), static_cast<const T *>(a),
                                   static_cast<const T *>(b), static_cast<T *>(out));
        });
    });
}
