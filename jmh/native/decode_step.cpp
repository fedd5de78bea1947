// A Mamba-1 decoding step of the mamba-130m shape (24 layers, d_model 768, d_inner 1536,
// d_state 16, dt_rank 48, vocabulary 50 280; float32) as the sequence of libmambaops calls that
// the engine makes, without Java, DJL or JNA: what the engine's per-operation costs add to the
// step (compare with CpuModelBenchmark.decodeStep in the same minute; jmh/NOTES.md).
//
//   ./mvnw -pl native-ops install -DskipTests
//   L=native-ops/target/classes/linux-x86-64
//   g++ -O2 jmh/native/decode_step.cpp -o /tmp/decode_step -L$L -lmambaops -Wl,-rpath,$L
//   /tmp/decode_step
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "../../native-ops/src/main/native/include/mambaops.h"

namespace {

constexpr int64_t LAYERS = 24, DM = 768, DI = 1536, N = 16, R = 48, V = 50280;

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

/** c[1, n] = a[1, k] . w[n, k]^T, the weight read through its transpose as the engine does. */
void linear(const float *a, const float *w, int64_t n, int64_t k, float *c) {
    mops_cpu_matmul(MOPS_T_F32, 1, 1, n, k, a, 0, k, 1, w, 0, 1, k, c);
}

} // namespace

int main() {
    std::vector<Layer> layers(LAYERS);
    float *embedding = filled(V * DM, 1e-3f);
    float *h = filled(DM, 0.1f), *residual = filled(DM, 0), *normed = filled(DM, 0);
    float *xz = filled(2 * DI, 0), *u = filled(DI, 0), *dbc = filled(R + 2 * N, 0);
    float *dt = filled(DI, 0), *y = filled(DI, 0), *out = filled(DM, 0), *logits = filled(V, 0);
    const int64_t xs[2] = {DI, 1}, zs[2] = {2 * DI, 1}, bs[3] = {R + 2 * N, 0, 1};
    std::vector<double> ms;
    for (int step = 0; step < 400; ++step) {
        const auto t0 = std::chrono::steady_clock::now();
        for (int64_t i = 0; i < LAYERS; ++i) {
            Layer &l = layers[i];
            mops_cpu_add_rms_norm(MOPS_F32, 1, DM, i == 0 ? h : out, i == 0 ? nullptr : residual,
                                  MOPS_F32, l.norm_w, 1e-5f, normed, residual);
            linear(normed, l.in_w, 2 * DI, DM, xz);
            mops_cpu_causal_conv1d_update(MOPS_F32, xz, 1, DI, 2 * DI, 1, l.conv_w, 4, l.conv_b,
                                          l.conv_state, u, DI, 1, 1);
            linear(u, l.x_w, R + 2 * N, DI, dbc);
            linear(dbc, l.dt_w, DI, R, dt);
            mops_cpu_selective_state_update(MOPS_F32, 1, DI, N, 1, l.ssm_state, u, xs, dt, xs,
                                            l.a, dbc + R, bs, dbc + R + N, bs, l.d, xz + DI, zs,
                                            l.dt_b, 1, y, xs);
            linear(y, l.out_w, DM, DI, out);
        }
        linear(out, embedding, V, DM, logits);
        if (step >= 100) {
            ms.push_back(std::chrono::duration<double, std::milli>(
                             std::chrono::steady_clock::now() - t0)
                             .count());
        }
    }
    std::sort(ms.begin(), ms.end());
    printf("native-only decoding step, %zu steps: median %.2f ms, min %.2f, p90 %.2f\n", ms.size(),
           ms[ms.size() / 2], ms[0], ms[ms.size() * 9 / 10]);
}
