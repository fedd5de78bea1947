package io.github.mambadjl.engine;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrayAdapter;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.sun.jna.Pointer;
import io.github.mambadjl.nativeops.CpuTensorOps.Binary;
import io.github.mambadjl.nativeops.CpuTensorOps.Reduce;
import io.github.mambadjl.nativeops.CpuTensorOps.Unary;
import io.github.mambadjl.nativeops.CudaTensorOps;
import io.github.mambadjl.nativeops.SamplingSettings;
import io.github.mambadjl.nativeops.TensorDType;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * An {@link NDArray} of the {@code Mamba} engine: a strided view of aligned native host memory.
 *
 * <p>Reshape (of a contiguous array), transpose, expandDims, squeeze and slicing return views that
 * share the memory; the memory is freed when the last array that uses it is closed. The operations
 * listed in the module README run natively; any other operation runs on the alternative engine
 * (PyTorch) with a copy when it is on the class path, as DJL's {@link NDArrayAdapter} does, and
 * otherwise throws {@link UnsupportedOperationException}.
 */
public class MambaNDArray extends NDArrayAdapter {

    private ArrayMemory memory;
    private long offset;
    private long[] strides;
    private final TensorDType type;
    private MambaNDArrayEx ex;
    private volatile DerivedArray stateMatrix;

    /**
     * Creates an array over memory, taking over one reference to it.
     *
     * @param manager the manager to attach to
     * @param memory the memory, whose reference passes to this array
     * @param offset the offset of the first element, in elements
     * @param shape the shape
     * @param strides the strides in elements
     * @param dataType the data type
     */
    @SuppressWarnings("this-escape")
    MambaNDArray(
            MambaNDManager manager,
            ArrayMemory memory,
            long offset,
            Shape shape,
            long[] strides,
            DataType dataType) {
        super(manager, manager.alternative(), shape, dataType, NDManager.nextUid());
        this.type = DTypes.of(dataType, "create");
        this.memory = memory;
        this.offset = offset;
        this.strides = strides.clone();
        manager.attachInternal(getUid(), this);
        NDScope.register(this);
    }

    static MambaNDArray allocate(
            MambaNDManager manager, Shape shape, DataType dataType, boolean zero) {
        return allocate(manager, Backend.of(manager.getDevice()), shape, dataType, zero);
    }

    static MambaNDArray allocate(
            MambaNDManager manager, Backend backend, Shape shape, DataType dataType, boolean zero) {
        TensorDType t = DTypes.of(dataType, "create");
        ArrayMemory memory = backend.allocate(shape.size() * t.byteSize(), zero);
        try {
            return new MambaNDArray(
                    manager, memory, 0, shape, Strides.contiguous(shape.getShape()), dataType);
        } catch (RuntimeException e) {
            memory.release();
            throw e;
        }
    }

    /** Allocates an array on this array's device, attached to this array's manager. */
    MambaNDArray allocateLike(Shape shape, DataType dataType, boolean zero) {
        return allocate(getManager(), backend(), shape, dataType, zero);
    }

    /**
     * Returns where this array's memory lives and which library runs its operations.
     *
     * @return the backend
     */
    Backend backend() {
        checkOpen();
        return memory.backend();
    }

    /**
     * Returns the device of this array's memory (which may differ from its manager's after {@link
     * #toDevice}).
     *
     * @return the device
     */
    @Override
    public Device getDevice() {
        return isClosed ? manager.getDevice() : memory.backend().device();
    }

    /** {@inheritDoc} */
    @Override
    public MambaNDManager getManager() {
        return (MambaNDManager) manager;
    }

    TensorDType type() {
        return type;
    }

    long address() {
        checkOpen();
        return memory.address() + offset * type.byteSize();
    }

    long[] strides() {
        return strides.clone();
    }

    /**
     * Returns the memory this array views.
     *
     * @return the memory
     */
    ArrayMemory memory() {
        checkOpen();
        return memory;
    }

    /**
     * Returns {@code -exp(this)}, computed on the first call and kept with this array (closed with
     * it) while its memory is not written: the state matrix {@code A = -exp(A_log)} of a model's
     * parameter costs nothing after the first forward.
     *
     * @return the kept result, not to be closed or modified by the caller
     */
    MambaNDArray stateMatrix() {
        DerivedArray derived = stateMatrix;
        if (derived == null) {
            synchronized (this) {
                if (stateMatrix == null) {
                    stateMatrix = new DerivedArray();
                }
                derived = stateMatrix;
            }
        }
        return derived.get(
                this,
                source -> {
                    try (NDArray decay = source.exp()) {
                        return (MambaNDArray) decay.neg();
                    }
                });
    }

