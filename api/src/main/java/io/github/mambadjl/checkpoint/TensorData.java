package io.github.mambadjl.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * A read-only view of one stored tensor: its name, element type, shape and little-endian bytes.
 *
 * <p>Tensors of a memory-mapped file are not copied into the Java heap: {@link #data()} is a slice
 * of the mapping. A view becomes unreadable once its file is closed.
 */
public final class TensorData {

    /** Produces the tensor's bytes on demand. */
    @FunctionalInterface
    interface ByteSource {
        ByteBuffer read() throws IOException;
    }

    private final String name;
    private final TensorDType dtype;
    private final long[] shape;
    private final ByteSource source;

    TensorData(String name, TensorDType dtype, long[] shape, ByteSource source) {
        this.name = Objects.requireNonNull(name, "name");
        this.dtype = Objects.requireNonNull(dtype, "dtype");
        this.shape = shape.clone();
        this.source = source;
        for (long dim : shape) {
            if (dim < 0) {
                throw new IllegalArgumentException(
                        "Tensor " + name + " has a negative dimension: " + Arrays.toString(shape));
            }
        }
    }

    /**
     * Creates a tensor over the given bytes.
     *
     * @param name the tensor name
     * @param dtype the element type
     * @param shape the shape
     * @param data the little-endian bytes, exactly {@code numel * dtype.byteSize()} of them from
     *     its position; it is not copied
     * @return the tensor
     * @throws IllegalArgumentException if the size of the data disagrees with the shape
     */
    public static TensorData of(String name, TensorDType dtype, long[] shape, ByteBuffer data) {
        ByteBuffer view = data.slice().order(ByteOrder.LITTLE_ENDIAN).asReadOnlyBuffer();
        TensorData tensor = new TensorData(name, dtype, shape, () -> view.duplicate());
        if (tensor.byteSize() != view.remaining()) {
            throw new IllegalArgumentException(
                    "Tensor "
                            + name
                            + " of shape "
                            + Arrays.toString(shape)
                            + " and dtype "
                            + dtype
                            + " needs "
                            + tensor.byteSize()
                            + " bytes, got "
                            + view.remaining());
        }
        return tensor;
    }

    /**
     * Creates a float32 tensor from values.
     *
     * @param name the tensor name
     * @param shape the shape
     * @param values the values in row-major order
     * @return the tensor
     */
    public static TensorData ofFloats(String name, long[] shape, float... values) {
        ByteBuffer buffer =
                ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buffer.asFloatBuffer().put(values);
        return of(name, TensorDType.F32, shape, buffer);
    }

    /**
     * Creates an int64 tensor from values.
     *
     * @param name the tensor name
     * @param shape the shape
     * @param values the values in row-major order
     * @return the tensor
     */
    public static TensorData ofLongs(String name, long[] shape, long... values) {
        ByteBuffer buffer =
                ByteBuffer.allocate(values.length * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buffer.asLongBuffer().put(values);
        return of(name, TensorDType.I64, shape, buffer);
    }

    /**
     * Creates a tensor holding a copy of an NDArray's values.
     *
     * @param name the tensor name
     * @param array the array
     * @return the tensor
     */
    public static TensorData fromNDArray(String name, NDArray array) {
        ByteBuffer bytes = array.toByteBuffer();
        ByteBuffer copy = ByteBuffer.allocate(bytes.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        copy.put(bytes.order(ByteOrder.LITTLE_ENDIAN)).flip();
        return of(name, TensorDType.of(array.getDataType()), array.getShape().getShape(), copy);
    }

    /**
     * Returns the tensor name.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * Returns the element type.
     *
     * @return the type
     */
    public TensorDType dtype() {
        return dtype;
    }

    /**
     * Returns a copy of the shape.
     *
     * @return the dimensions
     */
    public long[] shape() {
        return shape.clone();
    }

    /**
     * Returns the shape as a DJL {@link Shape}.
     *
     * @return the shape
     */
    public Shape djlShape() {
        return new Shape(shape);
    }

    /**
     * Returns the number of elements.
     *
     * @return the product of the dimensions
     */
    public long numel() {
        long n = 1;
        for (long dim : shape) {
            n = Math.multiplyExact(n, dim);
        }
        return n;
    }

    /**
     * Returns the size of the data in bytes.
     *
     * @return {@code numel() * dtype().byteSize()}
     */
    public long byteSize() {
        return Math.multiplyExact(numel(), dtype.byteSize());
    }

    /**
     * Returns the same tensor under another name.
     *
     * @param newName the new name
     * @return the renamed view, sharing the data
     */
    public TensorData withName(String newName) {
        return new TensorData(newName, dtype, shape, source);
    }

    /**
     * Returns the tensor's bytes: a read-only little-endian buffer positioned at 0 whose remaining
     * bytes are exactly the row-major data. For a safetensors file it is a view of the read-only
     * file mapping: copy it before handing it to code that may write through it (an engine may
     * alias a direct buffer); {@link #toNDArray(NDManager, DataType)} does so.
     *
     * @return the bytes
     * @throws UncheckedIOException if the bytes cannot be read from their file
     * @throws IllegalStateException if the file was closed
     */
    public ByteBuffer data() {
        try {
            return source.read().order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "Cannot read the data of tensor " + name + ": " + e.getMessage(), e);
        }
    }

    /**
     * Returns the values converted to float (F16 and BF16 exactly, F64 and 64-bit integers
     * rounded).
     *
     * @return a new array of {@code numel()} floats
     * @throws IllegalStateException if the tensor has more than {@code Integer.MAX_VALUE - 8}
     *     elements
     */
    public float[] toFloatArray() {
        long n = numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException(
                    "Tensor " + name + " has " + n + " elements, too many for a Java array");
        }
        float[] out = new float[(int) n];
        ByteBuffer data = data();
        for (int i = 0; i < out.length; i++) {
            out[i] =
                    switch (dtype) {
                        case F32 -> data.getFloat(i * 4);
                        case F16 -> Float.intBitsToFloat(halfToFloatBits(data.getShort(i * 2)));
                        case BF16 -> Float.intBitsToFloat((data.getShort(i * 2) & 0xFFFF) << 16);
                        case F64 -> (float) data.getDouble(i * 8);
                        case I64 -> data.getLong(i * 8);
                        case I32 -> data.getInt(i * 4);
                        case I16 -> data.getShort(i * 2);
                        case I8 -> data.get(i);
                        case U8, BOOL -> data.get(i) & 0xFF;
                    };
        }
        return out;
    }

    /**
     * Creates an NDArray with this tensor's values and type.
     *
     * @param manager the manager that owns the new array
     * @return the array
     */
    public NDArray toNDArray(NDManager manager) {
        return toNDArray(manager, dtype.toDataType());
    }

    /**
     * Creates an NDArray with this tensor's values converted to the given type. The array owns a
     * copy of the data: it stays valid and writable after the checkpoint is closed.
     *
     * @param manager the manager that owns the new array
     * @param target the data type of the array
     * @return the array
     */
    public NDArray toNDArray(NDManager manager, DataType target) {
        Shape djlShape = djlShape();
        DataType stored = dtype.toDataType();
        if (target == stored) {
            // An engine may alias a direct buffer; the copy keeps the array writable and
            // independent of the read-only file mapping.
            try (NDArray raw = manager.create(data(), djlShape, stored)) {
                return raw.duplicate();
            }
        }
        if (target == DataType.FLOAT32 && (dtype == TensorDType.F16 || dtype == TensorDType.BF16)) {
            return manager.create(toFloatArray(), djlShape);
        }
        try (NDArray raw = manager.create(data(), djlShape, stored)) {
            return raw.toType(target, true);
        }
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }

    /** Converts IEEE 754 half-precision bits to float bits, subnormals included. */
    static int halfToFloatBits(short half) {
        int h = half & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1F;
        int mantissa = h & 0x3FF;
        if (exponent == 0x1F) {
            return sign | 0x7F800000 | (mantissa << 13);
        }
        if (exponent == 0) {
            if (mantissa == 0) {
                return sign;
            }
            int shift = Integer.numberOfLeadingZeros(mantissa) - 21;
            mantissa = (mantissa << shift) & 0x3FF;
            exponent = 1 - shift;
        }
        return sign | ((exponent + 112) << 23) | (mantissa << 13);
    }
}
