package io.github.mambadjl.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import io.github.mambadjl.checkpoint.TensorData;
import io.github.mambadjl.nativeops.CpuTensorOps;
import io.github.mambadjl.nativeops.CudaTensorOps;
import java.nio.ByteBuffer;
import java.util.function.Function;

/**
 * Creates the parameter arrays of a checkpoint on the {@code Mamba} engine: each tensor is read
 * once, from the memory-mapped file straight into native memory of the requested dtype (one strided
 * copy that also converts), so loading needs no Java heap for the weights and no second copy of the
 * model in host memory.
 *
 * <p>The parameters that the SSM kernels read in float32 ({@code A_log}, {@code D}, {@code dt_bias}
 * and Mamba-1's {@code dt_proj.bias}) stay float32 whatever the requested dtype, as mamba_ssm keeps
 * them: they are a few kilobytes per layer and rounding them to bfloat16 would only cost accuracy.
 */
final class NativeWeightReader implements Function<TensorData, NDArray> {

    private final MambaNDManager manager;
    private final DataType dataType;

    /**
     * Creates a reader.
     *
     * @param manager the manager that will own the arrays
     * @param dataType the dtype of the weights (float32, float16 or bfloat16)
     */
    NativeWeightReader(MambaNDManager manager, DataType dataType) {
        this.manager = manager;
        this.dataType = dataType;
    }

    /**
     * Tells whether a parameter stays float32 in a model of another dtype.
     *
     * @param name the parameter's checkpoint name
     * @return whether the SSM kernels read it in float32
     */
    static boolean keptInFloat32(String name) {
        return name.endsWith(".A_log")
                || name.endsWith(".D")
                || name.endsWith(".dt_bias")
                || name.endsWith(".dt_proj.bias");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray apply(TensorData tensor) {
        DataType target = keptInFloat32(tensor.name()) ? DataType.FLOAT32 : dataType;
        DataType stored = tensor.dtype().toDataType();
        Shape shape = tensor.djlShape();
        if (!storable(stored)) {
            // float64 and small integers: converted through float, one tensor at a time
            NDArray values = manager.create(tensor.toFloatArray(), shape);
            if (target == DataType.FLOAT32) {
                return values;
            }
            try (values) {
                return values.toType(target, false);
            }
        }
        ByteBuffer data = tensor.data();
        if (!data.isDirect()) {
            // a .bin archive read into the heap: copy it in, then convert in native memory
            NDArray raw = manager.create(data, shape, stored);
            if (target == stored) {
                return raw;
            }
            try (raw) {
                return raw.toType(target, false);
            }
        }
        Backend backend = Backend.of(manager.getDevice());
        if (backend instanceof CudaBackend) {
            return uploaded((CudaBackend) backend, data, shape, stored, target);
        }
        MambaNDArray out = MambaNDArray.allocate(manager, shape, target, false);
        if (shape.size() > 0) {
            try {
                long source = Pointer.nativeValue(Native.getDirectBufferPointer(data));
                long[] dims = shape.getShape();
                long[] strides = Strides.contiguous(dims);
                CpuTensorOps.copy(
                        dims,
                        DTypes.of(stored, "load"),
                        source + data.position(),
                        strides,
                        out.type(),
                        out.address(),
                        strides);
            } catch (RuntimeException e) {
                out.close();
                throw e;
            }
        }
        return out;
    }

    /**
     * Copies a tensor straight from the mapped file to the GPU in its stored dtype (no host copy),
     * then converts it there.
     */
    private MambaNDArray uploaded(
            CudaBackend gpu, ByteBuffer data, Shape shape, DataType stored, DataType target) {
        MambaNDArray raw = MambaNDArray.allocate(manager, gpu, shape, stored, false);
        try {
            long bytes = shape.size() * stored.getNumOfBytes();
            if (bytes > 0) {
                long source = Pointer.nativeValue(Native.getDirectBufferPointer(data));
                CudaTensorOps.upload(gpu.stream(), raw.address(), source + data.position(), bytes);
                gpu.synchronize(); // the mapped pages are read before the file may be unmapped
            }
        } catch (RuntimeException e) {
            raw.close();
            throw e;
        }
        if (target == stored) {
            return raw;
        }
        try (raw) {
            return (MambaNDArray) raw.toType(target, false);
        }
    }

    private static boolean storable(DataType type) {
        switch (type) {
            case FLOAT32:
            case FLOAT16:
            case BFLOAT16:
            case INT32:
            case INT64:
            case BOOLEAN:
                return true;
            default:
                return false;
        }
    }
}
