package io.github.mambadjl.nativeops;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;

/** Host tensors for the kernel tests: direct buffers in any dtype, read back as floats. */
final class Host {

    /** Keeps the direct buffers reachable, by the address of their first byte. */
    private static final Map<Long, ByteBuffer> BUFFERS = new ConcurrentHashMap<>();

    private Host() {}

    /** Stores values (rounded to dtype) in a new direct buffer, as a contiguous tensor. */
    static NativeTensor tensor(DType dtype, float[] values, long... shape) {
        ByteBuffer buf =
                ByteBuffer.allocateDirect(values.length * dtype.byteSize())
                        .order(ByteOrder.nativeOrder());
        for (int i = 0; i < values.length; i++) {
            put(buf, dtype, i, values[i]);
        }
        NativeTensor t = NativeTensor.of(buf, dtype, shape);
        BUFFERS.put(t.address(), buf);
        return t;
    }

    /** A float32 tensor. */
    static NativeTensor f32(float[] values, long... shape) {
        return tensor(DType.FLOAT32, values, shape);
    }

    /** A tensor of NaN, to show which elements a kernel did not write. */
    static NativeTensor poisoned(DType dtype, long... shape) {
        float[] v = new float[(int) product(shape)];
        Arrays.fill(v, Float.NaN);
        return tensor(dtype, v, shape);
    }

    /**
     * Stores canonical values of shape [d0, d1, d2] in memory ordered [d0, d2, d1] and returns the
     * view of logical shape [d0, d1, d2] (so a [batch, seqlen, dim] layout read as [b, d, l]).
     */
    static NativeTensor transposed12(DType dtype, float[] canonical, int d0, int d1, int d2) {
        float[] mem = new float[canonical.length];
        for (int a = 0; a < d0; a++) {
            for (int b = 0; b < d1; b++) {
                for (int c = 0; c < d2; c++) {
                    mem[(a * d2 + c) * d1 + b] = canonical[(a * d1 + b) * d2 + c];
                }
            }
        }
        return tensor(dtype, mem, d0, d2, d1)
                .view(0, new long[] {d0, d1, d2}, new long[] {(long) d1 * d2, 1, d1});
    }

    /** Reads the logical elements of a tensor (row-major over its shape) as floats. */
    static float[] read(NativeTensor t) {
        ByteBuffer buf = BUFFERS.get(baseOf(t.address()));
        long base = baseAddress(buf);
        long[] shape = t.shape();
        float[] out = new float[(int) product(shape)];
        long[] idx = new long[shape.length];
        for (int i = 0; i < out.length; i++) {
            long off = 0;
            for (int k = 0; k < shape.length; k++) {
                off += idx[k] * t.stride(k);
            }
            long byteOff = t.address() - base + off * t.dtype().byteSize();
            out[i] = get(buf, t.dtype(), byteOff);
            for (int k = shape.length - 1; k >= 0; k--) {
                if (++idx[k] < shape[k]) {
                    break;
                }
                idx[k] = 0;
            }
        }
        return out;
    }

    private static long baseOf(long address) {
        for (Map.Entry<Long, ByteBuffer> e : BUFFERS.entrySet()) {
            long start = e.getKey();
            if (address >= start && address < start + e.getValue().capacity()) {
                return start;
            }
        }
        throw new IllegalStateException("no host buffer holds address " + address);
    }

    private static long baseAddress(ByteBuffer buf) {
        return com.sun.jna.Pointer.nativeValue(com.sun.jna.Native.getDirectBufferPointer(buf));
    }

    /** Rounds each value to dtype, as storing and reading it would. */
    static float[] quantize(DType dtype, float[] v) {
        float[] q = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            q[i] = roundTo(dtype, v[i]);
        }
        return q;
    }

    static float roundTo(DType dtype, float v) {
        switch (dtype) {
            case FLOAT16:
                return halfToFloat(floatToHalf(v));
            case BFLOAT16:
                return bf16ToFloat(floatToBf16(v));
            default:
                return v;
        }
    }

    static float[] gaussian(Random rnd, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextGaussian() * scale);
        }
        return a;
    }

    static float[] uniform(Random rnd, int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
        }
        return a;
    }

    static long product(long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** The relative tolerance of outputs stored in dtype, computed in float32. */
    static double rtol(DType dtype) {
        switch (dtype) {
            case FLOAT16:
                return 3e-3;
            case BFLOAT16:
                return 2e-2;
            default:
                return 1e-4;
        }
    }

    private static void put(ByteBuffer buf, DType dtype, int i, float v) {
        switch (dtype) {
            case FLOAT16:
                buf.putShort(i * 2, floatToHalf(v));
                break;
            case BFLOAT16:
                buf.putShort(i * 2, floatToBf16(v));
                break;
            default:
                buf.putFloat(i * 4, v);
        }
    }

    private static float get(ByteBuffer buf, DType dtype, long byteOffset) {
        int off = Math.toIntExact(byteOffset);
        switch (dtype) {
            case FLOAT16:
                return halfToFloat(buf.getShort(off));
            case BFLOAT16:
                return bf16ToFloat(buf.getShort(off));
            default:
                return buf.getFloat(off);
        }
    }

    static short floatToBf16(float f) {
        int x = Float.floatToRawIntBits(f);
        if ((x & 0x7fffffff) > 0x7f800000) {
            return (short) ((x >>> 16) | 0x40);
        }
        return (short) ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16);
    }

    static float bf16ToFloat(short s) {
        return Float.intBitsToFloat((s & 0xffff) << 16);
    }

    static short floatToHalf(float f) {
        int x = Float.floatToRawIntBits(f);
        int sign = (x >>> 16) & 0x8000;
        int abs = x & 0x7fffffff;
        if (abs > 0x7f800000) {
            return (short) (sign | 0x7e00);
        }
        if (abs >= 0x477ff000) {
            return (short) (sign | 0x7c00);
        }
        if (abs < 0x38800000) {
            long m = (long) Math.rint(Float.intBitsToFloat(abs) * 16777216.0);
            return (short) (sign | m);
        }
        int h = (((abs >>> 23) - 112) << 10) | ((abs >>> 13) & 0x3ff);
        int rest = abs & 0x1fff;
        if (rest > 0x1000 || (rest == 0x1000 && (h & 1) != 0)) {
            h++;
        }
        return (short) (sign | h);
    }

    static float halfToFloat(short s) {
        int h = s & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 5.9604644775390625e-8f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }
}