    long[] dims() {
        return getShape().getShape().clone();
    }

    private void checkOpen() {
        if (isClosed) {
            throw new IllegalStateException("this Mamba NDArray was closed already");
        }
    }

    boolean isContiguous() {
        return Strides.isContiguous(dims(), strides);
    }

    /**
     * Returns a view of this array's memory.
     *
     * @param elementOffset offset from this array's first element, in elements
     * @param shape the view's shape
     * @param viewStrides the view's strides
     * @return the view, attached to this array's manager
     */
    MambaNDArray view(long elementOffset, long[] shape, long[] viewStrides) {
        checkOpen();
        memory.retain();
        try {
            return new MambaNDArray(
                    getManager(),
                    memory,
                    offset + elementOffset,
                    Strides.shape(shape),
                    viewStrides,
                    dataType);
        } catch (RuntimeException e) {
            memory.release();
            throw e;
        }
    }

    /**
     * Copies a strided view of this array (broadcast strides allowed) into a new contiguous one.
     */
    MambaNDArray materialize(long[] shape, long[] viewStrides, DataType target) {
        MambaNDArray out = allocateLike(Strides.shape(shape), target, false);
        backend()
                .copy(
                        shape,
                        type,
                        address(),
                        viewStrides,
                        out.type,
                        out.address(),
                        Strides.contiguous(shape));
        return out;
    }

    /** Returns this array if it is contiguous, otherwise a contiguous copy (to be closed). */
    MambaNDArray contiguous() {
        return isContiguous() ? this : materialize(dims(), strides, dataType);
    }

    /** Records that a kernel wrote this array's memory in place. */
    void written() {
        memory.written();
    }

    /**
     * Copies values (broadcast to this array's shape, converted to its type) into this array;
     * values on another device are moved here first.
     */
    void assign(MambaNDArray value, String operation) {
        MambaNDArray v = value.moveTo(backend());
        try {
            long[] s =
                    Strides.broadcastStrides(
                            v.dims(), v.strides, dims(), operation + " (assigned value)");
            backend().copy(dims(), v.type, v.address(), s, type, address(), strides);
            memory.written();
        } finally {
            if (v != value) {
                v.close();
            }
        }
    }

    /**
     * Returns this array if its memory is on the target backend, otherwise a contiguous copy there
     * (attached to this array's manager, to be closed). Host to device copies wait until the data
     * has left the host memory; device to host copies wait for the device.
     *
     * @param target where the data should be
     * @return this array or the copy
     */
    MambaNDArray moveTo(Backend target) {
        Backend from = backend();
        if (from == target) {
            return this;
        }
        if (from instanceof CudaBackend && target instanceof CudaBackend) {
            try (MambaNDArray host = moveTo(HostBackend.INSTANCE)) {
                return host.moveTo(target);
            }
        }
        MambaNDArray c = contiguous();
        try {
            MambaNDArray out = allocate(getManager(), target, getShape(), dataType, false);
            try {
                long bytes = getShape().size() * type.byteSize();
                if (target instanceof CudaBackend) {
                    CudaBackend gpu = (CudaBackend) target;
                    CudaTensorOps.upload(gpu.stream(), out.address(), c.address(), bytes);
                    gpu.synchronize();
                } else {
                    CudaBackend gpu = (CudaBackend) from;
                    CudaTensorOps.download(gpu.stream(), out.address(), c.address(), bytes);
                    gpu.synchronize();
                }
                return out;
            } catch (RuntimeException e) {
                out.close();
                throw e;
            }
        } finally {
            if (c != this) {
                c.close();
            }
        }
    }

    /**
     * Copies this array to a device (host memory or a CUDA GPU); the copy is attached to this
     * array's manager, as DJL's PyTorch engine does.
     *
     * @param device the target device
     * @param copy whether to copy when the array is on that device already
     * @return the array on the device
     */
    @Override
    public NDArray toDevice(Device device, boolean copy) {
        Backend target = Backend.of(device);
        if (target == backend()) {
            return copy ? duplicate() : this;
        }
        MambaNDArray out = moveTo(target);
        out.setName(getName());
        return out;
    }

    // ------------------------------------------------------------------ data

