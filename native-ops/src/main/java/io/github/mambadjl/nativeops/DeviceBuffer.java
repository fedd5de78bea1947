package io.github.mambadjl.nativeops;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.nio.ByteBuffer;

/**
 * CUDA device memory allocated in stream order ({@code cudaMallocAsync}); closing it frees the
 * memory in the order of the same stream. Copies are asynchronous: synchronise the stream before
 * reading a host buffer filled by {@link #copyTo}.
 */
public final class DeviceBuffer implements AutoCloseable {

    private final CudaStream stream;
    private final long bytes;
    private long address;

    private DeviceBuffer(CudaStream stream, long bytes, long address) {
        this.stream = stream;
        this.bytes = bytes;
        this.address = address;
    }

    /**
     * Allocates device memory on a stream.
     *
     * @param stream the stream that orders the allocation and later uses
     * @param bytes the size in bytes (positive)
     * @return the buffer
     * @throws NativeOpException if the device is out of memory
     */
    public static DeviceBuffer allocate(CudaStream stream, long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("device buffer size must be positive: " + bytes);
        }
        PointerByReference ref = new PointerByReference();
        CudaKernels.check(
                CudaLibrary.mops_cuda_malloc(stream.handle(), bytes, ref),
                "cuda_malloc",
                () -> bytes + " bytes");
        return new DeviceBuffer(stream, bytes, Pointer.nativeValue(ref.getValue()));
    }

    /**
     * Returns a contiguous tensor view of the whole buffer.
     *
     * @param dtype the element type
     * @param shape the dimensions
     * @return the view
     */
    public NativeTensor tensor(DType dtype, long... shape) {
        return NativeTensor.wrap(address(), bytes, dtype, shape);
    }

    /**
     * Queues a copy of a direct host buffer (position to limit) to the start of this buffer.
     *
     * @param src a direct buffer no larger than this one
     */
    public void copyFrom(ByteBuffer src) {
        copyFrom(src, 0);
    }

    /**
     * Queues a copy of a direct host buffer (position to limit) into this buffer at an offset.
     *
     * @param src a direct buffer
     * @param offsetBytes where the copy starts in this buffer
     * @throws IllegalArgumentException if the copy would pass the end of this buffer
     */
    public void copyFrom(ByteBuffer src, long offsetBytes) {
        if (offsetBytes < 0 || offsetBytes > bytes) {
            throw new IllegalArgumentException(
                    "offset " + offsetBytes + " is outside the device buffer of " + bytes);
        }
        long n = checkHost(src, bytes - offsetBytes);
        CudaKernels.check(
                CudaLibrary.mops_cuda_memcpy_h2d(
                        stream.handle(), new Pointer(address() + offsetBytes), hostPointer(src), n),
                "cuda_memcpy_h2d",
                () -> n + " bytes");
    }

    /**
     * Queues a copy of the start of this buffer into a direct host buffer (position to limit).
     *
     * @param dst a direct buffer no larger than this one
     */
    public void copyTo(ByteBuffer dst) {
        copyTo(dst, 0);
    }

    /**
     * Queues a copy of this buffer, from an offset, into a direct host buffer (position to limit).
     *
     * @param dst a direct buffer
     * @param offsetBytes where the copy starts in this buffer
     * @throws IllegalArgumentException if the copy would pass the end of this buffer
     */
    public void copyTo(ByteBuffer dst, long offsetBytes) {
        if (offsetBytes < 0 || offsetBytes > bytes) {
            throw new IllegalArgumentException(
                    "offset " + offsetBytes + " is outside the device buffer of " + bytes);
        }
        long n = checkHost(dst, bytes - offsetBytes);
        CudaKernels.check(
                CudaLibrary.mops_cuda_memcpy_d2h(
                        stream.handle(), hostPointer(dst), new Pointer(address() + offsetBytes), n),
                "cuda_memcpy_d2h",
                () -> n + " bytes");
    }

    /**
     * Queues a copy of the first {@code bytes} bytes of another device buffer into this one.
     *
     * @param src the source buffer
     * @param bytes the number of bytes, at most the size of either buffer
     */
    public void copyFromDevice(DeviceBuffer src, long bytes) {
        if (bytes < 0 || bytes > this.bytes || bytes > src.bytes) {
            throw new IllegalArgumentException(
                    "device copy of "
                            + bytes
                            + " bytes between buffers of "
                            + src.bytes
                            + " and "
                            + this.bytes
                            + " bytes");
        }
        CudaKernels.check(
                CudaLibrary.mops_cuda_memcpy_d2d(
                        stream.handle(), new Pointer(address()), new Pointer(src.address()), bytes),
                "cuda_memcpy_d2d",
                () -> bytes + " bytes");
    }

    /**
     * Returns the device address.
     *
     * @return the address
     */
    public long address() {
        if (address == 0) {
            throw new IllegalStateException("the device buffer is closed");
        }
        return address;
    }

    /**
     * Returns the size.
     *
     * @return the size in bytes
     */
    public long bytes() {
        return bytes;
    }

    private static long checkHost(ByteBuffer b, long room) {
        if (!b.isDirect()) {
            throw new IllegalArgumentException("host copies need a direct ByteBuffer");
        }
        if (b.remaining() > room) {
            throw new IllegalArgumentException(
                    "host buffer of "
                            + b.remaining()
                            + " bytes exceeds the "
                            + room
                            + " bytes of device memory it would go to");
        }
        return b.remaining();
    }

    private static Pointer hostPointer(ByteBuffer b) {
        return Native.getDirectBufferPointer(b).share(b.position());
    }

    /** Frees the memory in stream order. */
    @Override
    public void close() {
        if (address != 0) {
            long a = address;
            address = 0;
            CudaKernels.check(
                    CudaLibrary.mops_cuda_free(stream.handle(), new Pointer(a)), "cuda_free");
        }
    }
}
