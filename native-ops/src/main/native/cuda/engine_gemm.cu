// Engine ops (CUDA): batched GEMM through cuBLASLt, bound at run time with dlopen (the cuBLAS
// headers are not needed to build: the few types, enums and prototypes used are declared here,
// with the values of cuBLAS 12/13's cublasLt.h and cublas_api.h).
#include <cuda_runtime.h>
#include <dlfcn.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>

#include "engine_common.cuh"
#include "mambaops.h"
#include "pdl.cuh"
#include "status.hpp"

namespace mops {
namespace ce {
namespace {

// ----------------------------------------------------------------- cuBLASLt declarations
using LtStatus = int;    // cublasStatus_t, 0 = CUBLAS_STATUS_SUCCESS
using LtHandle = void *; // cublasLtHandle_t
using LtDesc = void *;   // cublasLtMatmulDesc_t
using LtLayout = void *; // cublasLtMatrixLayout_t
using LtPref = void *;   // cublasLtMatmulPreference_t

struct LtAlgo { // cublasLtMatmulAlgo_t
    uint64_t data[8];
};

struct LtHeuristic { // cublasLtMatmulHeuristicResult_t
    LtAlgo algo;
    size_t workspaceSize;
    LtStatus state;
    float wavesCount;
    int reserved[4];
};

constexpr int kComputeF32 = 68;         // CUBLAS_COMPUTE_32F
constexpr int kComputeF32FastTf32 = 77; // CUBLAS_COMPUTE_32F_FAST_TF32
constexpr int kOpN = 0;                 // CUBLAS_OP_N
constexpr int kOpT = 1;                 // CUBLAS_OP_T
constexpr int kDescTransA = 3;          // CUBLASLT_MATMUL_DESC_TRANSA
constexpr int kDescTransB = 4;          // CUBLASLT_MATMUL_DESC_TRANSB
constexpr int kLayoutBatchCount = 5;    // CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT (int32)
constexpr int kLayoutBatchOffset = 6;   // CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET (int64)
constexpr int kPrefMaxWorkspace = 1;    // CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES (uint64)
constexpr int kPrefReductionMask = 3;   // CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK (uint32)
// CUBLASLT_REDUCTION_SCHEME_INPLACE | _COMPUTE_TYPE: split-K partial sums stay in float32 (the
// OUTPUT_TYPE scheme rounds them to float16/bfloat16 first)
constexpr uint32_t kReductionInComputeType = 0x3;
constexpr int kPrefAlignA = 5;          // CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES (uint32)
constexpr int kPrefAlignB = 6;
constexpr int kPrefAlignC = 7;
constexpr int kPrefAlignD = 8;
constexpr int64_t kWorkspaceBytes = 32 << 20;

struct CublasLt {
    LtStatus (*create)(LtHandle *);
    LtStatus (*desc_create)(LtDesc *, int, int);
    LtStatus (*desc_destroy)(LtDesc);
    LtStatus (*desc_set)(LtDesc, int, const void *, size_t);
    LtStatus (*layout_create)(LtLayout *, int, uint64_t, uint64_t, int64_t);
    LtStatus (*layout_destroy)(LtLayout);
    LtStatus (*layout_set)(LtLayout, int, const void *, size_t);
    LtStatus (*pref_create)(LtPref *);
    LtStatus (*pref_destroy)(LtPref);
    LtStatus (*pref_set)(LtPref, int, const void *, size_t);
    LtStatus (*heuristic)(LtHandle, LtDesc, LtLayout, LtLayout, LtLayout, LtLayout, LtPref, int,
                          LtHeuristic *, int *);
    LtStatus (*matmul)(LtHandle, LtDesc, const void *, const void *, LtLayout, const void *,
                       LtLayout, const void *, const void *, LtLayout, void *, LtLayout,
                       const LtAlgo *, void *, size_t, cudaStream_t);
    const char *(*status_string)(LtStatus); // optional
    std::string failure;
    LtHandle handles[64] = {};
};

CublasLt &lt_state() {
    static CublasLt *state = new CublasLt(); // never destroyed: handles live with the process
    return *state;
}

std::mutex g_mutex;

template <typename F> void resolve(void *lib, const char *name, F &fn) {
    fn = reinterpret_cast<F>(dlsym(lib, name));
    if (fn == nullptr) {
        throw Error(MOPS_ERR_UNSUPPORTED,
                    std::string("cuBLASLt was loaded but lacks the symbol ") + name);
    }
}

/** Loads cuBLASLt once; throws MOPS_ERR_UNSUPPORTED with the loader's messages. */
CublasLt &load_lt() {
    std::lock_guard<std::mutex> lock(g_mutex);
    CublasLt &lt = lt_state();
    if (lt.create != nullptr) {
        return lt;
    }
    if (!lt.failure.empty()) {
        throw Error(MOPS_ERR_UNSUPPORTED, lt.failure);
    }
    std::string tried;
    void *lib = nullptr;
    for (const char *name : {"libcublasLt.so.13", "libcublasLt.so"}) {
        lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
        if (lib != nullptr) {
            break;
        }
        const char *why = dlerror();
        tried += std::string(tried.empty() ? "" : "; ") + (why ? why : name);
    }
    if (lib == nullptr) {
        lt.failure = "cuBLASLt could not be loaded (" + tried +
                     "). The GPU matMul needs the CUDA 13 cuBLAS runtime: install it (package "
                     "libcublas, or the nvidia-cublas wheel) and put libcublasLt.so.13 on "
                     "LD_LIBRARY_PATH";
        throw Error(MOPS_ERR_UNSUPPORTED, lt.failure);
    }
    try {
        resolve(lib, "cublasLtMatmulDescCreate", lt.desc_create);
        resolve(lib, "cublasLtMatmulDescDestroy", lt.desc_destroy);
        resolve(lib, "cublasLtMatmulDescSetAttribute", lt.desc_set);
        resolve(lib, "cublasLtMatrixLayoutCreate", lt.layout_create);
        resolve(lib, "cublasLtMatrixLayoutDestroy", lt.layout_destroy);
        resolve(lib, "cublasLtMatrixLayoutSetAttribute", lt.layout_set);
        resolve(lib, "cublasLtMatmulPreferenceCreate", lt.pref_create);
        resolve(lib, "cublasLtMatmulPreferenceDestroy", lt.pref_destroy);
        resolve(lib, "cublasLtMatmulPreferenceSetAttribute", lt.pref_set);
        resolve(lib, "cublasLtMatmulAlgoGetHeuristic", lt.heuristic);
        resolve(lib, "cublasLtMatmul", lt.matmul);
        lt.status_string =
            reinterpret_cast<const char *(*)(LtStatus)>(dlsym(lib, "cublasLtGetStatusString"));
        resolve(lib, "cublasLtCreate", lt.create); // last: marks the library as loaded
    } catch (const Error &e) {
        lt.create = nullptr;
        lt.failure = e.what();
        throw;
    }
    return lt;
}

void lt_check(const CublasLt &lt, LtStatus status, const char *what) {
    if (status == 0) {
        return;
    }
    std::string name = lt.status_string ? lt.status_string(status) : "";
    throw Error(status == 3 ? MOPS_ERR_OUT_OF_MEMORY : MOPS_ERR_CUDA,
                std::string(what) + " failed with cuBLAS status " + std::to_string(status) +
                    (name.empty() ? "" : " (" + name + ")"));
}

LtHandle handle_for(CublasLt &lt) {
    int device = 0;
    MOPS_CUDA_CHECK(cudaGetDevice(&device));
    require(device >= 0 && device < 64, "device index " + std::to_string(device) + " too large");
    std::lock_guard<std::mutex> lock(g_mutex);
    if (lt.handles[device] == nullptr) {
        LtHandle h = nullptr;
        lt_check(lt, lt.create(&h), "cublasLtCreate");
        lt.handles[device] = h;
    }
    return lt.handles[device];
}

/**
 * The algorithm chosen for one problem: the heuristic query costs tens of microseconds, more than
 * a decoding step's small GEMM, so its answer is kept per device, shapes, layouts and alignments.
 */
using AlgoKey =
    std::tuple<int, int, int, int64_t, int64_t, int64_t, int64_t, int, uint64_t, uint64_t, int64_t,
               int64_t, int, uint64_t, uint64_t, int64_t, int64_t, uint32_t, uint32_t, uint32_t,
               uint32_t>;

struct AlgoCache {
    std::mutex mutex;
    std::map<AlgoKey, LtHeuristic> entries;
};

AlgoCache &algo_cache() {
    static AlgoCache *cache = new AlgoCache();
    return *cache;
}

/** Descriptors destroyed at the end of a scope. */
struct Descriptors {
    const CublasLt &lt;
    LtDesc desc = nullptr;
    LtLayout layouts[3] = {nullptr, nullptr, nullptr};
    LtPref pref = nullptr;
    explicit Descriptors(const CublasLt &l) : lt(l) {}
    ~Descriptors() {
        if (pref) {
            lt.pref_destroy(pref);
        }
        for (LtLayout l : layouts) {
            if (l) {
                lt.layout_destroy(l);
            }
        }
        if (desc) {
            lt.desc_destroy(desc);
        }
    }
};

/** A matrix of rows x cols with row/column strides as a column-major cuBLASLt operand. */
struct Operand {
    bool ok = false;
    int op = kOpN;
    uint64_t rows = 0; // of the stored column-major matrix
    uint64_t cols = 0;
    int64_t ld = 0;
};

/**
 * Describes X = M^T (cols x rows of M) as op(stored) of a column-major matrix, for M of r x c with
 * strides (rs, cs). Row-major M (cs == 1) stored column-major is M^T itself (op N, ld rs);
 * column-major M (rs == 1) is M (op T, ld cs).
 */
Operand transposed_operand(int64_t r, int64_t c, int64_t rs, int64_t cs) {
    Operand o;
    if ((c == 1 || cs == 1) && (r == 1 || rs >= c)) {
        o = Operand{true, kOpN, static_cast<uint64_t>(c), static_cast<uint64_t>(r),
                    r == 1 ? c : rs};
    } else if ((r == 1 || rs == 1) && (c == 1 || cs >= r)) {
        o = Operand{true, kOpT, static_cast<uint64_t>(r), static_cast<uint64_t>(c),
                    c == 1 ? r : cs};
    }
    if (o.ok && o.ld < static_cast<int64_t>(o.rows)) {
        o.ld = static_cast<int64_t>(o.rows);
    }
    return o;
}

uint32_t alignment_of(const void *p) {
    const uintptr_t v = reinterpret_cast<uintptr_t>(p);
    uint32_t a = 256;
    while (a > 1 && (v % a) != 0) {
        a /= 2;
    }
    return a;
}

int cuda_type(int32_t dtype) {
    switch (dtype) {
    case MOPS_F32:
        return 0; // CUDA_R_32F
    case MOPS_F16:
        return 2; // CUDA_R_16F
    case MOPS_BF16:
        return 14; // CUDA_R_16BF
    default:
        throw Error(MOPS_ERR_INVALID_ARGUMENT,
                    "matmul needs float32, float16 or bfloat16, got dtype code " +
                        std::to_string(dtype));
    }
}

/** Runs one cuBLASLt call; returns false when no algorithm supports the layouts. */
bool try_matmul(CublasLt &lt, cudaStream_t s, int32_t dtype, int64_t batch, int64_t m, int64_t n,
                int64_t k, const void *a, int64_t abs_, const Operand &ao, const void *b,
                int64_t bbs, const Operand &bo, void *out, bool tf32, const void *addend) {
    const int type = cuda_type(dtype);
    const int compute = (dtype == MOPS_F32 && tf32) ? kComputeF32FastTf32 : kComputeF32;
    Descriptors d(lt);
    lt_check(lt, lt.desc_create(&d.desc, compute, 0 /* CUDA_R_32F scale */),
             "cublasLtMatmulDescCreate");
    // D (n x m column-major) = op(B-side) (n x k) * op(A-side) (k x m)
    const int32_t opx = bo.op;
    const int32_t opy = ao.op;
    lt_check(lt, lt.desc_set(d.desc, kDescTransA, &opx, sizeof opx), "set TRANSA");
    lt_check(lt, lt.desc_set(d.desc, kDescTransB, &opy, sizeof opy), "set TRANSB");
    lt_check(lt, lt.layout_create(&d.layouts[0], type, bo.rows, bo.cols, bo.ld),
             "cublasLtMatrixLayoutCreate");
    lt_check(lt, lt.layout_create(&d.layouts[1], type, ao.rows, ao.cols, ao.ld),
             "cublasLtMatrixLayoutCreate");
    lt_check(lt,
             lt.layout_create(&d.layouts[2], type, static_cast<uint64_t>(n),
                              static_cast<uint64_t>(m), n),
             "cublasLtMatrixLayoutCreate");
    if (batch > 1) {
        const int32_t count = static_cast<int32_t>(batch);
        const int64_t offsets[3] = {bbs, abs_, m * n};
        for (int i = 0; i < 3; ++i) {
            lt_check(lt, lt.layout_set(d.layouts[i], kLayoutBatchCount, &count, sizeof count),
                     "set BATCH_COUNT");
            lt_check(
                lt, lt.layout_set(d.layouts[i], kLayoutBatchOffset, &offsets[i], sizeof offsets[i]),
                "set STRIDED_BATCH_OFFSET");
        }
    }
    lt_check(lt, lt.pref_create(&d.pref), "cublasLtMatmulPreferenceCreate");
    const uint64_t workspace = kWorkspaceBytes;
    lt_check(lt, lt.pref_set(d.pref, kPrefMaxWorkspace, &workspace, sizeof workspace),
             "set MAX_WORKSPACE_BYTES");
    lt_check(lt,
             lt.pref_set(d.pref, kPrefReductionMask, &kReductionInComputeType,
                         sizeof kReductionInComputeType),
             "set REDUCTION_SCHEME_MASK");
    const uint32_t align_x = alignment_of(b);
    const uint32_t align_y = alignment_of(a);
    const uint32_t align_d = alignment_of(out);
    // with an addend, C: D = A B + C, the addend laid out as the output
    const uint32_t align_c = addend != nullptr ? alignment_of(addend) : align_d;
    lt_check(lt, lt.pref_set(d.pref, kPrefAlignA, &align_x, sizeof align_x), "set ALIGNMENT_A");
    lt_check(lt, lt.pref_set(d.pref, kPrefAlignB, &align_y, sizeof align_y), "set ALIGNMENT_B");
    lt_check(lt, lt.pref_set(d.pref, kPrefAlignC, &align_c, sizeof align_c), "set ALIGNMENT_C");
    lt_check(lt, lt.pref_set(d.pref, kPrefAlignD, &align_d, sizeof align_d), "set ALIGNMENT_D");
    LtHandle handle = handle_for(lt);
    int device = 0;
    MOPS_CUDA_CHECK(cudaGetDevice(&device));
    const AlgoKey key{device, dtype,   compute, batch,   m,     n,       k,       bo.op,
                      bo.rows, bo.cols, bo.ld,  bbs,     ao.op, ao.rows, ao.cols, ao.ld,
                      abs_,   align_x, align_y, align_d, align_c};
    LtHeuristic result{};
    bool cached = false;
    {
        AlgoCache &cache = algo_cache();
        std::lock_guard<std::mutex> lock(cache.mutex);
        auto it = cache.entries.find(key);
        if (it != cache.entries.end()) {
            result = it->second;
            cached = true;
        }
    }
    if (!cached) {
        int found = 0;
        LtStatus st = lt.heuristic(handle, d.desc, d.layouts[0], d.layouts[1], d.layouts[2],
                                   d.layouts[2], d.pref, 1, &result, &found);
        if (st != 0 || found == 0) {
            return false;
        }
        AlgoCache &cache = algo_cache();
        std::lock_guard<std::mutex> lock(cache.mutex);
        if (cache.entries.size() < 4096) {
            cache.entries.emplace(key, result);
        }
    }
    PoolBuffer ws(s, static_cast<int64_t>(result.workspaceSize));
    const float alpha = 1.0f;
    const float beta = addend != nullptr ? 1.0f : 0.0f;
    lt_check(lt,
             lt.matmul(handle, d.desc, &alpha, b, d.layouts[0], a, d.layouts[1], &beta,
                       addend != nullptr ? addend : out, d.layouts[2], out, d.layouts[2],
                       &result.algo, ws.get(), result.workspaceSize, s),
             "cublasLtMatmul");
    return true;
}

/** Copies a batch of r x c strided matrices to a contiguous [batch, r, c] buffer. */
void pack(cudaStream_t s, int32_t dtype, int64_t batch, int64_t r, int64_t c, const void *src,
          int64_t bs, int64_t rs, int64_t cs, void *dst) {
    const int64_t shape[3] = {batch, r, c};
    const int64_t src_strides[3] = {bs, rs, cs};
    const int64_t dst_strides[3] = {r * c, c, 1};
    strided_copy(s, 3, shape, dtype, src, src_strides, dtype, dst, dst_strides);
}

} // namespace
} // namespace ce
} // namespace mops

