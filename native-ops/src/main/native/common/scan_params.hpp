// The one recurrence behind the Mamba-1 selective scan, the Mamba-2 SSD and their one-step
// updates, with the checks and the argument mapping shared by the CPU and CUDA backends.
//
// Channels are indexed (c1, c2): Mamba-1 has c1 = d and c2 = 0 (one inner channel); Mamba-2
// has c1 = head and c2 = head channel p. Every per-channel tensor carries a stride per axis
// (a stride of 0 broadcasts), so that one kernel serves all four entry points.
#pragma once

#include <cmath>
#include <limits>
#include <string>

#include "dtype.hpp"
#include "status.hpp"

namespace mops {

/**
 * The dt projection of a Mamba-1 decoding step (mops_*_selective_state_update_projected): dt of
 * (batch b, channel c) is round_T(sum_{r < rank} low[b * low_stride + r] * weight[c *
 * weight_stride + r]), the product summed in float32 and rounded to the storage dtype T as the
 * separate product stores it. rank 0: none (dt is read from ScanParams::dt).
 */
struct DtProjection {
    const void *low = nullptr;    // [batch, rank], the rank axis contiguous
    int64_t low_stride = 0;       // batch stride
    const void *weight = nullptr; // [channels, rank], the rank axis contiguous
    int64_t weight_stride = 0;    // row stride
    int64_t rank = 0;
};

/** Arguments of the scan recurrence; see mambaops.h for the formulas. */
struct ScanParams {
    int32_t dtype = MOPS_F32;
    int64_t batch = 0, ch1 = 0, ch2 = 0, seqlen = 0, dstate = 0, ngroups = 0;
    const void *u = nullptr;
    int64_t us[4] = {0, 0, 0, 0}; // (batch, c1, c2, time)
    const void *dt = nullptr;
    int64_t dts[4] = {0, 0, 0, 0}; // (batch, c1, c2, time)
    const void *z = nullptr;
    int64_t zs[4] = {0, 0, 0, 0}; // (batch, c1, c2, time)
    void *out = nullptr;
    int64_t os[4] = {0, 0, 0, 0}; // (batch, c1, c2, time)
    const void *B = nullptr;
    int64_t Bs[4] = {0, 0, 0, 0}; // (batch, group, state, time)
    const void *C = nullptr;
    int64_t Cs[4] = {0, 0, 0, 0}; // (batch, group, state, time)
    const float *A = nullptr;
    int64_t As[3] = {0, 0, 0}; // (c1, c2, state)
    const float *D = nullptr;
    int64_t Ds[2] = {0, 0}; // (c1, c2)
    const float *dt_bias = nullptr;
    int64_t dtbs[2] = {0, 0}; // (c1, c2)
    bool softplus = false;
    float dt_min = -std::numeric_limits<float>::infinity();
    float dt_max = std::numeric_limits<float>::infinity();
    const float *init = nullptr; // [batch, ch1 * ch2, dstate]
    float *fin = nullptr;        // [batch, ch1 * ch2, dstate]
    DtProjection proj;           // seqlen 1 only: dt from its projection instead of dt

