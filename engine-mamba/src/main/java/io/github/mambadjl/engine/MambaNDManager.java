package io.github.mambadjl.engine;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.util.RandomUtils;
import com.sun.jna.Pointer;
import io.github.mambadjl.nativeops.CpuTensorOps;
import io.github.mambadjl.nativeops.CudaTensorOps;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The {@link NDManager} of the {@code Mamba} engine: creates {@link MambaNDArray}s on its device,
 * in aligned native host memory ({@code Device.cpu()}) or in CUDA device memory from the engine's
 * stream-ordered pool ({@code Device.gpu(i)}), and frees them when it (or they) close.
 */
public class MambaNDManager extends BaseNDManager {

    private static final MambaNDManager SYSTEM_MANAGER = new SystemManager();

    private MambaNDManager(NDManager parent, Device device) {
        super(parent, device);
    }

    static MambaNDManager getSystemManager() {
        return SYSTEM_MANAGER;
    }

    /**
     * Returns the bytes of native host memory that the engine's arrays hold now (all managers).
     *
     * @return the bytes allocated and not yet freed
     */
    public static long hostBytesInUse() {
        return CpuTensorOps.inUse()[0];
    }

    /**
     * Returns the number of native host memory blocks that the engine's arrays hold now.
     *
     * @return the blocks allocated and not yet freed
     */
    public static long hostBlocksInUse() {
        return CpuTensorOps.inUse()[1];
    }

    /**
     * Returns the bytes of CUDA device memory that the engine's arrays hold now on a GPU (all
     * managers).
     *
     * @param device the GPU index
     * @return the bytes allocated from the engine pool and not yet freed, 0 without CUDA
     */
    public static long deviceBytesInUse(int device) {
        return CudaTensorOps.isAvailable() ? CudaTensorOps.inUse(device)[0] : 0;
    }

    /**
     * Returns the number of CUDA device memory blocks that the engine's arrays hold now on a GPU.
     *
     * @param device the GPU index
     * @return the blocks allocated from the engine pool and not yet freed, 0 without CUDA
     */
    public static long deviceBlocksInUse(int device) {
        return CudaTensorOps.isAvailable() ? CudaTensorOps.inUse(device)[1] : 0;
    }

    NDManager alternative() {
        return alternativeManager;
    }

    /** {@inheritDoc} */
    @Override
    public ByteBuffer allocateDirect(int capacity) {
        return ByteBuffer.allocateDirect(capacity).order(ByteOrder.nativeOrder());
    }

    /** {@inheritDoc} */
    @Override
    public MambaNDArray from(NDArray array) {
        if (array == null || array instanceof MambaNDArray) {
            return (MambaNDArray) array;
        }
        MambaNDArray result = create(array.toByteBuffer(), array.getShape(), array.getDataType());
        result.setName(array.getName());
        return result;
    }

    /** {@inheritDoc} */
    @Override
    public MambaNDArray create(Shape shape, DataType dataType) {
        return zeros(shape, dataType);
    }

    /** {@inheritDoc} */
    @Override
    public MambaNDArray create(Buffer data, Shape shape, DataType dataType) {
        DTypes.of(dataType, "create");
        checkShape(shape);
        int size = Math.toIntExact(shape.size());
        BaseNDManager.validateBuffer(data, dataType, size);
        Backend backend = Backend.of(getDevice());
        MambaNDArray array =
                MambaNDArray.allocate(this, HostBackend.INSTANCE, shape, dataType, false);
        long bytes = (long) size * dataType.getNumOfBytes();
        if (bytes > 0) {
            ByteBuffer target =
                    new Pointer(array.address())
                            .getByteBuffer(0, bytes)
                            .order(ByteOrder.nativeOrder());
            if (data instanceof ByteBuffer) {
                ByteBuffer src = ((ByteBuffer) data).duplicate();
                src.limit(src.position() + (int) bytes);
                target.put(src);
            } else {
                BaseNDManager.copyBuffer(data.duplicate(), target);
            }
        }
        if (backend == HostBackend.INSTANCE) {
            return array;
        }
        try (array) {
            return array.moveTo(backend);
        }
    }