extern "C" MOPS_API int32_t mops_cuda_gemm_load(void) {
    return mops::guarded("cuda_gemm_load", [&] { mops::ce::load_lt(); });
}

namespace mops {
namespace ce {
namespace {

/**
 * The cuBLASLt product of mops_cuda_matmul (operands packed when cuBLASLt cannot read them); with
 * an addend (contiguous like out), out = addend + the product, added in cuBLASLt's epilogue.
 */
void cublas_matmul(cudaStream_t s, int32_t dtype, int64_t batch, int64_t m, int64_t n, int64_t k,
                   const void *a, int64_t a_batch_stride, int64_t a_row_stride,
                   int64_t a_col_stride, const void *b, int64_t b_batch_stride,
                   int64_t b_row_stride, int64_t b_col_stride, void *out, bool tf32,
                   const void *addend = nullptr) {
    const int elem = dtype_bytes(dtype);
    CublasLt &lt = load_lt();
    // A-side operand: (A)^T as k x m; B-side: (B)^T as n x k.
    Operand ao = transposed_operand(m, k, a_row_stride, a_col_stride);
    Operand bo = transposed_operand(k, n, b_row_stride, b_col_stride);
    if (ao.ok && bo.ok && a_batch_stride >= 0 && b_batch_stride >= 0 &&
        try_matmul(lt, s, dtype, batch, m, n, k, a, a_batch_stride, ao, b, b_batch_stride, bo,
                   out, tf32, addend)) {
        return;
    }
    // Strides cuBLASLt cannot read (or no algorithm for them): pack both operands.
    PoolBuffer pa(s, batch * m * k * elem);
    PoolBuffer pb(s, batch * k * n * elem);
    pack(s, dtype, batch, m, k, a, a_batch_stride, a_row_stride, a_col_stride, pa.get());
    pack(s, dtype, batch, k, n, b, b_batch_stride, b_row_stride, b_col_stride, pb.get());
    ao = transposed_operand(m, k, k, 1);
    bo = transposed_operand(k, n, n, 1);
    if (!try_matmul(lt, s, dtype, batch, m, n, k, pa.get(), m * k, ao, pb.get(), k * n, bo, out,
                    tf32, addend)) {
        throw mops::Error(MOPS_ERR_UNSUPPORTED,
                          "cuBLASLt found no algorithm for batch " + std::to_string(batch) +
                              ", m " + std::to_string(m) + ", n " + std::to_string(n) + ", k " +
                              std::to_string(k));
    }
}

/** A product shape that both the GEMV and cuBLASLt serve. */
using GemvKey = std::tuple<int, int32_t, int64_t, int64_t, int64_t, int64_t, int64_t>;

/** The fused forms of the GEMV (mops_cuda_rms_norm_linear, mops_cuda_linear_add). */
enum class Fused { kNorm = 1, kAdd = 2 };

/**
 * For each measured shape: 0 for cuBLASLt, else the GEMV's warps per column; and for each shape
 * of a fused GEMV whose plain product was not measured, its own measured warps per column.
 */
struct GemvChoices {
    std::mutex mutex;
    std::map<GemvKey, int> best;
    std::map<std::pair<int, GemvKey>, int> fused;
};

GemvChoices &gemv_choices() {
    static GemvChoices *c = new GemvChoices();
    return *c;
}

/** MOPS_GEMV_MEASURE, MOPS_GEMV_ALWAYS or MOPS_GEMV_NEVER (mops_cuda_gemv_mode). */
std::atomic<int32_t> gemv_mode{MOPS_GEMV_MEASURE};

/** The share of a dependent GEMV's time that its isolated timing shows (see choose_product). */
constexpr float kDependentGain = 0.9f;

/** Bytes written between timed runs so that each starts with the weights out of the L2 cache. */
constexpr int64_t kFlushBytes = int64_t{96} << 20;

/**
 * Milliseconds of `reps` runs of `run`, each after the L2 cache was filled with other data (a
 * decoding step reads every weight once, from memory), timed with events (synchronises).
 */
template <typename F> float time_cold(cudaStream_t s, void *flush, int reps, F run) {
    cudaEvent_t start = nullptr;
    cudaEvent_t stop = nullptr;
    MOPS_CUDA_CHECK(cudaEventCreate(&start));
    cudaError_t err = cudaEventCreate(&stop);
    if (err != cudaSuccess) {
        cudaEventDestroy(start);
        MOPS_CUDA_CHECK(err);
    }
    float total = 0.0f;
    try {
        for (int i = 0; i < reps; ++i) {
            MOPS_CUDA_CHECK(cudaMemsetAsync(flush, i, static_cast<size_t>(kFlushBytes), s));
            MOPS_CUDA_CHECK(cudaEventRecord(start, s));
            run();
            MOPS_CUDA_CHECK(cudaEventRecord(stop, s));
            MOPS_CUDA_CHECK(cudaEventSynchronize(stop));
            float ms = 0.0f;
            MOPS_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
            total += ms;
        }
    } catch (...) {
        cudaEventDestroy(start);
        cudaEventDestroy(stop);
        throw;
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    return total;
}

/**
 * How to run this shape: 0 for cuBLASLt, else the GEMV's warps per column. Measured on the
 * shape's first use (each candidate a few times into `out`, which the caller then overwrites) and
 * remembered; while the stream records a graph nothing can be timed, and an unmeasured shape
 * takes the GEMV with its default split there.
 */
template <typename G, typename C>
int choose_product(cudaStream_t s, const GemvKey &key, int32_t dtype, int64_t n, int64_t k,
                   G gemv, C cublas) {
    const int32_t mode = gemv_mode.load();
    if (mode == MOPS_GEMV_NEVER) {
        return 0;
    }
    if (mode == MOPS_GEMV_ALWAYS) {
        return gemv_default_split(dtype, n, k);
    }
    GemvChoices &c = gemv_choices();
    {
        std::lock_guard<std::mutex> lock(c.mutex);
        auto it = c.best.find(key);
        if (it != c.best.end()) {
            return it->second;
        }
    }
    if (is_recording(s)) {
        return gemv_default_split(dtype, n, k);
    }
    constexpr int kReps = 3;
    std::unique_ptr<PoolBuffer> flush;
    try {
        flush = std::make_unique<PoolBuffer>(s, kFlushBytes);
    } catch (const Error &) {
        // no room to measure now (the device is nearly full): the rule of thumb, measured later
        cudaGetLastError();
        return gemv_default_split(dtype, n, k);
    }
    cublas(); // cuBLASLt picks and caches its algorithm on the first call
    int best = 0;
    float best_ms = time_cold(s, flush->get(), kReps, cublas);
    // Launched dependent, the GEMV reads part of its weights while the kernel before it runs,
    // which a timing of the GEMV alone cannot show: it wins near-ties (kDependentGain).
    const float gain = pdl_enabled() ? kDependentGain : 1.0f;
    for (int split = 1; split <= gemv_max_split(dtype, k); split *= 2) {
        const float ms = gain * time_cold(s, flush->get(), kReps, [&] { gemv(split); });
        if (ms < best_ms) {
            best_ms = ms;
            best = split;
        }
    }
    std::lock_guard<std::mutex> lock(c.mutex);
    c.best[key] = best;
    return best;
}

/**
 * The warps per column of a fused GEMV of this shape: the measured choice of the plain product
 * of the same shape when it was the GEMV (the fused forms read the same weights the same way, and
 * their extra work is small next to them). When that product was never measured (a decoding
 * step with the fusions never runs it) or ran best on cuBLASLt, which cannot fuse the norm or the
 * add, the fused GEMV's own splits are timed on the shape's first use outside a recording, as
 * choose_product times the plain ones, and the fastest kept; the default split where nothing can
 * be timed (while recording, no room for the flush buffer) and in the modes ALWAYS and NEVER
 * (NEVER keeps mops_cuda_matmul on cuBLASLt; the fused forms are GEMVs only).
 */
template <typename G>
int choose_fused(cudaStream_t s, Fused kind, const GemvKey &key, int32_t dtype, int64_t n,
                 int64_t k, G gemv) {
    if (gemv_mode.load() != MOPS_GEMV_MEASURE) {
        return gemv_default_split(dtype, n, k);
    }
    GemvChoices &c = gemv_choices();
    const std::pair<int, GemvKey> fused_key{static_cast<int>(kind), key};
    {
        std::lock_guard<std::mutex> lock(c.mutex);
        auto plain = c.best.find(key);
        if (plain != c.best.end() && plain->second > 0) {
            return plain->second;
        }
        auto it = c.fused.find(fused_key);
        if (it != c.fused.end()) {
            return it->second;
        }
    }
    if (is_recording(s)) {
        return gemv_default_split(dtype, n, k);
    }
    constexpr int kReps = 3;
    std::unique_ptr<PoolBuffer> flush;
    try {
        flush = std::make_unique<PoolBuffer>(s, kFlushBytes);
    } catch (const Error &) {
        cudaGetLastError();
        return gemv_default_split(dtype, n, k);
    }
    int best = 0;
    float best_ms = 0.0f;
    for (int split = 1; split <= gemv_max_split(dtype, k); split *= 2) {
        gemv(split); // the first run of each variant pays its module loading, untimed
        const float ms = time_cold(s, flush->get(), kReps, [&] { gemv(split); });
        if (best == 0 || ms < best_ms) {
            best_ms = ms;
            best = split;
        }
    }
    std::lock_guard<std::mutex> lock(c.mutex);
    c.fused[fused_key] = best;
    return best;
}

/** The checks shared by the fused GEMVs; returns the element size. */
int check_fused(const char *what, int32_t dtype, int64_t rows, int64_t n, int64_t k, const void *x,
                int64_t x_row_stride, const void *w, int64_t w_row_stride, const void *out) {
    cuda_type(dtype);
    const int elem = dtype_bytes(dtype);
    require(rows >= 1 && rows <= 4 && n >= 0 && k >= 1,
            std::string(what) + " serves 1 to 4 rows, n >= 0 and k >= 1: got rows " +
                std::to_string(rows) + ", n " + std::to_string(n) + ", k " + std::to_string(k));
    require(x != nullptr && w != nullptr && out != nullptr, "x, w or out is NULL");
    require(
        gemv_applies(dtype, 1, rows, n, k, x, x_row_stride, 1, w, 1, w_row_stride),
        std::string(what) +
            " needs x and w starting on 16 bytes, rows of k contiguous values that fill whole "
            "16-byte vectors (k * element size a multiple of 16, row strides too), a weight row "
            "stride >= k and n below 2^31: got k " +
            std::to_string(k) + " of " + std::to_string(elem) + "-byte elements, x row stride " +
            std::to_string(x_row_stride) + ", w row stride " + std::to_string(w_row_stride));
    return elem;
}

/** The checks of a fused product's addend [rows, n] (row stride addend_row_stride) against out. */
void check_addend(const char *what, int elem, int64_t rows, int64_t n, const void *addend,
                  int64_t addend_row_stride, const void *out) {
    require(addend != nullptr && addend_row_stride >= n,
            std::string(what) + " needs an addend with a row stride >= n (" + std::to_string(n) +
                "), got " + std::to_string(addend_row_stride));
    const auto lo = [](const void *p) { return reinterpret_cast<uintptr_t>(p); };
    const uintptr_t out_end = lo(out) + static_cast<uintptr_t>(rows * n * elem);
    const uintptr_t addend_end =
        lo(addend) + static_cast<uintptr_t>(((rows - 1) * addend_row_stride + n) * elem);
    require(out_end <= lo(addend) || addend_end <= lo(out),
            std::string(what) + ": out must not overlap the addend");
}

} // namespace
} // namespace ce
} // namespace mops

extern "C" MOPS_API int32_t mops_cuda_matmul(void *stream, int32_t dtype, int64_t batch, int64_t m,
                                             int64_t n, int64_t k, const void *a,
                                             int64_t a_batch_stride, int64_t a_row_stride,
                                             int64_t a_col_stride, const void *b,
                                             int64_t b_batch_stride, int64_t b_row_stride,
                                             int64_t b_col_stride, void *out, int32_t allow_tf32) {
    return mops::guarded("cuda_matmul", [&] {
        using namespace mops::ce;
        mops::require(batch >= 0 && m >= 0 && n >= 0 && k >= 0,
                      "sizes must be non-negative: batch " + std::to_string(batch) + ", m " +
                          std::to_string(m) + ", n " + std::to_string(n) + ", k " +
                          std::to_string(k));
        const int64_t limit = int64_t{1} << 31;
        mops::require(batch < limit && m < limit && n < limit && k < limit,
                      "matmul sizes must each be below 2^31");
        const int elem = dtype_bytes(dtype);
        cuda_type(dtype);
        if (batch == 0 || m == 0 || n == 0) {
            return;
        }
        mops::require(a != nullptr && b != nullptr && out != nullptr, "a, b or out is NULL");
        cudaStream_t s = bind(stream);
        if (k == 0) {
            MOPS_CUDA_CHECK(cudaMemsetAsync(out, 0, static_cast<size_t>(batch * m * n * elem), s));
            return;
        }
        const bool tf32 = allow_tf32 != 0;
        auto cublas = [&] {
            cublas_matmul(s, dtype, batch, m, n, k, a, a_batch_stride, a_row_stride, a_col_stride,
                          b, b_batch_stride, b_row_stride, b_col_stride, out, tf32);
        };
        if (!tf32 && gemv_applies(dtype, batch, m, n, k, a, a_row_stride, a_col_stride, b,
                                  b_row_stride, b_col_stride)) {
            auto gemv = [&](int split) {
                run_gemv(s, dtype, split, m, n, k, a, a_row_stride, b, b_col_stride, out);
            };
            int device = 0;
            MOPS_CUDA_CHECK(cudaGetDevice(&device));
            const GemvKey key{device, dtype, m, n, k, a_row_stride, b_col_stride};
            const int split = choose_product(s, key, dtype, n, k, gemv, cublas);
            if (split > 0) {
                gemv(split);
                return;
            }
        }
        cublas();
    });
}

extern "C" MOPS_API int32_t mops_cuda_gemv_mode(int32_t mode) {
    return mops::guarded("cuda_gemv_mode", [&] {
        mops::require(mode == MOPS_GEMV_MEASURE || mode == MOPS_GEMV_ALWAYS ||
                          mode == MOPS_GEMV_NEVER,
                      "unknown GEMV mode " + std::to_string(mode));
        mops::ce::gemv_mode.store(mode);
    });
}

extern "C" MOPS_API int32_t mops_cuda_rms_norm_linear(void *stream, int32_t dtype, int64_t rows,
                                                      int64_t n, int64_t k, const void *x,
                                                      int64_t x_row_stride, const void *norm_weight,
                                                      float eps, const void *w,
                                                      int64_t w_row_stride, void *out) {
    return mops::guarded("cuda_rms_norm_linear", [&] {
        using namespace mops::ce;
        check_fused("rms_norm_linear", dtype, rows, n, k, x, x_row_stride, w, w_row_stride, out);
        mops::require(norm_weight != nullptr &&
                          (reinterpret_cast<uintptr_t>(norm_weight) & 15u) == 0,
                      "rms_norm_linear needs a norm weight starting on 16 bytes");
        mops::require(eps >= 0.0f, "rms_norm_linear needs eps >= 0, got " + std::to_string(eps));
        if (n == 0) {
            return;
        }
        cudaStream_t s = bind(stream);
        int device = 0;
        MOPS_CUDA_CHECK(cudaGetDevice(&device));
        if (!gemv_stages_rows(dtype, rows, k)) {
            // rows too long to stage: the norm as its own kernel, then the plain GEMV
            const int elem = dtype_bytes(dtype);
            PoolBuffer normed(s, rows * k * elem);
            const int32_t status =
                mops_cuda_rms_norm_gated(stream, dtype, rows, k, k, x, x_row_stride, nullptr, 0,
                                         norm_weight, eps, 1, normed.get(), k);
            if (status != MOPS_OK) {
                throw mops::Error(static_cast<mops_status>(status), mops::last_error());
            }
            auto gemv = [&](int split) {
                run_gemv(s, dtype, split, rows, n, k, normed.get(), k, w, w_row_stride, out);
            };
            const GemvKey key{device, dtype, rows, n, k, k, w_row_stride};
            gemv(choose_fused(s, Fused::kNorm, key, dtype, n, k, gemv));
            return;
        }
        GemvFusion fusion;
        fusion.norm_weight = norm_weight;
        fusion.eps = eps;
        auto gemv = [&](int split) {
            run_gemv(s, dtype, split, rows, n, k, x, x_row_stride, w, w_row_stride, out, fusion);
        };
        const GemvKey key{device, dtype, rows, n, k, x_row_stride, w_row_stride};
        gemv(choose_fused(s, Fused::kNorm, key, dtype, n, k, gemv));
    });
}

extern "C" MOPS_API int32_t mops_cuda_linear_add(void *stream, int32_t dtype, int64_t rows,
                                                 int64_t n, int64_t k, const void *x,
                                                 int64_t x_row_stride, const void *w,
                                                 int64_t w_row_stride, const void *addend,
                                                 int64_t addend_row_stride, void *out) {
    return mops::guarded("cuda_linear_add", [&] {
        using namespace mops::ce;
        const int elem =
            check_fused("linear_add", dtype, rows, n, k, x, x_row_stride, w, w_row_stride, out);
        check_addend("linear_add", elem, rows, n, addend, addend_row_stride, out);
        if (n == 0) {
            return;
        }
        cudaStream_t s = bind(stream);
        GemvFusion fusion;
        fusion.addend = addend;
        fusion.addend_row_stride = addend_row_stride;
        auto gemv = [&](int split) {
            run_gemv(s, dtype, split, rows, n, k, x, x_row_stride, w, w_row_stride, out, fusion);
        };
        int device = 0;
        MOPS_CUDA_CHECK(cudaGetDevice(&device));
        const GemvKey key{device, dtype, rows, n, k, x_row_stride, w_row_stride};
        gemv(choose_fused(s, Fused::kAdd, key, dtype, n, k, gemv));
    });
}

extern "C" MOPS_API int32_t mops_cuda_matmul_add(void *stream, int32_t dtype, int64_t m, int64_t n,
                                                 int64_t k, const void *a, int64_t a_row_stride,
                                                 int64_t a_col_stride, const void *b,
                                                 int64_t b_row_stride, int64_t b_col_stride,
                                                 const void *addend, void *out) {
    return mops::guarded("cuda_matmul_add", [&] {
        using namespace mops::ce;
        cuda_type(dtype);
        const int64_t limit = int64_t{1} << 31;
        mops::require(m >= 0 && n >= 0 && k >= 1 && m < limit && n < limit && k < limit,
                      "matmul_add needs m and n in [0, 2^31) and k in [1, 2^31): got m " +
                          std::to_string(m) + ", n " + std::to_string(n) + ", k " +
                          std::to_string(k));
        mops::require(a != nullptr && b != nullptr && addend != nullptr && out != nullptr,
                      "matmul_add: a, b, addend or out is NULL");
        if (m == 0 || n == 0) {
            return;
        }
        check_addend("matmul_add", dtype_bytes(dtype), m, n, addend, n, out);
        cudaStream_t s = bind(stream);
        if (gemv_applies(dtype, 1, m, n, k, a, a_row_stride, a_col_stride, b, b_row_stride,
                         b_col_stride)) {
            // decoding's rows: the GEMV with the add in its epilogue, as mops_cuda_linear_add
            GemvFusion fusion;
            fusion.addend = addend;
            fusion.addend_row_stride = n;
            auto gemv = [&](int split) {
                run_gemv(s, dtype, split, m, n, k, a, a_row_stride, b, b_col_stride, out, fusion);
            };
            int device = 0;
            MOPS_CUDA_CHECK(cudaGetDevice(&device));
            const GemvKey key{device, dtype, m, n, k, a_row_stride, b_col_stride};
            gemv(choose_fused(s, Fused::kAdd, key, dtype, n, k, gemv));
            return;
        }
        cublas_matmul(s, dtype, 1, m, n, k, a, 0, a_row_stride, a_col_stride, b, 0, b_row_stride,
                      b_col_stride, out, false, addend);
    });
}
