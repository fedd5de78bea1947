// Engine ops: elementwise functions of one and two arguments, and where.
#include <cmath>
#include <string>

#include "mambaops.h"
#include "status.hpp"
#include "tensor_types.hpp"

namespace mops {
namespace {

float softplus(float v) {
    // log(1 + exp(v)) as torch.nn.functional.softplus with threshold 20.
    return v > 20.0f ? v : std::log1p(std::exp(v));
}

float sigmoid(float v) {
    return 1.0f / (1.0f + std::exp(-v));
}

template <typename T>
void unary(int32_t op, int32_t rank, const int64_t *shape, const T *x, const int64_t *x_strides,
           double scalar, void *out_ptr) {
    static const int64_t kNoStrides[MOPS_MAX_RANK] = {0};
    const int64_t *strides[1] = {rank == 0 ? kNoStrides : x_strides};
    using C = typename compute<T>::type;
    if (op == MOPS_UN_LOGICAL_NOT) {
        boolean *out = static_cast<boolean *>(out_ptr);
        strided_for<1>(rank, shape, strides, [&](int64_t i, const int64_t *off) {
            out[i] = boolean{load(x[off[0]]) == C(0)};
        });
        return;
    }
    T *out = static_cast<T *>(out_ptr);
    auto run = [&](auto f) {
        strided_for<1>(rank, shape, strides, [&](int64_t i, const int64_t *off) {
            out[i] = store<T>(f(load(x[off[0]])));
        });
    };
    switch (op) {
    case MOPS_UN_NEG:
        run([](C v) { return C(-v); });
        return;
    case MOPS_UN_ABS:
        run([](C v) { return v < C(0) ? C(-v) : v; });
        return;
    case MOPS_UN_SQUARE:
        run([](C v) { return C(v * v); });
        return;
    case MOPS_UN_RELU:
        run([](C v) { return v > C(0) ? v : C(0); });
        return;
    default:
        break;
    }
    if constexpr (is_floating<T>()) {
        const float p = static_cast<float>(scalar);
        switch (op) {
        case MOPS_UN_EXP:
            run([](float v) { return std::exp(v); });
            return;
        case MOPS_UN_LOG:
            run([](float v) { return std::log(v); });
            return;
        case MOPS_UN_SQRT:
            run([](float v) { return std::sqrt(v); });
            return;
        case MOPS_UN_RSQRT:
            run([](float v) { return 1.0f / std::sqrt(v); });
            return;
        case MOPS_UN_TANH:
            run([](float v) { return std::tanh(v); });
            return;
        case MOPS_UN_SIGMOID:
            run([](float v) { return sigmoid(v); });
            return;
        case MOPS_UN_SOFTPLUS:
            run([](float v) { return softplus(v); });
            return;
        case MOPS_UN_SILU:
            run([](float v) { return v * sigmoid(v); });
            return;
        case MOPS_UN_GELU:
            run([](float v) { return 0.5f * v * (1.0f + std::erf(v * 0.70710678118654752f)); });
            return;
        case MOPS_UN_POW_SCALAR:
            if (p == 2.0f) {
                run([](float v) { return v * v; });
            } else if (p == 0.5f) {
                run([](float v) { return std::sqrt(v); });
            } else if (p == -0.5f) { // RMSNorm's reciprocal square root
                run([](float v) { return 1.0f / std::sqrt(v); });
            } else if (p == -1.0f) {
                run([](float v) { return 1.0f / v; });
            } else {
                run([p](float v) { return std::pow(v, p); });
            }
            return;
        default:
            break;
        }
    }
    throw Error(MOPS_ERR_INVALID_ARGUMENT,
                "unary op " + std::to_string(op) + " is unknown or needs a floating-point dtype");
}

bool is_comparison(int32_t op) {
    return op >= MOPS_BIN_EQ && op <= MOPS_BIN_XOR;
}

template <typename T>
void binary(int32_t op, int32_t rank, const int64_t *shape, const T *a, const int64_t *as,
            const T *b, const int64_t *bs, void *out_ptr) {
    static const int64_t kNoStrides[MOPS_MAX_RANK] = {0};
    const int64_t *strides[2] = {rank == 0 ? kNoStrides : as, rank == 0 ? kNoStrides : bs};
    using C = typename compute<T>::type;
    if (is_comparison(op)) {
        boolean *out = static_cast<boolean *>(out_ptr);
        auto cmp = [&](auto f) {
            strided_for<2>(rank, shape, strides, [&](int64_t i, const int64_t *off) {
                out[i] = boolean{f(load(a[off[0]]), load(b[off[1]]))};
            });
        };
        switch (op) {
        case MOPS_BIN_EQ:
            cmp([](C x, C y) { return x == y; });
            return;
        case MOPS_BIN_NE:
            cmp([](C x, C y) { return x != y; });
            return;
        case MOPS_BIN_GT:
            cmp([](C x, C y) { return x > y; });
            return;
        case MOPS_BIN_GE:
            cmp([](C x, C y) { return x >= y; });
            return;
        case MOPS_BIN_LT:
            cmp([](C x, C y) { return x < y; });
            return;
        case MOPS_BIN_LE:
            cmp([](C x, C y) { return x <= y; });
            return;
        case MOPS_BIN_AND:
            cmp([](C x, C y) { return x != C(0) && y != C(0); });
            return;
        case MOPS_BIN_OR:
            cmp([](C x, C y) { return x != C(0) || y != C(0); });
            return;
        default:
            cmp([](C x, C y) { return (x != C(0)) != (y != C(0)); });
            return;
        }
    }
    T *out = static_cast<T *>(out_ptr);
    auto run = [&](auto f) {
        strided_for<2>(rank, shape, strides, [&](int64_t i, const int64_t *off) {
            out[i] = store<T>(f(load(a[off[0]]), load(b[off[1]])));
        });
    };
    switch (op) {
    case MOPS_BIN_ADD:
        run([](C x, C y) { return C(x + y); });
        return;
    case MOPS_BIN_SUB:
        run([](C x, C y) { return C(x - y); });
        return;
    case MOPS_BIN_MUL:
        run([](C x, C y) { return C(x * y); });
        return;
    case MOPS_BIN_MAX:
        run([](C x, C y) { return x != x ? x : (y != y ? y : (x > y ? x : y)); });
        return;
    case MOPS_BIN_MIN:
        run([](C x, C y) { return x != x ? x : (y != y ? y : (x < y ? x : y)); });
        return;
    default:
        break;
    }
    if constexpr (is_floating<T>()) {
        if (op == MOPS_BIN_DIV) {
            run([](float x, float y) { return x / y; });
            return;
        }
        if (op == MOPS_BIN_POW) {
            run([](float x, float y) { return std::pow(x, y); });
            return;
        }
    }
    throw Error(MOPS_ERR_INVALID_ARGUMENT,
                "binary op " + std::to_string(op) + " is unknown or needs a floating-point dtype");
}

} // namespace
} // namespace mops