    /** {@inheritDoc} */
    @Override
    public ByteBuffer toByteBuffer(boolean tryDirect) {
        if (backend() instanceof CudaBackend) {
            try (MambaNDArray host = moveTo(HostBackend.INSTANCE)) {
                return host.toByteBuffer(tryDirect);
            }
        }
        MambaNDArray c = contiguous();
        try {
            long bytes = getShape().size() * type.byteSize();
            ByteBuffer out = ByteBuffer.allocateDirect(Math.toIntExact(bytes));
            out.order(ByteOrder.nativeOrder());
            if (bytes > 0) {
                out.put(new Pointer(c.address()).getByteBuffer(0, bytes));
            }
            out.rewind();
            return out;
        } finally {
            if (c != this) {
                c.close();
            }
        }
    }

    /** {@inheritDoc} */
    @Override
    public void set(Buffer buffer) {
        try (MambaNDArray values = getManager().create(buffer, getShape(), dataType)) {
            assign(values, "set");
        }
    }

    /** {@inheritDoc} */
    @Override
    public void intern(NDArray replaced) {
        MambaNDArray other = (MambaNDArray) replaced;
        if (other.dataType != dataType) {
            throw new IllegalArgumentException(
                    "intern: data types differ (" + dataType + " vs " + other.dataType + ")");
        }
        ArrayMemory previous = memory;
        other.memory.retain();
        memory = other.memory;
        offset = other.offset;
        strides = other.strides.clone();
        shape = other.getShape();
        previous.release();
        other.close();
    }

    /** {@inheritDoc} */
    @Override
    public void attach(NDManager manager) {
        super.attach(manager);
        alternativeManager = ((MambaNDManager) manager).alternative();
    }

    /** {@inheritDoc} */
    @Override
    public void returnResource(NDManager manager) {
        detach();
        this.manager = manager;
        manager.attachUncappedInternal(getUid(), this);
    }

    /** {@inheritDoc} */
    @Override
    public void detach() {
        manager.detachInternal(getUid());
        manager = MambaNDManager.getSystemManager();
    }

