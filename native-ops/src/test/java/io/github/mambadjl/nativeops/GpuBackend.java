package io.github.mambadjl.nativeops;

import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs the CUDA kernels on host test tensors: every distinct host memory range is copied to its own
 * device buffer (so tensors that share memory, such as a state read and written in place, still
 * share it on the device), the kernel runs, and every buffer is copied back.
 */
final class GpuBackend implements Backend {

    private final Map<Long, DeviceBuffer> mirrors = new LinkedHashMap<>();
    private CudaStream stream;

    private NativeTensor dev(NativeTensor host) {
        if (host == null) {
            return null;
        }
        if (host.address() == 0) {
            return host; // a null pointer stays null: the native check must refuse it
        }
        DeviceBuffer buf =
                mirrors.computeIfAbsent(
                        host.address(),
                        a -> {
                            DeviceBuffer d = DeviceBuffer.allocate(stream, host.capacityBytes());
                            d.copyFrom(hostBytes(host));
                            return d;
                        });
        long[] strides = new long[host.rank()];
        for (int i = 0; i < strides.length; i++) {
            strides[i] = host.stride(i);
        }
        return buf.tensor(host.dtype(), host.capacityBytes() / host.dtype().byteSize())
                .view(0, host.shape(), strides);
    }

    private static ByteBuffer hostBytes(NativeTensor host) {
        return new Pointer(host.address()).getByteBuffer(0, host.capacityBytes());
    }

    private void run(Runnable body, NativeTensor... hosts) {
        stream = CudaStream.create();
        try {
            body.run();
            List<NativeTensor> order = new ArrayList<>();
            for (NativeTensor h : hosts) {
                if (h != null && h.address() != 0) {
                    order.add(h);
                }
            }
            for (NativeTensor h : order) {
                DeviceBuffer d = mirrors.get(h.address());
                if (d != null) {
                    d.copyTo(hostBytes(h));
                }
            }
            stream.synchronize();
        } finally {
            for (DeviceBuffer d : mirrors.values()) {
                d.close();
            }
            mirrors.clear();
            stream.close();
            stream = null;
        }
    }

    @Override
    public void causalConv1d(CausalConv1dArgs a) {
        run(
                () ->
                        CudaKernels.causalConv1d(
                                stream.handle(),
                                new CausalConv1dArgs(
                                        dev(a.x()),
                                        dev(a.weight()),
                                        dev(a.bias()),
                                        dev(a.initialState()),
                                        dev(a.finalState()),
                                        dev(a.out()),
                                        a.silu())),
                a.finalState(),
                a.out());
    }

    @Override
    public void causalConv1dUpdate(CausalConv1dUpdateArgs a) {
        run(
                () ->
                        CudaKernels.causalConv1dUpdate(
                                stream.handle(),
                                new CausalConv1dUpdateArgs(
                                        dev(a.x()),
                                        dev(a.weight()),
                                        dev(a.bias()),
                                        dev(a.convState()),
                                        dev(a.out()),
                                        a.silu())),
                a.convState(),
                a.out());
    }

    @Override
    public void selectiveScan(SelectiveScanArgs a) {
        run(
                () ->
                        CudaKernels.selectiveScan(
                                stream.handle(),
                                new SelectiveScanArgs(
                                        dev(a.u()),
                                        dev(a.delta()),
                                        dev(a.a()),
                                        dev(a.b()),
                                        dev(a.c()),
                                        dev(a.d()),
                                        dev(a.z()),
                                        dev(a.deltaBias()),
                                        a.softplus(),
                                        dev(a.initialState()),
                                        dev(a.finalState()),
                                        dev(a.out()))),
                a.finalState(),
                a.out());
    }

    @Override
    public void selectiveStateUpdate(SelectiveStateUpdateArgs a) {
        run(
                () ->
                        CudaKernels.selectiveStateUpdate(
                                stream.handle(),
                                new SelectiveStateUpdateArgs(
                                        dev(a.state()),
                                        dev(a.x()),
                                        dev(a.dt()),
                                        dev(a.a()),
                                        dev(a.b()),
                                        dev(a.c()),
                                        dev(a.d()),
                                        dev(a.z()),
                                        dev(a.dtBias()),
                                        a.softplus(),
                                        dev(a.out()))),
                a.state(),
                a.out());
    }