extern "C" MOPS_API int32_t mops_cpu_unary(int32_t op, int32_t dtype, int32_t rank,
                                           const int64_t *shape, const void *x,
                                           const int64_t *x_strides, double scalar, void *out) {
    return mops::guarded("unary", [&] {
        if (mops::check_shape(rank, shape) == 0) {
            return;
        }
        mops::require(x != nullptr && out != nullptr, "x or out is NULL");
        mops::require(rank == 0 || x_strides != nullptr, "x_strides is NULL");
        mops::dispatch_tensor_dtype(dtype, [&](auto tag) {
            using T = decltype(tag);
            mops::unary<T>(op, rank, shape, static_cast<const T *>(x), x_strides, scalar, out);
        });
    });
}

extern "C" MOPS_API int32_t mops_cpu_binary(int32_t op, int32_t dtype, int32_t rank,
                                            const int64_t *shape, const void *a,
                                            const int64_t *a_strides, const void *b,
                                            const int64_t *b_strides, void *out) {
    return mops::guarded("binary", [&] {
        if (mops::check_shape(rank, shape) == 0) {
            return;
        }
        mops::require(a != nullptr && b != nullptr && out != nullptr, "a, b or out is NULL");
        mops::require(rank == 0 || (a_strides != nullptr && b_strides != nullptr),
                      "strides are NULL");
        mops::dispatch_tensor_dtype(dtype, [&](auto tag) {
            using T = decltype(tag);
            mops::binary<T>(op, rank, shape, static_cast<const T *>(a), a_strides,
                            static_cast<const T *>(b), b_strides, out);
        });
    });
}

extern "C" MOPS_API int32_t mops_cpu_where(int32_t dtype, int32_t rank, const int64_t *shape,
                                           const void *cond, const int64_t *cond_strides,
                                           const void *a, const int64_t *a_strides, const void *b,
                                           const int64_t *b_strides, void *out) {
    return mops::guarded("where", [&] {
        if (mops::check_shape(rank, shape) == 0) {
            return;
        }
        mops::require(cond != nullptr && a != nullptr && b != nullptr && out != nullptr,
                      "cond, a, b or out is NULL");
        static const int64_t kNoStrides[MOPS_MAX_RANK] = {0};
        const int64_t *strides[3] = {rank == 0 ? kNoStrides : cond_strides,
                                     rank == 0 ? kNoStrides : a_strides,
                                     rank == 0 ? kNoStrides : b_strides};
        mops::require(strides[0] && strides[1] && strides[2], "strides are NULL");
        const uint8_t *c = static_cast<const uint8_t *>(cond);
        mops::dispatch_tensor_dtype(dtype, [&](auto tag) {
            using T = decltype(tag);
            const T *x = static_cast<const T *>(a);
            const T *y = static_cast<const T *>(b);
            T *o = static_cast<T *>(out);
            mops::strided_for<3>(rank, shape, strides, [&](int64_t i, const int64_t *off) {
                o[i] = c[off[0]] ? x[off[1]] : y[off[2]];
            });
        });
    });
}