    MOPS_HD int64_t channels() const { return ch1 * ch2; }
    /** The group of channel index c1 (all c2 of one c1 share it). */
    MOPS_HD int64_t group_of(int64_t c1) const { return (c1 * ch2) / (channels() / ngroups); }
};

inline std::string dims(std::initializer_list<std::pair<const char *, int64_t>> list) {
    std::string s = "[";
    bool first = true;
    for (const auto &kv : list) {
        s += (first ? "" : ", ") + std::string(kv.first) + "=" + std::to_string(kv.second);
        first = false;
    }
    return s + "]";
}

inline void copy_strides(int64_t *dst, const int64_t *src, int n, const char *name) {
    require(src != nullptr, std::string(name) + " is NULL");
    for (int i = 0; i < n; ++i) {
        require(src[i] >= 0, std::string(name) + "[" + std::to_string(i) + "] is negative");
        dst[i] = src[i];
    }
}

inline void check_common(const ScanParams &p, const std::string &shape) {
    require(dtype_size(p.dtype) != 0, "unknown dtype code " + std::to_string(p.dtype) +
                                          " (expected 0 = float32, 1 = float16, 2 = bfloat16)");
    require(p.batch > 0 && p.ch1 > 0 && p.ch2 > 0 && p.seqlen > 0 && p.dstate > 0 && p.ngroups > 0,
            "sizes must be positive: " + shape);
    require(p.ch1 % p.ngroups == 0, "the groups must divide the channels/heads: " + shape);
    require(p.dstate <= 256, "dstate must be at most 256: " + shape);
    require(p.u != nullptr, "x/u is NULL");
    if (p.proj.rank == 0 && p.proj.low == nullptr && p.proj.weight == nullptr) {
        require(p.dt != nullptr, "dt/delta is NULL");
    } else {
        require(p.proj.rank > 0, "dt_rank must be positive: " + shape);
        require(p.proj.low != nullptr, "dt_low is NULL");
        require(p.proj.weight != nullptr, "dt_proj_weight is NULL");
        require(p.proj.low_stride >= 0 && p.proj.weight_stride >= 0,
                "the dt projection's strides must not be negative: dt_low " +
                    std::to_string(p.proj.low_stride) + ", dt_proj_weight " +
                    std::to_string(p.proj.weight_stride));
        require(p.seqlen == 1, "the dt projection serves single steps only: " + shape);
    }
    require(p.A != nullptr, "A is NULL");
    require(p.B != nullptr, "B is NULL");
    require(p.C != nullptr, "C is NULL");
    require(p.out != nullptr, "out is NULL");
    require(!(p.dt_min > p.dt_max), "dt_min must not exceed dt_max: " + shape);
}

/** Mamba-1 selective scan arguments. */
inline ScanParams selective_scan_params(
    int32_t dtype, int64_t batch, int64_t dim, int64_t seqlen, int64_t dstate, int64_t ngroups,
    const void *u, const int64_t *u_strides, const void *delta, const int64_t *delta_strides,
    const float *A, const void *B, const int64_t *B_strides, const void *C,
    const int64_t *C_strides, const float *D, const void *z, const int64_t *z_strides,
    const float *delta_bias, int32_t softplus, const float *initial_state, float *final_state,
    void *out, const int64_t *out_strides, const DtProjection &proj = {}) {
    ScanParams p;
    p.dtype = dtype;
    p.batch = batch;
    p.ch1 = dim;
    p.ch2 = 1;
    p.seqlen = seqlen;
    p.dstate = dstate;
    p.ngroups = ngroups;
    const std::string shape = "u " + dims({{"batch", batch}, {"dim", dim}, {"seqlen", seqlen}}) +
                              ", B/C " + dims({{"ngroups", ngroups}, {"dstate", dstate}});
    int64_t s[4];
    p.u = u;
    p.dt = delta;
    p.z = z;
    p.out = out;
    p.B = B;
    p.C = C;
    if (u) {
        copy_strides(s, u_strides, 3, "u_strides");
        p.us[0] = s[0], p.us[1] = s[1], p.us[3] = s[2];
    }
    if (delta) {
        copy_strides(s, delta_strides, 3, "delta_strides");
        p.dts[0] = s[0], p.dts[1] = s[1], p.dts[3] = s[2];
    }
    if (z) {
        copy_strides(s, z_strides, 3, "z_strides");
        p.zs[0] = s[0], p.zs[1] = s[1], p.zs[3] = s[2];
    }
    if (out) {
        copy_strides(s, out_strides, 3, "out_strides");
        p.os[0] = s[0], p.os[1] = s[1], p.os[3] = s[2];
    }
    if (B) {
        copy_strides(p.Bs, B_strides, 4, "B_strides");
    }
    if (C) {
        copy_strides(p.Cs, C_strides, 4, "C_strides");
    }
    p.A = A;
    p.As[0] = dstate, p.As[2] = 1;
    p.D = D;
    p.Ds[0] = 1;
    p.dt_bias = delta_bias;
    p.dtbs[0] = 1;
    p.softplus = softplus != 0;
    p.init = initial_state;
    p.fin = final_state;
    p.proj = proj;
    check_common(p, shape);
    return p;
}

/**
 * Mamba-1 one-step update: the scan with seqlen 1 and the state in place; dt from proj when it is
 * given (dt and dt_strides then NULL).
 */
inline ScanParams selective_state_update_params(
    int32_t dtype, int64_t batch, int64_t dim, int64_t dstate, int64_t ngroups, float *state,
    const void *x, const int64_t *x_strides, const void *dt, const int64_t *dt_strides,
    const float *A, const void *B, const int64_t *B_strides, const void *C,
    const int64_t *C_strides, const float *D, const void *z, const int64_t *z_strides,
    const float *dt_bias, int32_t softplus, void *out, const int64_t *out_strides,
    const DtProjection &proj = {}) {
    require(state != nullptr, "state is NULL");
    int64_t xs[3] = {0, 0, 0}, ds[3] = {0, 0, 0}, zs3[3] = {0, 0, 0}, os3[3] = {0, 0, 0};
    int64_t bs[4] = {0, 0, 0, 0}, cs[4] = {0, 0, 0, 0};
    if (x) {
        copy_strides(xs, x_strides, 2, "x_strides");
    }
    if (dt) {
        copy_strides(ds, dt_strides, 2, "dt_strides");
    }
    if (z) {
        copy_strides(zs3, z_strides, 2, "z_strides");
    }
    if (out) {
        copy_strides(os3, out_strides, 2, "out_strides");
    }
    if (B) {
        copy_strides(bs, B_strides, 3, "B_strides");
    }
    if (C) {
        copy_strides(cs, C_strides, 3, "C_strides");
    }
    return selective_scan_params(dtype, batch, dim, 1, dstate, ngroups, x, xs, dt, ds, A, B, bs, C,
                                 cs, D, z, zs3, dt_bias, softplus, state, state, out, os3, proj);
}

/** Mamba-2 SSD arguments. */
inline ScanParams ssd_params(int32_t dtype, int64_t batch, int64_t seqlen, int64_t nheads,
                             int64_t headdim, int64_t ngroups, int64_t dstate, int64_t chunk_size,
                             const void *x, const int64_t *x_strides, const void *dt,
                             const int64_t *dt_strides, const float *A, const void *B,
                             const int64_t *B_strides, const void *C, const int64_t *C_strides,
                             const float *D, int32_t d_per_channel, const void *z,
                             const int64_t *z_strides, const float *dt_bias, int32_t softplus,
                             float dt_min, float dt_max, const float *initial_states,
                             float *final_states, void *out, const int64_t *out_strides) {
    ScanParams p;
    p.dtype = dtype;
    p.batch = batch;
    p.ch1 = nheads;
    p.ch2 = headdim;
    p.seqlen = seqlen;
    p.dstate = dstate;
    p.ngroups = ngroups;
    const std::string shape =
        "x " +
        dims({{"batch", batch}, {"seqlen", seqlen}, {"nheads", nheads}, {"headdim", headdim}}) +
        ", B/C " + dims({{"ngroups", ngroups}, {"dstate", dstate}}) + ", chunk_size " +
        std::to_string(chunk_size);
    require(chunk_size > 0, "chunk_size must be positive: " + shape);
    int64_t s[4];
    p.u = x;
    p.dt = dt;
    p.z = z;
    p.out = out;
    p.B = B;
    p.C = C;
    if (x) {
        copy_strides(s, x_strides, 4, "x_strides");
        p.us[0] = s[0], p.us[1] = s[2], p.us[2] = s[3], p.us[3] = s[1];
    }
    if (z) {
        copy_strides(s, z_strides, 4, "z_strides");
        p.zs[0] = s[0], p.zs[1] = s[2], p.zs[2] = s[3], p.zs[3] = s[1];
    }
    if (out) {
        copy_strides(s, out_strides, 4, "out_strides");
        p.os[0] = s[0], p.os[1] = s[2], p.os[2] = s[3], p.os[3] = s[1];
    }
    if (dt) {
        copy_strides(s, dt_strides, 3, "dt_strides");
        p.dts[0] = s[0], p.dts[1] = s[2], p.dts[3] = s[1];
    }
    if (B) {
        copy_strides(s, B_strides, 4, "B_strides");
        p.Bs[0] = s[0], p.Bs[1] = s[2], p.Bs[2] = s[3], p.Bs[3] = s[1];
    }
    if (C) {
        copy_strides(s, C_strides, 4, "C_strides");
        p.Cs[0] = s[0], p.Cs[1] = s[2], p.Cs[2] = s[3], p.Cs[3] = s[1];
    }
    p.A = A;
    p.As[0] = 1;
    p.D = D;
    p.Ds[0] = d_per_channel ? headdim : 1;
    p.Ds[1] = d_per_channel ? 1 : 0;
    p.dt_bias = dt_bias;
    p.dtbs[0] = 1;
    p.softplus = softplus != 0;
    p.dt_min = dt_min;
    p.dt_max = dt_max;
    p.init = initial_states;
    p.fin = final_states;
    require(!std::isnan(dt_min) && !std::isnan(dt_max), "dt limits must not be NaN: " + shape);
    check_common(p, shape);
    return p;
}

/** Mamba-2 one-step update: the SSD with seqlen 1 and the state in place. */
inline ScanParams ssd_state_update_params(
    int32_t dtype, int64_t batch, int64_t nheads, int64_t headdim, int64_t ngroups, int64_t dstate,
    float *state, const void *x, const int64_t *x_strides, const void *dt,
    const int64_t *dt_strides, const float *A, const void *B, const int64_t *B_strides,
    const void *C, const int64_t *C_strides, const float *D, int32_t d_per_channel, const void *z,
    const int64_t *z_strides, const float *dt_bias, int32_t softplus, float dt_min, float dt_max,
    void *out, const int64_t *out_strides) {
    require(state != nullptr, "state is NULL");
    // [b, h, p] -> [b, t=1, h, p]: insert a time stride of 0.
    int64_t xs[4] = {0, 0, 0, 0}, zs4[4] = {0, 0, 0, 0}, os4[4] = {0, 0, 0, 0};
    int64_t ds[3] = {0, 0, 0}, bs[4] = {0, 0, 0, 0}, cs[4] = {0, 0, 0, 0};
    int64_t s[3];
    if (x) {
        copy_strides(s, x_strides, 3, "x_strides");
        xs[0] = s[0], xs[2] = s[1], xs[3] = s[2];
    }
    if (z) {
        copy_strides(s, z_strides, 3, "z_strides");
        zs4[0] = s[0], zs4[2] = s[1], zs4[3] = s[2];
    }
    if (out) {
        copy_strides(s, out_strides, 3, "out_strides");
        os4[0] = s[0], os4[2] = s[1], os4[3] = s[2];
    }
    if (dt) {
        copy_strides(s, dt_strides, 2, "dt_strides");
        ds[0] = s[0], ds[2] = s[1];
    }
    if (B) {
        copy_strides(s, B_strides, 3, "B_strides");
        bs[0] = s[0], bs[2] = s[1], bs[3] = s[2];
    }
    if (C) {
        copy_strides(s, C_strides, 3, "C_strides");
        cs[0] = s[0], cs[2] = s[1], cs[3] = s[2];
    }
    return ssd_params(dtype, batch, 1, nheads, headdim, ngroups, dstate, 1, x, xs, dt, ds, A, B, bs,
                      C, cs, D, d_per_channel, z, zs4, dt_bias, softplus, dt_min, dt_max, state,
                      state, out, os4);
}

/** softplus as mamba_ssm computes it. */
MOPS_HD float softplus_f(float v) {
    return v <= 20.0f ? log1pf(expf(v)) : v;
}

/** dt after bias, softplus and limits. */
MOPS_HD float transform_dt(float v, float bias, bool softplus, float lo, float hi) {
    v += bias;
    if (softplus) {
        v = softplus_f(v);
    }
    return fminf(fmaxf(v, lo), hi);
}

} // namespace mops
