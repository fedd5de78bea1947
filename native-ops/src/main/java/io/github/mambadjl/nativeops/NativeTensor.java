package io.github.mambadjl.nativeops;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A view of native memory (host or CUDA device) as a strided tensor: an address, the number of
 * bytes that may be touched from it, a dtype, a shape and strides in elements.
 *
 * <p>A {@code NativeTensor} does not own its memory; whoever allocated it frees it. The kernel
 * wrappers use the capacity to refuse any call that would read or write outside the memory, so that
 * a wrong shape becomes an exception rather than a crash.
 */
public final class NativeTensor {

    private final long address;
    private final long capacityBytes;
    private final DType dtype;
    private final long[] shape;
    private final long[] strides;

    private NativeTensor(
            long address, long capacityBytes, DType dtype, long[] shape, long[] strides) {
        if (shape.length != strides.length) {
            throw new IllegalArgumentException(
                    "shape "
                            + Arrays.toString(shape)
                            + " and strides "
                            + Arrays.toString(strides)
                            + " differ in rank");
        }
        if (capacityBytes < 0) {
            throw new IllegalArgumentException("negative capacity " + capacityBytes);
        }
        this.address = address;
        this.capacityBytes = capacityBytes;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.strides = strides.clone();
    }

    /**
     * Wraps native memory as a contiguous (row-major) tensor.
     *
     * @param address the first byte (0 stands for a null pointer)
     * @param capacityBytes how many bytes from {@code address} may be touched
     * @param dtype the element type
     * @param shape the dimensions
     * @return the view
     */
    public static NativeTensor wrap(long address, long capacityBytes, DType dtype, long... shape) {
        return new NativeTensor(address, capacityBytes, dtype, shape, contiguousStrides(shape));
    }

    /**
     * Wraps a direct byte buffer (from its position to its limit) as a contiguous tensor.
     *
     * @param buffer a direct buffer
     * @param dtype the element type
     * @param shape the dimensions
     * @return the view
     */
    public static NativeTensor of(ByteBuffer buffer, DType dtype, long... shape) {
        if (!buffer.isDirect()) {
            throw new IllegalArgumentException(
                    "native kernels need a direct ByteBuffer (ByteBuffer.allocateDirect)");
        }
        long base = Pointer.nativeValue(Native.getDirectBufferPointer(buffer));
        return wrap(base + buffer.position(), buffer.remaining(), dtype, shape);
    }

    /**
     * Returns row-major strides (in elements) of a shape.
     *
     * @param shape the dimensions
     * @return the strides
     */
    public static long[] contiguousStrides(long... shape) {
        long[] strides = new long[shape.length];
        long step = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            strides[i] = step;
            step *= Math.max(shape[i], 1);
        }
        return strides;
    }

    /**
     * Returns a view of the same memory with other shape and strides, starting {@code
     * elementOffset} elements further.
     *
     * @param elementOffset the offset of the view's first element, in elements
     * @param newShape the view's shape
     * @param newStrides the view's strides in elements
     * @return the view
     */
    public NativeTensor view(long elementOffset, long[] newShape, long[] newStrides) {
        long offsetBytes = elementOffset * dtype.byteSize();
        if (elementOffset < 0 || offsetBytes > capacityBytes) {
            throw new IllegalArgumentException(
                    "view offset " + elementOffset + " is outside " + describe());
        }
        return new NativeTensor(
                address == 0 ? 0 : address + offsetBytes,
                capacityBytes - offsetBytes,
                dtype,
                newShape,
                newStrides);
    }

    /**
     * Returns the same memory with other strides.
     *
     * @param newStrides strides in elements, one per dimension
     * @return the view
     */
    public NativeTensor withStrides(long... newStrides) {
        return new NativeTensor(address, capacityBytes, dtype, shape, newStrides);
    }

    /**
     * Returns the address, as JNA expects it ({@code null} for address 0).
     *
     * @return the pointer
     */
    public Pointer pointer() {
        return address == 0 ? null : new Pointer(address);
    }

    /**
     * Returns the address of the first element.
     *
     * @return the address, 0 for a null pointer
     */
    public long address() {
        return address;
    }

    /**
     * Returns the number of bytes that may be touched from the address.
     *
     * @return the capacity
     */
    public long capacityBytes() {
        return capacityBytes;
    }

    /**
     * Returns the element type.
     *
     * @return the dtype
     */
    public DType dtype() {
        return dtype;
    }

    /**
     * Returns the rank.
     *
     * @return the number of dimensions
     */
    public int rank() {
        return shape.length;
    }

    /**
     * Returns one dimension.
     *
     * @param axis the axis
     * @return its size
     */
    public long size(int axis) {
        return shape[axis];
    }

    /**
     * Returns one stride, in elements.
     *
     * @param axis the axis
     * @return its stride
     */
    public long stride(int axis) {
        return strides[axis];
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
     * Returns the number of elements.
     *
     * @return the product of the dimensions
     */
    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /**
     * Checks that every element of the view lies inside the memory.
     *
     * @param operation the operation, for the message
     * @param name the argument's name, for the message
     */
    void checkBounds(String operation, String name) {
        long maxOffset = 0;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) {
                throw new IllegalArgumentException(
                        operation + ": " + name + " has a negative dimension: " + describe());
            }
            if (shape[i] == 0) {
                return;
            }
            if (strides[i] < 0) {
                throw new IllegalArgumentException(
                        operation + ": " + name + " has a negative stride: " + describe());
            }
            maxOffset += (shape[i] - 1) * strides[i];
        }
        long needed = (maxOffset + 1) * dtype.byteSize();
        if (needed > capacityBytes) {
            throw new IllegalArgumentException(
                    operation
                            + ": "
                            + name
                            + " "
                            + describe()
                            + " needs "
                            + needed
                            + " bytes but its memory holds "
                            + capacityBytes);
        }
    }

    /**
     * Describes the view for error messages: shape, dtype and strides.
     *
     * @return the description
     */
    public String describe() {
        return Arrays.toString(shape)
                + " "
                + dtype.name().toLowerCase(java.util.Locale.ROOT)
                + " strides "
                + Arrays.toString(strides)
                + (address == 0 ? " (null)" : "");
    }

    @Override
    public String toString() {
        return "NativeTensor" + describe();
    }
}
