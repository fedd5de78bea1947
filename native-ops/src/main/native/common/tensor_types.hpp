// Engine ops: the six element types (mops_tensor_dtype), their dispatch, and a parallel loop
// over strided views.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>

#include "dtype.hpp"
#include "mambaops.h"
#include "status.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace mops {

/** One boolean element (mops MOPS_T_BOOL): a byte that is 0 or 1. */
struct boolean {
    uint8_t v;
};

/** Loads an element as a double (the common type of conversions). */
inline double load_double(float v) {
    return v;
}
inline double load_double(f16 v) {
    return to_float(v);
}
inline double load_double(bf16 v) {
    return to_float(v);
}
inline double load_double(int32_t v) {
    return v;
}
inline double load_double(int64_t v) {
    return static_cast<double>(v);
}
inline double load_double(boolean v) {
    return v.v ? 1.0 : 0.0;
}

/** Stores a double as an element of type T. */
template <typename T> inline T store_double(double v);
template <> inline float store_double<float>(double v) {
    return static_cast<float>(v);
}
template <> inline f16 store_double<f16>(double v) {
    return from_float<f16>(static_cast<float>(v));
}
template <> inline bf16 store_double<bf16>(double v) {
    return from_float<bf16>(static_cast<float>(v));
}
template <> inline int32_t store_double<int32_t>(double v) {
    return static_cast<int32_t>(v);
}
template <> inline int64_t store_double<int64_t>(double v) {
    return static_cast<int64_t>(v);
}
template <> inline boolean store_double<boolean>(double v) {
    return boolean{v != 0.0};
}

/** The type elementwise arithmetic runs in: float for floating-point types, int64 otherwise. */
template <typename T> struct compute { using type = float; };
template <> struct compute<int32_t> { using type = int64_t; };
template <> struct compute<int64_t> { using type = int64_t; };
template <> struct compute<boolean> { using type = int64_t; };

template <typename T> inline typename compute<T>::type load(T v);
template <> inline float load<float>(float v) {
    return v;
}
template <> inline float load<f16>(f16 v) {
    return to_float(v);
}
template <> inline float load<bf16>(bf16 v) {
    return to_float(v);
}
template <> inline int64_t load<int32_t>(int32_t v) {
    return v;
}
template <> inline int64_t load<int64_t>(int64_t v) {
    return v;
}
template <> inline int64_t load<boolean>(boolean v) {
    return v.v;
}

template <typename T> inline T store(typename compute<T>::type v);
template <> inline float store<float>(float v) {
    return v;
}
template <> inline f16 store<f16>(float v) {
    return from_float<f16>(v);
}
template <> inline bf16 store<bf16>(float v) {
    return from_float<bf16>(v);
}
template <> inline int32_t store<int32_t>(int64_t v) {
    return static_cast<int32_t>(v);
}
template <> inline int64_t store<int64_t>(int64_t v) {
    return v;
}
template <> inline boolean store<boolean>(int64_t v) {
    return boolean{v != 0};
}

template <typename T> constexpr bool is_floating() {
    return std::is_same<typename compute<T>::type, float>::value;
}

inline int tensor_dtype_size(int32_t dtype) {
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
template <typename Fn> void dispatch_tensor_dtype(int32_t dtype, Fn &&fn) {
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

/** The number of threads to use for count units of work of the given grain. */
inline int threads_for(int64_t count, int64_t grain) {
#if defined(_OPENMP)
    int64_t want = count / std::max<int64_t>(grain, 1);
    return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(want, omp_get_max_threads())));
#else
    (void)count;
    (void)grain;
    return 1;
#endif
}

/**
 * Runs fn(i, offsets) for every element i (row-major order) of a shape, where offsets[j] is the
 * element offset of operand j through its strides. Dimensions of size 1 are dropped and
 * neighbours that every operand walks as one are merged first; the last remaining dimension is
 * walked in a plain loop (unit strides visible to the compiler when every operand has them).
 * Chunks run in parallel with OpenMP.
 */
template <int N, typename Fn>
void strided_for(int32_t rank, const int64_t *shape_in, const int64_t *const *strides_in,
                 Fn &&fn) {
    int64_t shape[MOPS_MAX_RANK];
    int64_t st[N][MOPS_MAX_RANK];
    int32_t r = 0;
    int64_t total = 1;
    for (int32_t d = 0; d < rank; ++d) {
        total *= shape_in[d];
        if (shape_in[d] == 1) {
            continue;
        }
        bool merge = r > 0;
        for (int j = 0; j < N && merge; ++j) {
            merge = st[j][r - 1] == strides_in[j][d] * shape_in[d];
        }
        if (merge) {
            shape[r - 1] *= shape_in[d];
        } else {
            shape[r] = shape_in[d];
            ++r;
        }
        for (int j = 0; j < N; ++j) {
            st[j][r - 1] = strides_in[j][d];
        }
    }
    if (total == 0) {
        return;
    }
    if (r == 0) {
        const int64_t zero[N] = {};
        fn(int64_t{0}, zero);
        return;
    }
    const int64_t inner = shape[r - 1];
    bool unit = true;
    for (int j = 0; j < N; ++j) {
        unit = unit && st[j][r - 1] == 1;
    }
    const int64_t grain = 16384;
    const int64_t chunks = (total + grain - 1) / grain;
#pragma omp parallel for schedule(static) num_threads(threads_for(total, grain))
    for (int64_t c = 0; c < chunks; ++c) {
        const int64_t start = c * grain;
        const int64_t end = std::min(total, start + grain);
        int64_t idx[MOPS_MAX_RANK];
        int64_t off[N];
        int64_t rem = start;
        for (int j = 0; j < N; ++j) {
            off[j] = 0;
        }
        for (int32_t d = r - 1; d >= 0; --d) {
            idx[d] = rem % shape[d];
            rem /= shape[d];
            for (int j = 0; j < N; ++j) {
                off[j] += idx[d] * st[j][d];
            }
        }
        for (int64_t i = start; i < end;) {
            const int64_t len = std::min(end - i, inner - idx[r - 1]);
            int64_t o[N];
            if (unit) {
                for (int64_t t = 0; t < len; ++t) {
                    for (int j = 0; j < N; ++j) {
                        o[j] = off[j] + t;
                    }
                    fn(i + t, o);
                }
            } else {
                for (int64_t t = 0; t < len; ++t) {
                    for (int j = 0; j < N; ++j) {
                        o[j] = off[j] + t * st[j][r - 1];
                    }
                    fn(i + t, o);
                }
            }
            i += len;
            idx[r - 1] += len;
            for (int j = 0; j < N; ++j) {
                off[j] += len * st[j][r - 1];
            }
            // carry into the outer dimensions at the end of a row
            for (int32_t d = r - 1; d > 0 && idx[d] == shape[d]; --d) {
                idx[d] = 0;
                ++idx[d - 1];
                for (int j = 0; j < N; ++j) {
                    off[j] += st[j][d - 1] - st[j][d] * shape[d];
                }
            }
        }
    }
}

} // namespace mops