    /** {@inheritDoc} */
    @Override
    public MambaNDArray zeros(Shape shape, DataType dataType) {
        checkShape(shape);
        return MambaNDArray.allocate(this, shape, dataType, true);
    }

    /** {@inheritDoc} */
    @Override
    public MambaNDArray ones(Shape shape, DataType dataType) {
        return full(shape, 1f, dataType);
    }

    /** {@inheritDoc} */
    @Override
    public MambaNDArray full(Shape shape, float value, DataType dataType) {
        checkShape(shape);
        MambaNDArray array = MambaNDArray.allocate(this, shape, dataType, false);
        array.backend().fill(DTypes.of(dataType, "full"), array.address(), shape.size(), value);
        return array;
    }

    /** {@inheritDoc} */
    @Override
    public NDArray arange(int start, int stop, int step, DataType dataType) {
        return arange((float) start, (float) stop, (float) step, dataType);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray arange(float start, float stop, float step, DataType dataType) {
        if (step == 0) {
            throw new IllegalArgumentException("arange: step must not be 0");
        }
        int count = (int) Math.max(0, Math.ceil((stop - start) / step));
        double[] values = new double[count];
        for (int i = 0; i < count; i++) {
            values[i] = start + (double) i * step;
        }
        return fromDoubles(values, new Shape(count), dataType);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray randomUniform(float low, float high, Shape shape, DataType dataType) {
        double[] values = new double[Math.toIntExact(shape.size())];
        for (int i = 0; i < values.length; i++) {
            values[i] = low + (high - low) * RandomUtils.RANDOM.nextDouble();
        }
        return fromDoubles(values, shape, dataType);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray randomNormal(float loc, float scale, Shape shape, DataType dataType) {
        double[] values = new double[Math.toIntExact(shape.size())];
        for (int i = 0; i < values.length; i++) {
            values[i] = loc + scale * RandomUtils.RANDOM.nextGaussian();
        }
        return fromDoubles(values, shape, dataType);
    }

    private MambaNDArray fromDoubles(double[] values, Shape shape, DataType dataType) {
        DTypes.of(dataType, "create");
        boolean half = dataType == DataType.FLOAT16 || dataType == DataType.BFLOAT16;
        DataType stored = half ? DataType.FLOAT32 : dataType;
        ByteBuffer bb = allocateDirect(values.length * stored.getNumOfBytes());
        for (double v : values) {
            switch (stored) {
                case INT32:
                    bb.putInt((int) v);
                    break;
                case INT64:
                    bb.putLong((long) v);
                    break;
                case BOOLEAN:
                    bb.put((byte) (v != 0 ? 1 : 0));
                    break;
                default:
                    bb.putFloat((float) v);
                    break;
            }
        }
        bb.rewind();
        MambaNDArray array = create(bb, shape, stored);
        if (!half) {
            return array;
        }
        try (array) {
            return (MambaNDArray) array.toType(dataType, false);
        }
    }

    private static void checkShape(Shape shape) {
        for (long d : shape.getShape()) {
            if (d < 0) {
                throw new IllegalArgumentException(
                        "shape " + shape + " has an unknown (-1) or negative dimension");
            }
        }
    }

    /** {@inheritDoc} */
    @Override
    public MambaNDManager newSubManager(Device device) {
        Backend.of(device); // a GPU without CUDA or an unknown device fails here, clearly
        MambaNDManager manager = new MambaNDManager(this, device);
        attachUncappedInternal(manager.uid, manager);
        return manager;
    }

    /** {@inheritDoc} */
    @Override
    public final Engine getEngine() {
        return Engine.getEngine(MambaEngine.ENGINE_NAME);
    }

    /**
     * Closes the arrays of this manager and the manager of the alternative engine; a base manager
     * (a child of the system manager) also empties the engine's cache of freed host blocks.
     */
    @Override
    public void close() {
        boolean wasOpen = isOpen();
        super.close();
        if (wasOpen && alternativeManager != null) {
            alternativeManager.close();
        }
        if (wasOpen && parent == SYSTEM_MANAGER) {
            HostBlockCache.release();
        }
    }

    /** The root manager, of which all others descend. */
    private static final class SystemManager extends MambaNDManager
            implements NDManager.SystemNDManager {

        SystemManager() {
            super(null, null);
        }
    }
}
