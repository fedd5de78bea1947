package io.github.mambadjl.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.mambadjl.nativeops.DType;
import io.github.mambadjl.nativeops.NativeTensor;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;

/**
 * Turns the {@link MambaNDArray}s of one kernel call into {@link NativeTensor}s, converting or
 * copying an argument only when the kernel cannot read it as it is (another dtype, or a layout the
 * kernel needs contiguous), and closes those temporaries when the call is over.
 */
final class KernelArgs implements AutoCloseable {

    private final String operation;
    private final MambaNDManager manager;
    private final MambaNDArray anchor;
    private final Backend backend;
    private final DataType storage;
    private final Deque<NDArray> temporaries = new ArrayDeque<>();

    /**
     * Starts the arguments of one call.
     *
     * @param operation the SPI method, for messages
     * @param first the first input, whose manager owns the outputs and whose dtype is the storage
     *     dtype of the call
     */
    KernelArgs(String operation, NDArray first) {
        this.operation = operation;
        if (!(first instanceof MambaNDArray)) {
            throw new IllegalArgumentException(
                    operation
                            + ": the Mamba kernels need arrays of the Mamba engine, got one of "
                            + first.getManager().getEngine().getEngineName());
        }
        this.anchor = (MambaNDArray) first;
        this.manager = anchor.getManager();
        this.backend = anchor.backend();
        this.storage = first.getDataType();
        kernelType(storage);
    }

    /**
     * Returns the storage dtype of the call.
     *
     * @return float32, float16 or bfloat16
     */
    DataType storage() {
        return storage;
    }

    /**
     * Returns the first input: the kernel runs on its device ({@link SsmKernelDispatch}).
     *
     * @return the first input
     */
    MambaNDArray anchor() {
        return anchor;
    }

    /**
     * Returns the manager that owns the outputs.
     *
     * @return the manager of the first input
     */
    MambaNDManager manager() {
        return manager;
    }

    /**
     * Views an input in the storage dtype, with any strides.
     *
     * @param array the input, or {@code null}
     * @return the tensor, or {@code null}
     */
    NativeTensor strided(NDArray array) {
        return array == null ? null : tensor(ofEngine(array, storage));
    }

    /**
     * Views an input in the storage dtype, contiguous.
     *
     * @param array the input, or {@code null}
     * @return the tensor, or {@code null}
     */
    NativeTensor contiguous(NDArray array) {
        return array == null ? null : tensor(contiguousCopy(ofEngine(array, storage)));
    }

    /**
     * Views an input as float32, contiguous (state matrices, skips, biases, states).
     *
     * @param array the input, or {@code null}
     * @return the tensor, or {@code null}
     */
    NativeTensor float32(NDArray array) {
        return array == null ? null : tensor(contiguousCopy(ofEngine(array, DataType.FLOAT32)));
    }

    /**
     * Returns a new float32 array holding a copy of a state, for a kernel that updates its state in
     * place: the caller's state stays as it was. Like every output, the copy belongs to the manager
     * of the first input (not to the state's: a cache that keeps a view of the new state and closes
     * the old one would otherwise hold every step's state until the cache is closed).
     *
     * @param state the state
     * @return the copy, owned by the caller (attached to the manager of the first input, like every
     *     output, not to the state's)
     */
    MambaNDArray stateCopy(NDArray state) {
        MambaNDArray copy = ofEngine(state, DataType.FLOAT32).duplicate();
        copy.attach(manager);
        return copy;
    }

    /**
     * Returns the array a one-step kernel updates: the state itself when the kernel can write it in
     * place (a float32, contiguous array of this engine on the first input's device), so that a
     * decoding step neither copies nor allocates its state; otherwise a {@link #stateCopy}.
     *
     * @param state the state
     * @return the state (marked as written) or a copy owned by the caller
     */
    MambaNDArray stateToUpdate(NDArray state) {
        if (state instanceof MambaNDArray m
                && m.getDataType() == DataType.FLOAT32
                && m.backend() == anchor.backend()
                && m.isContiguous()) {
            m.written();
            return m;
        }
        return stateCopy(state);
    }