    @Override
    public void selectiveStateUpdateProjected(SelectiveStateUpdateProjectedArgs a) {
        run(
                () ->
                        CudaKernels.selectiveStateUpdateProjected(
                                stream.handle(),
                                new SelectiveStateUpdateProjectedArgs(
                                        dev(a.state()),
                                        dev(a.x()),
                                        dev(a.dtLow()),
                                        dev(a.dtProjWeight()),
                                        dev(a.a()),
                                        dev(a.b()),
                                        dev(a.c()),
                                        dev(a.d()),
                                        dev(a.z()),
                                        dev(a.dtBias()),
                                        a.softplus(),
                                        dev(a.out()))),
                a.state(),
                a.out());
    }

    /**
     * {@inheritDoc}
     *
     * <p>On the engine's GEMV wherever it applies ({@code GemvMode.ALWAYS}, its default split),
     * cuBLASLt elsewhere; the mode goes back to {@code MEASURE} (the default) afterwards.
     */
    @Override
    public void dtProjection(NativeTensor low, NativeTensor weight, NativeTensor dt) {
        run(
                () -> {
                    CudaTensorOps.loadGemm();
                    CudaTensorOps.setGemvMode(CudaTensorOps.GemvMode.ALWAYS);
                    try {
                        NativeTensor l = dev(low);
                        NativeTensor w = dev(weight);
                        CudaTensorOps.matmul(
                                Pointer.nativeValue(stream.handle()),
                                TensorDType.valueOf(low.dtype().name()),
                                1,
                                low.size(0),
                                weight.size(0),
                                low.size(1),
                                l.address(),
                                new long[] {0, low.stride(0), low.stride(1)},
                                w.address(),
                                new long[] {0, weight.stride(1), weight.stride(0)},
                                dev(dt).address(),
                                false);
                    } finally {
                        CudaTensorOps.setGemvMode(CudaTensorOps.GemvMode.MEASURE);
                    }
                },
                dt);
    }

    @Override
    public void ssd(SsdArgs a) {
        run(
                () ->
                        CudaKernels.ssd(
                                stream.handle(),
                                new SsdArgs(
                                        dev(a.x()),
                                        dev(a.dt()),
                                        dev(a.a()),
                                        dev(a.b()),
                                        dev(a.c()),
                                        dev(a.d()),
                                        dev(a.z()),
                                        dev(a.dtBias()),
                                        a.softplus(),
                                        a.dtMin(),
                                        a.dtMax(),
                                        a.chunkSize(),
                                        dev(a.initialStates()),
                                        dev(a.finalStates()),
                                        dev(a.out()))),
                a.finalStates(),
                a.out());
    }

    @Override
    public void ssdStateUpdate(SsdStateUpdateArgs a) {
        run(
                () ->
                        CudaKernels.ssdStateUpdate(
                                stream.handle(),
                                new SsdStateUpdateArgs(
                                        dev(a.state()),
                                        dev(a.x()),
                                        dev(a.dt()),
                                        dev(a.a()),
                                        dev(a.b()),
                                        dev(a.c()),
                                        dev(a.d()),
                                        dev(a.z()),
                                        dev(a.dtBias()),
                                        a.softplus(),
                                        a.dtMin(),
                                        a.dtMax(),
                                        dev(a.out()))),
                a.state(),
                a.out());
    }

    @Override
    public void rmsNormGated(RmsNormGatedArgs a) {
        run(
                () ->
                        CudaKernels.rmsNormGated(
                                stream.handle(),
                                new RmsNormGatedArgs(
                                        dev(a.x()),
                                        dev(a.z()),
                                        dev(a.weight()),
                                        a.groupSize(),
                                        a.eps(),
                                        a.normBeforeGate(),
                                        dev(a.out()))),
                a.out());
    }

    @Override
    public void addRmsNorm(AddRmsNormArgs a) {
        run(
                () ->
                        CudaKernels.addRmsNorm(
                                stream.handle(),
                                new AddRmsNormArgs(
                                        dev(a.x()),
                                        dev(a.residual()),
                                        dev(a.weight()),
                                        a.eps(),
                                        dev(a.out()),
                                        dev(a.residualOut()))),
                a.out(),
                a.residualOut());
    }
}
