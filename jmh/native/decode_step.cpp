// A Mamba-1 decoding step of the mamba-130m shape (24 layers, d_model 768, d_inner 1536,
// d_state 16, dt_rank 48, vocabulary 50 280; float32) as the sequence of libmambaops calls that
// the engine makes, without Java, DJL or JNA: what the engine's per-operation costs add to the
// step (compare with DecodeCpuTime in the same minute), and, given several builds of the
// library, a comparison of them in one process, runs interleaved, which the machine's
// fluctuating memory bandwidth makes the only fair one (jmh/NOTES.md). dt_proj runs as its own
// product before the plain state update, as the engine ran it before the projected step
// (mops_cpu_selective_state_update_projected, ABI 5), so that builds from before it compare too.
//
//   ./mvnw -pl native-ops install -DskipTests
//   g++ -O2 jmh/native/decode_step.cpp -o /tmp/decode_step -ldl
//   /tmp/decode_step native-ops/target/classes/linux-x86-64/libmambaops.so [other.so ...]
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "../../native-ops/src/main/native/include/mambaops.h"

namespace {

constexpr int64_t LAYERS = 24, DM = 768, DI = 1536, N = 16, R = 48, V = 50280;

/** The functions of one build of the library. */
struct Library {
    const char *path;
    decltype(&mops_cpu_matmul) matmul;
    decltype(&mops_cpu_causal_conv1d_update) conv_update;
    decltype(&mops_cpu_selective_state_update) state_update;
    decltype(&mops_cpu_add_rms_norm) add_norm;
    std::vector<double> ms;
};

template <typename F> F symbol(void *handle, const char *name) {
    void *f = dlsym(handle, name);
    if (f == nullptr) {
        fprintf(stderr, "%s\n", dlerror());
        exit(1);
    }
    return reinterpret_cast<F>(f);
}

float *filled(size_t n, float scale) {
    auto *p = static_cast<float *>(aligned_alloc(64, (n * 4 + 63) / 64 * 64));
    for (size_t i = 0; i < n; ++i) {
        p[i] = scale * static_cast<float>(static_cast<int>(i % 13) - 6);
    }
    return p;
}

struct Layer {
    float *in_w = filled(2 * DI * DM, 1e-3f);
    float *conv_w = filled(DI * 4, 1e-2f);
    float *conv_b = filled(DI, 1e-2f);
    float *x_w = filled((R + 2 * N) * DI, 1e-3f);
    float *dt_w = filled(DI * R, 1e-3f);
    float *dt_b = filled(DI, 1e-2f);
    float *a = filled(DI * N, -0.1f);
    float *d = filled(DI, 0.1f);
    float *out_w = filled(DM * DI, 1e-3f);
    float *norm_w = filled(DM, 0.1f);
    float *conv_state = filled(DI * 3, 0.0f);
    float *ssm_state = filled(DI * N, 0.0f);
};

struct Buffers {
    float *embedding = filled(V * DM, 1e-3f);
    float *h = filled(DM, 0.1f), *residual = filled(DM, 0), *normed = filled(DM, 0);
    float *xz = filled(2 * DI, 0), *u = filled(DI, 0), *dbc = filled(R + 2 * N, 0);
    float *dt = filled(DI, 0), *y = filled(DI, 0), *out = filled(DM, 0), *logits = filled(V, 0);
};

/** One step; returns its wall time in ms. */
double step(const Library &lib, std::vector<Layer> &layers, Buffers &b) {
    const int64_t xs[2] = {DI, 1}, zs[2] = {2 * DI, 1}, bs[3] = {R + 2 * N, 0, 1};
    // c[1, n] = a[1, k] . w[n, k]^T, the weight read through its transpose as the engine does
    const auto linear = [&](const float *a, const float *w, int64_t n, int64_t k, float *c) {
        lib.matmul(MOPS_T_F32, 1, 1, n, k, a, 0, k, 1, w, 0, 1, k, c);
    };
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < LAYERS; ++i) {
        Layer &l = layers[i];
        lib.add_norm(MOPS_F32, 1, DM, i == 0 ? b.h : b.out, i == 0 ? nullptr : b.residual,
                     MOPS_F32, l.norm_w, 1e-5f, b.normed, b.residual);
        linear(b.normed, l.in_w, 2 * DI, DM, b.xz);
        lib.conv_update(MOPS_F32, b.xz, 1, DI, 2 * DI, 1, l.conv_w, 4, l.conv_b, l.conv_state,
                        b.u, DI, 1, 1);
        linear(b.u, l.x_w, R + 2 * N, DI, b.dbc);
        linear(b.dbc, l.dt_w, DI, R, b.dt);
        lib.state_update(MOPS_F32, 1, DI, N, 1, l.ssm_state, b.u, xs, b.dt, xs, l.a, b.dbc + R,
                         bs, b.dbc + R + N, bs, l.d, b.xz + DI, zs, l.dt_b, 1, b.y, xs);
        linear(b.y, l.out_w, DM, DI, b.out);
    }
    linear(b.out, b.embedding, V, DM, b.logits);
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
        .count();
}

} // namespace

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s libmambaops.so [other-build.so ...]\n", argv[0]);
        return 2;
    }
    std::vector<Library> libs;
    for (int i = 1; i < argc; ++i) {
        void *h = dlopen(argv[i], RTLD_NOW | RTLD_LOCAL);
        if (h == nullptr) {
            fprintf(stderr, "%s\n", dlerror());
            return 1;
        }
        libs.push_back({argv[i], symbol<decltype(&mops_cpu_matmul)>(h, "mops_cpu_matmul"),
                        symbol<decltype(&mops_cpu_causal_conv1d_update)>(
                            h, "mops_cpu_causal_conv1d_update"),
                        symbol<decltype(&mops_cpu_selective_state_update)>(
                            h, "mops_cpu_selective_state_update"),
                        symbol<decltype(&mops_cpu_add_rms_norm)>(h, "mops_cpu_add_rms_norm"),
                        {}});
    }
    std::vector<Layer> layers(LAYERS);
    Buffers buffers;
    // rounds of 5 steps per library, interleaved; the first 4 rounds and each round's first
    // step are warm-up
    for (int round = 0; round < 60; ++round) {
        for (Library &lib : libs) {
            for (int s = 0; s < 5; ++s) {
                const double ms = step(lib, layers, buffers);
                if (round >= 4 && s >= 1) {
                    lib.ms.push_back(ms);
                }
            }
        }
    }
    for (Library &lib : libs) {
        std::sort(lib.ms.begin(), lib.ms.end());
        const size_t n = lib.ms.size();
        printf("%s: decoding step median %.2f ms, p10 %.2f, p90 %.2f (%zu steps)\n", lib.path,
               lib.ms[n / 2], lib.ms[n / 10], lib.ms[n * 9 / 10], n);
    }
}