    /** {@inheritDoc} */
    @Override
    public MambaNDArray duplicate() {
        return materialize(dims(), strides, dataType);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray toType(DataType dataType, boolean copy) {
        if (dataType == this.dataType && !copy) {
            return this;
        }
        DTypes.of(dataType, "toType");
        return materialize(dims(), strides, dataType);
    }

    /** {@inheritDoc} */
    @Override
    public void close() {
        if (!isClosed) {
            super.close();
            ArrayMemory m = memory;
            memory = null;
            if (m != null) {
                m.release();
            }
            if (stateMatrix != null) {
                stateMatrix.close();
            }
        }
    }

    /** {@inheritDoc} */
    @Override
    public MambaNDArrayEx getNDArrayInternal() {
        if (ex == null) {
            ex = new MambaNDArrayEx(this);
        }
        return ex;
    }

    /** {@inheritDoc} */
    @Override
    public NDArray get(NDIndex index) {
        return get(manager, index);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray get(NDManager manager, NDIndex index) {
        return getNDArrayInternal().getIndexer(manager).get(this, index);
    }

    /** {@inheritDoc} */
    @Override
    public void set(NDIndex index, NDArray value) {
        getNDArrayInternal().getIndexer(manager).set(this, index, value);
    }

    /** {@inheritDoc} */
    @Override
    public void set(NDIndex index, Number value) {
        getNDArrayInternal().getIndexer(manager).set(this, index, value);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray take(NDManager manager, NDArray index) {
        try (MambaNDArray flat = (MambaNDArray) flatten()) {
            return MambaNDArrayIndexer.take(flat, index, 0);
        }
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        if (isClosed) {
            return "This array is already closed";
        }
        return toDebugString(true);
    }

    // ------------------------------------------------------------ elementwise

    MambaNDArray operand(NDArray other, String operation) {
        if (other instanceof MambaNDArray) {
            MambaNDArray m = (MambaNDArray) other;
            if (m.backend() != backend()) {
                throw new IllegalArgumentException(
                        operation
                                + ": the arrays are on different devices ("
                                + getDevice()
                                + " and "
                                + m.getDevice()
                                + "); move one with toDevice first");
            }
            return m;
        }
        if (other == null) {
            throw new IllegalArgumentException(operation + ": the other array is null");
        }
        MambaNDArray m = getManager().from(other);
        if (m.backend() == backend()) {
            return m;
        }
        try (m) {
            return m.moveTo(backend());
        }
    }

    /**
     * Returns another array on this array's device: itself when it is there, otherwise a copy (to
     * be closed), for small auxiliary inputs such as gather indices.
     */
    MambaNDArray onThisDevice(NDArray other, String operation) {
        if (other instanceof MambaNDArray) {
            return ((MambaNDArray) other).moveTo(backend());
        }
        return operand(other, operation);
    }

    MambaNDArray scalar(Number n) {
        MambaNDArray s = allocateLike(new Shape(), dataType, false);
        backend().fill(type, s.address(), 1, n.doubleValue());
        return s;
    }

    MambaNDArray binary(Binary op, NDArray other, String operation) {
        MambaNDArray b = operand(other, operation);
        try {
            if (b.dataType != dataType) {
                throw new IllegalArgumentException(
                        operation
                                + ": data types differ ("
                                + dataType
                                + " and "
                                + b.dataType
                                + "); convert one with toType first");
            }
            long[] outShape = Strides.broadcastShape(dims(), b.dims(), operation);
            long[] as = Strides.broadcastStrides(dims(), strides, outShape, operation);
            long[] bs = Strides.broadcastStrides(b.dims(), b.strides, outShape, operation);
            MambaNDArray out =
                    allocateLike(
                            Strides.shape(outShape),
                            op.isPredicate() ? DataType.BOOLEAN : dataType,
                            false);
            backend().binary(op, type, outShape, address(), as, b.address(), bs, out.address());
            return out;
        } finally {
            if (b != other) {
                b.close();
            }
        }
    }

    MambaNDArray binary(Binary op, Number n, String operation) {
        try (MambaNDArray s = scalar(n)) {
            return binary(op, s, operation);
        }
    }

    MambaNDArray unary(Unary op, double scalar) {
        MambaNDArray out =
                allocateLike(
                        getShape(), op == Unary.LOGICAL_NOT ? DataType.BOOLEAN : dataType, false);
        backend().unary(op, type, dims(), address(), strides, scalar, out.address());
        return out;
    }

    private MambaNDArray inPlace(MambaNDArray result, String operation) {
        try (result) {
            if (!result.getShape().equals(getShape())) {
                throw new IllegalArgumentException(
                        operation
                                + ": the result has shape "
                                + result.getShape()
                                + " but the array to update has "
                                + getShape());
            }
            assign(result, operation);
        }
        return this;
    }

    /** {@inheritDoc} */
    @Override
    public NDArray add(Number n) {
        return binary(Binary.ADD, n, "add");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray add(NDArray other) {
        return binary(Binary.ADD, other, "add");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray sub(Number n) {
        return binary(Binary.SUB, n, "sub");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray sub(NDArray other) {
        return binary(Binary.SUB, other, "sub");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray mul(Number n) {
        return binary(Binary.MUL, n, "mul");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray mul(NDArray other) {
        return binary(Binary.MUL, other, "mul");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray div(Number n) {
        return binary(Binary.DIV, n, "div");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray div(NDArray other) {
        return binary(Binary.DIV, other, "div");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray pow(Number n) {
        return unary(Unary.POW_SCALAR, n.doubleValue());
    }

    /** {@inheritDoc} */
    @Override
    public NDArray pow(NDArray other) {
        return binary(Binary.POW, other, "pow");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray addi(Number n) {
        return inPlace(binary(Binary.ADD, n, "addi"), "addi");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray addi(NDArray other) {
        return inPlace(binary(Binary.ADD, other, "addi"), "addi");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray subi(Number n) {
        return inPlace(binary(Binary.SUB, n, "subi"), "subi");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray subi(NDArray other) {
        return inPlace(binary(Binary.SUB, other, "subi"), "subi");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray muli(Number n) {
        return inPlace(binary(Binary.MUL, n, "muli"), "muli");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray muli(NDArray other) {
        return inPlace(binary(Binary.MUL, other, "muli"), "muli");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray divi(Number n) {
        return inPlace(binary(Binary.DIV, n, "divi"), "divi");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray divi(NDArray other) {
        return inPlace(binary(Binary.DIV, other, "divi"), "divi");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray powi(Number n) {
        return inPlace(unary(Unary.POW_SCALAR, n.doubleValue()), "powi");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray maximum(Number n) {
        return binary(Binary.MAX, n, "maximum");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray maximum(NDArray other) {
        return binary(Binary.MAX, other, "maximum");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray minimum(Number n) {
        return binary(Binary.MIN, n, "minimum");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray minimum(NDArray other) {
        return binary(Binary.MIN, other, "minimum");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray eq(Number n) {
        return binary(Binary.EQ, n, "eq");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray eq(NDArray other) {
        return binary(Binary.EQ, other, "eq");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray neq(Number n) {
        return binary(Binary.NE, n, "neq");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray neq(NDArray other) {
        return binary(Binary.NE, other, "neq");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray gt(Number n) {
        return binary(Binary.GT, n, "gt");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray gt(NDArray other) {
        return binary(Binary.GT, other, "gt");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray gte(Number n) {
        return binary(Binary.GE, n, "gte");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray gte(NDArray other) {
        return binary(Binary.GE, other, "gte");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray lt(Number n) {
        return binary(Binary.LT, n, "lt");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray lt(NDArray other) {
        return binary(Binary.LT, other, "lt");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray lte(Number n) {
        return binary(Binary.LE, n, "lte");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray lte(NDArray other) {
        return binary(Binary.LE, other, "lte");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray logicalAnd(NDArray other) {
        return binary(Binary.AND, other, "logicalAnd");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray logicalOr(NDArray other) {
        return binary(Binary.OR, other, "logicalOr");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray logicalXor(NDArray other) {
        return binary(Binary.XOR, other, "logicalXor");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray logicalNot() {
        return unary(Unary.LOGICAL_NOT, 0);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray neg() {
        return unary(Unary.NEG, 0);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray negi() {
        return inPlace(unary(Unary.NEG, 0), "negi");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray abs() {
        return unary(Unary.ABS, 0);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray square() {
        return unary(Unary.SQUARE, 0);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray sqrt() {
        return unary(Unary.SQRT, 0);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray exp() {
        return unary(Unary.EXP, 0);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray log() {
        return unary(Unary.LOG, 0);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray tanh() {
        return unary(Unary.TANH, 0);
    }

    // ------------------------------------------------------------- reductions

    private MambaNDArray reduce(Reduce op, int[] axes, boolean keepDims, String operation) {
        long[] shape = dims();
        int rank = shape.length;
        boolean[] reduced = new boolean[rank];
        for (int a : axes) {
            reduced[Strides.axis(a, rank, operation)] = true;
        }
        MambaNDArray current = contiguous();
        if (current.dataType == DataType.BOOLEAN
                || (current.dataType == DataType.INT32
                        && (op == Reduce.SUM || op == Reduce.PROD))) {
            MambaNDArray widened =
                    current.materialize(current.dims(), current.strides, DataType.INT64);
            if (current != this) {
                current.close();
            }
            current = widened;
        }
        try {
            for (int axis = rank - 1; axis >= 0; axis--) {
                if (!reduced[axis]) {
                    continue;
                }
                long n = shape[axis];
                if (n == 0) {
                    throw new IllegalArgumentException(
                            operation
                                    + ": cannot reduce axis "
                                    + axis
                                    + " of size 0 in "
                                    + getShape());
                }
                long outer = Strides.product(shape, 0, axis);
                long inner = Strides.product(shape, axis + 1, rank);
                shape[axis] = 1;
                DataType outType =
                        op == Reduce.ARGMAX || op == Reduce.ARGMIN
                                ? DataType.INT64
                                : current.dataType;
                MambaNDArray out = allocateLike(Strides.shape(shape), outType, false);
                backend()
                        .reduce(
                                op,
                                current.type,
                                current.address(),
                                outer,
                                n,
                                inner,
                                out.address());
                if (current != this) {
                    current.close();
                }
                current = out;
            }
            if (current == this) {
                current = duplicate();
            }
            if (keepDims) {
                return current;
            }
            long[] kept = new long[rank - countTrue(reduced)];
            for (int i = 0, j = 0; i < rank; i++) {
                if (!reduced[i]) {
                    kept[j++] = shape[i];
                }
            }
            try (MambaNDArray full = current) {
                current = null;
                return full.view(0, kept, Strides.contiguous(kept));
            }
        } catch (RuntimeException e) {
            if (current != null && current != this) {
                current.close();
            }
            throw e;
        }
    }

    private static int countTrue(boolean[] flags) {
        int n = 0;
        for (boolean f : flags) {
            n += f ? 1 : 0;
        }
        return n;
    }

    private int[] allAxes() {
        int[] axes = new int[getShape().dimension()];
        for (int i = 0; i < axes.length; i++) {
            axes[i] = i;
        }
        return axes;
    }

    /** {@inheritDoc} */
    @Override
    public NDArray sum() {
        return reduce(Reduce.SUM, allAxes(), false, "sum");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray sum(int[] axes, boolean keepDims) {
        return reduce(Reduce.SUM, axes, keepDims, "sum");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray mean() {
        return reduce(Reduce.MEAN, allAxes(), false, "mean");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray mean(int[] axes, boolean keepDims) {
        return reduce(Reduce.MEAN, axes, keepDims, "mean");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray max() {
        return reduce(Reduce.MAX, allAxes(), false, "max");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray max(int[] axes, boolean keepDims) {
        return reduce(Reduce.MAX, axes, keepDims, "max");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray min() {
        return reduce(Reduce.MIN, allAxes(), false, "min");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray min(int[] axes, boolean keepDims) {
        return reduce(Reduce.MIN, axes, keepDims, "min");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray prod() {
        return reduce(Reduce.PROD, allAxes(), false, "prod");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray prod(int[] axes, boolean keepDims) {
        return reduce(Reduce.PROD, axes, keepDims, "prod");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray argMax() {
        try (MambaNDArray flat = (MambaNDArray) flatten()) {
            return flat.reduce(Reduce.ARGMAX, new int[] {0}, false, "argMax");
        }
    }

    /** {@inheritDoc} */
    @Override
    public NDArray argMax(int axis) {
        return reduce(Reduce.ARGMAX, new int[] {axis}, false, "argMax");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray argMin() {
        try (MambaNDArray flat = (MambaNDArray) flatten()) {
            return flat.reduce(Reduce.ARGMIN, new int[] {0}, false, "argMin");
        }
    }

    /** {@inheritDoc} */
    @Override
    public NDArray argMin(int axis) {
        return reduce(Reduce.ARGMIN, new int[] {axis}, false, "argMin");
    }

    private MambaNDArray alongAxis(int axis, String operation, AxisOp op) {
        long[] shape = dims();
        if (shape.length == 0) {
            throw new IllegalArgumentException(operation + " needs an array of rank 1 or more");
        }
        int a = Strides.axis(axis, shape.length, operation);
        MambaNDArray c = contiguous();
        try {
            MambaNDArray out = allocateLike(getShape(), dataType, false);
            if (shape[a] > 0) {
                op.run(
                        c.address(),
                        Strides.product(shape, 0, a),
                        shape[a],
                        Strides.product(shape, a + 1, shape.length),
                        out.address());
            }
            return out;
        } finally {
            if (c != this) {
                c.close();
            }
        }
    }

    /** A native operation over the middle axis of {@code [outer, n, inner]}. */
    private interface AxisOp {
        void run(long x, long outer, long n, long inner, long out);
    }

    private void requireFloating(String operation) {
        if (!type.isFloating()) {
            throw new IllegalArgumentException(
                    operation + " needs a floating-point array, got " + dataType);
        }
    }

    /** {@inheritDoc} */
    @Override
    public NDArray softmax(int axis) {
        requireFloating("softmax");
        return alongAxis(
                axis,
                "softmax",
                (x, o, n, i, out) -> backend().softmax(type, x, o, n, i, false, out));
    }

    /** {@inheritDoc} */
    @Override
    public NDArray logSoftmax(int axis) {
        requireFloating("logSoftmax");
        return alongAxis(
                axis,
                "logSoftmax",
                (x, o, n, i, out) -> backend().softmax(type, x, o, n, i, true, out));
    }

    /** {@inheritDoc} */
    @Override
    public NDArray cumSum(int axis) {
        return alongAxis(
                axis, "cumSum", (x, o, n, i, out) -> backend().cumsum(type, x, o, n, i, out));
    }

    /**
     * Returns the cumulative sum along axis 0, as DJL's PyTorch and Rust engines do (a scalar
     * becomes a one-element array).
     *
     * @return the cumulative sum
     */
    @Override
    public NDArray cumSum() {
        if (getShape().dimension() == 0) {
            try (NDArray one = reshape(new Shape(1))) {
                return one.duplicate();
            }
        }
        return cumSum(0);
    }

    /** {@inheritDoc} */
    @Override
    public NDList topK(int k, int axis, boolean largest, boolean sorted) {
        long[] shape = dims();
        if (shape.length == 0) {
            throw new IllegalArgumentException("topK needs an array of rank 1 or more");
        }
        int a = Strides.axis(axis, shape.length, "topK");
        if (k < 1 || k > shape[a]) {
            throw new IllegalArgumentException(
                    "topK: k = "
                            + k
                            + " must be in [1, "
                            + shape[a]
                            + "] for axis "
                            + a
                            + " of "
                            + getShape());
        }
        long[] outShape = shape.clone();
        outShape[a] = k;
        MambaNDArray c = contiguous();
        try {
            MambaNDArray values = allocateLike(Strides.shape(outShape), dataType, false);
            MambaNDArray indices = allocateLike(Strides.shape(outShape), DataType.INT64, false);
            backend()
                    .topK(
                            type,
                            c.address(),
                            Strides.product(shape, 0, a),
                            shape[a],
                            Strides.product(shape, a + 1, shape.length),
                            k,
                            largest,
                            values.address(),
                            indices.address());
            return new NDList(values, indices);
        } finally {
            if (c != this) {
                c.close();
            }
        }
    }

    /**
     * Chooses one token per row of this {@code [rows, vocab]} array of logits ({@link
     * MambaSsmKernels#sampleTokens}).
     */
    MambaNDArray sampleTokens(MambaNDArray draws, SamplingSettings settings) {
        long[] shape = dims();
        MambaNDArray c = contiguous();
        MambaNDArray d = draws.contiguous();
        try {
            MambaNDArray tokens = allocateLike(new Shape(shape[0]), DataType.INT64, false);
            backend()
                    .sampleTokens(
                            type,
                            c.address(),
                            shape[0],
                            shape[1],
                            shape[1],
                            settings,
                            d.address(),
                            tokens.address());
            return tokens;
        } finally {
            if (c != this) {
                c.close();
            }
            if (d != draws) {
                d.close();
            }
        }
    }

    // ---------------------------------------------------------------- matmul

    /** {@inheritDoc} */
    @Override
    public NDArray matMul(NDArray other) {
        MambaNDArray b = operand(other, "matMul");
        try {
            return MatMul.run(this, b);
        } finally {
            if (b != other) {
                b.close();
            }
        }
    }

    /** {@inheritDoc} */
    @Override
    public NDArray batchMatMul(NDArray other) {
        if (getShape().dimension() != 3 || other.getShape().dimension() != 3) {
            throw new IllegalArgumentException(
                    "batchMatMul needs two 3-D arrays, got "
                            + getShape()
                            + " and "
                            + other.getShape());
        }
        return matMul(other);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray dot(NDArray other) {
        if (getShape().dimension() <= 2 && other.getShape().dimension() <= 2) {
            return matMul(other);
        }
        return super.dot(other);
    }

    // ---------------------------------------------------------------- shapes

    /** {@inheritDoc} */
    @Override
    public NDArray reshape(Shape newShape) {
        long[] target = Strides.inferShape(dims(), newShape.getShape());
        if (isContiguous()) {
            return view(0, target, Strides.contiguous(target));
        }
        long[] asView = Strides.viewStrides(dims(), strides, target);
        if (asView != null) {
            return view(0, target, asView);
        }
        try (MambaNDArray c = duplicate()) {
            return c.view(0, target, Strides.contiguous(target));
        }
    }

    /** {@inheritDoc} */
    @Override
    public NDArray flatten() {
        return reshape(new Shape(getShape().size()));
    }

    /** {@inheritDoc} */
    @Override
    public NDArray expandDims(int axis) {
        long[] shape = dims();
        int a = Strides.axis(axis, shape.length + 1, "expandDims");
        long[] s = new long[shape.length + 1];
        long[] st = new long[shape.length + 1];
        for (int i = 0, j = 0; i < s.length; i++) {
            if (i == a) {
                s[i] = 1;
                st[i] = 0;
            } else {
                s[i] = shape[j];
                st[i] = strides[j++];
            }
        }
        return view(0, s, st);
    }

    /**
     * Splits this array along an axis at the given indices into views (no copy): {@code [0,
     * indices[0])}, {@code [indices[0], indices[1])}, ..., {@code [indices[last], size)}.
     *
     * @param indices the increasing split points along the axis
     * @param axis the axis
     * @return the parts, views of this array owned by its manager
     */
    @Override
    public NDList split(long[] indices, int axis) {
        long[] dims = dims();
        int a = Strides.axis(axis, dims.length, "split");
        NDList parts = new NDList(indices.length + 1);
        try {
            long start = 0;
            for (int i = 0; i <= indices.length; i++) {
                long end = i < indices.length ? indices[i] : dims[a];
                if (end < start || end > dims[a]) {
                    throw new IllegalArgumentException(
                            "split: indices "
                                    + Arrays.toString(indices)
                                    + " must increase within axis "
                                    + a
                                    + " of "
                                    + getShape());
                }
                long[] part = dims.clone();
                part[a] = end - start;
                parts.add(view(part[a] > 0 ? start * strides[a] : 0, part, strides.clone()));
                start = end;
            }
            return parts;
        } catch (RuntimeException e) {
            parts.close();
            throw e;
        }
    }

    /** {@inheritDoc} */
    @Override
    public NDArray squeeze(int[] axes) {
        long[] shape = dims();
        boolean[] drop = new boolean[shape.length];
        for (int axis : axes) {
            int a = Strides.axis(axis, shape.length, "squeeze");
            if (shape[a] != 1) {
                throw new IllegalArgumentException(
                        "squeeze: axis "
                                + a
                                + " of "
                                + getShape()
                                + " has size "
                                + shape[a]
                                + ", not 1");
            }
            drop[a] = true;
        }
        int n = shape.length - countTrue(drop);
        long[] s = new long[n];
        long[] st = new long[n];
        for (int i = 0, j = 0; i < shape.length; i++) {
            if (!drop[i]) {
                s[j] = shape[i];
                st[j++] = strides[i];
            }
        }
        return view(0, s, st);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray transpose() {
        int rank = getShape().dimension();
        int[] axes = new int[rank];
        for (int i = 0; i < rank; i++) {
            axes[i] = rank - 1 - i;
        }
        return transpose(axes);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray transpose(int... axes) {
        long[] shape = dims();
        if (axes.length != shape.length) {
            throw new IllegalArgumentException(
                    "transpose: "
                            + Arrays.toString(axes)
                            + " must name each of the "
                            + shape.length
                            + " axes of "
                            + getShape()
                            + " once");
        }
        boolean[] seen = new boolean[shape.length];
        long[] s = new long[shape.length];
        long[] st = new long[shape.length];
        for (int i = 0; i < axes.length; i++) {
            int a = Strides.axis(axes[i], shape.length, "transpose");
            if (seen[a]) {
                throw new IllegalArgumentException(
                        "transpose: axis " + a + " repeats in " + Arrays.toString(axes));
            }
            seen[a] = true;
            s[i] = shape[a];
            st[i] = strides[a];
        }
        return view(0, s, st);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray swapAxes(int axis1, int axis2) {
        int rank = getShape().dimension();
        int[] axes = new int[rank];
        for (int i = 0; i < rank; i++) {
            axes[i] = i;
        }
        int a = Strides.axis(axis1, rank, "swapAxes");
        int b = Strides.axis(axis2, rank, "swapAxes");
        axes[a] = b;
        axes[b] = a;
        return transpose(axes);
    }

    /**
     * Repeats each element {@code repeat} times along an axis ({@code repeat_interleave}), as the
     * grouped-query attention and the grouped SSM parameters need.
     *
     * @param axis the axis
     * @param repeat how many times each element appears
     * @return the repeated array
     */
    @Override
    public NDArray repeat(int axis, long repeat) {
        long[] shape = dims();
        int a = Strides.axis(axis, shape.length, "repeat");
        if (repeat < 1) {
            throw new IllegalArgumentException("repeat: repeat must be positive, got " + repeat);
        }
        long[] expanded = new long[shape.length + 1];
        long[] expandedStrides = new long[shape.length + 1];
        for (int i = 0, j = 0; i < expanded.length; i++) {
            if (i == a + 1) {
                expanded[i] = repeat;
                expandedStrides[i] = 0;
            } else {
                expanded[i] = shape[j];
                expandedStrides[i] = strides[j++];
            }
        }
        long[] target = shape.clone();
        target[a] *= repeat;
        try (MambaNDArray copy = materialize(expanded, expandedStrides, dataType)) {
            return copy.view(0, target, Strides.contiguous(target));
        }
    }

    /**
     * Returns a view of the same memory: this engine records no gradients.
     *
     * @return the view
     */
    @Override
    public NDArray stopGradient() {
        return view(0, dims(), strides);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray isNaN() {
        return binary(Binary.NE, this, "isNaN");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray isInfinite() {
        try (MambaNDArray magnitude = unary(Unary.ABS, 0)) {
            return magnitude.binary(Binary.EQ, Double.POSITIVE_INFINITY, "isInfinite");
        }
    }

    /** {@inheritDoc} */
    @Override
    public NDArray broadcast(Shape target) {
        long[] t = target.getShape();
        long[] st = Strides.broadcastStrides(dims(), strides, t, "broadcast");
        return materialize(t, st, dataType);
    }
}