    /**
     * Views a rank-3 {@code [batch, n, length]} (or rank-2 {@code [batch, n]}) projection shared by
     * all channels as one group: {@code [batch, 1, n, length]} (or {@code [batch, 1, n]}).
     *
     * @param projection the projection, grouped or not
     * @param groupedRank the rank of the grouped form
     * @return the grouped form
     */
    NDArray grouped(NDArray projection, int groupedRank) {
        int rank = projection.getShape().dimension();
        if (rank == groupedRank) {
            return projection;
        }
        if (rank != groupedRank - 1) {
            throw new IllegalArgumentException(
                    operation
                            + ": B and C must have rank "
                            + (groupedRank - 1)
                            + " or "
                            + groupedRank
                            + ", got "
                            + projection.getShape());
        }
        return track(projection.expandDims(1));
    }

    /**
     * Allocates an output with the same axis order in memory as {@code like} (so that a transposed
     * input gives an output that the caller's inverse transpose makes contiguous).
     *
     * @param like the input whose layout to follow
     * @param dataType the output dtype
     * @return the output, owned by the caller
     */
    MambaNDArray outputLike(NDArray like, DataType dataType) {
        MambaNDArray x = (MambaNDArray) like;
        long[] dims = x.dims();
        long[] strides = x.strides();
        Integer[] order = new Integer[dims.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        // outermost first: larger strides first, size-1 axes keep their place
        Arrays.sort(
                order,
                (p, q) -> {
                    if (dims[p] == 1 || dims[q] == 1) {
                        return Integer.compare(p, q);
                    }
                    int c = Long.compare(strides[q], strides[p]);
                    return c != 0 ? c : Integer.compare(p, q);
                });
        long[] memoryShape = new long[dims.length];
        for (int i = 0; i < order.length; i++) {
            memoryShape[i] = dims[order[i]];
        }
        long[] memoryStrides = Strides.contiguous(memoryShape);
        long[] viewStrides = new long[dims.length];
        for (int i = 0; i < order.length; i++) {
            viewStrides[order[i]] = memoryStrides[i];
        }
        if (Arrays.equals(viewStrides, Strides.contiguous(dims))) {
            return MambaNDArray.allocate(manager, backend, Strides.shape(dims), dataType, false);
        }
        try (MambaNDArray base =
                MambaNDArray.allocate(manager, backend, new Shape(memoryShape), dataType, false)) {
            return base.view(0, dims, viewStrides);
        }
    }

    /**
     * Allocates a contiguous output.
     *
     * @param shape the shape
     * @param dataType the dtype
     * @return the output, owned by the caller
     */
    MambaNDArray output(Shape shape, DataType dataType) {
        return MambaNDArray.allocate(manager, backend, shape, dataType, false);
    }

    /**
     * Wraps an array of this engine as a tensor, without copying.
     *
     * @param array the array, in a kernel dtype
     * @return the tensor over its memory
     */
    static NativeTensor tensor(MambaNDArray array) {
        long[] dims = array.dims();
        long[] strides = array.strides();
        DType type = kernelType(array.getDataType());
        long span = 1;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] == 0) {
                span = 0;
                break;
            }
            span += (dims[i] - 1) * strides[i];
        }
        return NativeTensor.wrap(array.address(), span * type.byteSize(), type, dims)
                .withStrides(strides);
    }

    private static DType kernelType(DataType dataType) {
        switch (dataType) {
            case FLOAT32:
                return DType.FLOAT32;
            case FLOAT16:
                return DType.FLOAT16;
            case BFLOAT16:
                return DType.BFLOAT16;
            default:
                throw new IllegalArgumentException(
                        "The Mamba SSM kernels run on float32, float16 or bfloat16 arrays, got "
                                + dataType);
        }
    }

    private MambaNDArray ofEngine(NDArray array, DataType dataType) {
        MambaNDArray a;
        if (array instanceof MambaNDArray) {
            a = (MambaNDArray) array;
        } else {
            a = track(manager.from(array));
        }
        if (a.backend() != backend) {
            // the kernel reads every argument on the first input's device
            MambaNDArray moved = a.moveTo(backend);
            if (moved != a) {
                a = track(moved);
            }
        }
        if (a.getDataType() != dataType) {
            a = track((MambaNDArray) a.toType(dataType, false));
        }
        return a;
    }

    private MambaNDArray contiguousCopy(MambaNDArray array) {
        MambaNDArray c = array.contiguous();
        return c == array ? c : track(c);
    }

    private <T extends NDArray> T track(T temporary) {
        temporaries.push(temporary);
        return temporary;
    }

    /** Closes the temporaries of the call. */
    @Override
    public void close() {
        while (!temporaries.isEmpty()) {
            temporaries.pop().close();
        }
    }
}
