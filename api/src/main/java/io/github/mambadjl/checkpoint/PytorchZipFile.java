package io.github.mambadjl.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.ref.SoftReference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A state dict saved by {@code torch.save} in its zip format ({@code pytorch_model.bin}), read
 * without Python and without running code: {@code data.pkl} goes through an allow-list unpickler
 * (tensors, typed storages and {@code OrderedDict} only) and the storages are read from the zip
 * archive on demand, without extracting it, honouring each tensor's storage offset and strides (the
 * data is made contiguous) and storages shared between tensors.
 *
 * <p>The legacy (pre-1.6) non-zip format is refused.
 */
public final class PytorchZipFile implements TensorSource {

    private static final Logger logger = LoggerFactory.getLogger(PytorchZipFile.class);

    private final Path file;
    private final ZipFile zip;
    private final Map<String, TensorData> tensors;
    private final Map<String, SoftReference<byte[]>> storages = new ConcurrentHashMap<>();
    private volatile boolean closed;

    private PytorchZipFile(Path file, ZipFile zip, String prefix, Map<?, ?> stateDict)
            throws CheckpointException {
        this.file = file;
        this.zip = zip;
        Map<String, TensorData> map = new LinkedHashMap<>();
        for (Map.Entry<?, ?> item : stateDict.entrySet()) {
            if (!(item.getKey() instanceof String name)) {
                throw new CheckpointException(
                        "The state dict in " + file + " has a non-string key " + item.getKey());
            }
            if (!(item.getValue() instanceof RestrictedUnpickler.TensorRef ref)) {
                logger.warn("Ignoring entry {} of {}: it is not a tensor", name, file);
                continue;
            }
            map.put(name, tensor(name, ref, prefix));
        }
        this.tensors = Collections.unmodifiableMap(map);
    }

    /**
     * Opens a {@code torch.save} zip archive and unpickles its state dict.
     *
     * @param file the {@code .bin} or {@code .pt} file
     * @return the open file
     * @throws IOException if the file cannot be read
     * @throws CheckpointException if the file is not a zip state dict, is incomplete, or its pickle
     *     refers to anything but tensors (the message names the refused global)
     */
    public static PytorchZipFile open(Path file) throws IOException {
        checkMagic(file);
        ZipFile zip = new ZipFile(file.toFile());
        try {
            String pickleName = findPickle(zip, file);
            String prefix = pickleName.substring(0, pickleName.length() - "data.pkl".length());
            ZipEntry byteOrder = zip.getEntry(prefix + "byteorder");
            if (byteOrder != null) {
                String order = new String(read(zip, byteOrder, 16), StandardCharsets.US_ASCII);
                if (!"little".equals(order.trim())) {
                    throw new CheckpointException(
                            file
                                    + " was saved on a "
                                    + order
                                    + "-endian machine; only"
                                    + " little-endian checkpoints are supported");
                }
            }
            ZipEntry pickleEntry = zip.getEntry(pickleName);
            byte[] pickle = read(zip, pickleEntry, Integer.MAX_VALUE - 8);
            Object root = RestrictedUnpickler.load(pickle, file.toString());
            if (!(root instanceof Map<?, ?> stateDict)) {
                throw new CheckpointException(
                        file
                                + " does not hold a state dict (a dict of tensors); save the model"
                                + " with torch.save(model.state_dict(), path)");
            }
            return new PytorchZipFile(file, zip, prefix, stateDict);
        } catch (IOException | RuntimeException e) {
            zip.close();
            throw e;
        }
    }

    private static void checkMagic(Path file) throws IOException {
        byte[] magic = new byte[4];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(magic, 0, 4);
        }
        if (n == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4) {
            return;
        }
        if (n > 0 && (magic[0] & 0xFF) == 0x80) {
            throw new CheckpointException(
                    file
                            + " is in the legacy (pre-1.6) torch.save format, which mamba-djl does"
                            + " not read. Re-save it with a recent torch (torch.save(torch.load("
                            + "path), path)) or convert it to safetensors");
        }
        throw new CheckpointException(
                file
                        + " is not a torch.save zip archive (it does not start with a zip header);"
                        + " the file is corrupt or in another format");
    }

    private static String findPickle(ZipFile zip, Path file) throws CheckpointException {
        String found = null;
        Enumeration<? extends ZipEntry> entries = zip.entries();
        while (entries.hasMoreElements()) {
            String name = entries.nextElement().getName();
            boolean topLevel = name.equals("data.pkl");
            boolean inRecord = name.endsWith("/data.pkl") && name.indexOf('/') == name.length() - 9;
            if (topLevel || inRecord) {
                if (found != null) {
                    throw new CheckpointException(
                            file + " holds two pickles, " + found + " and " + name);
                }
                found = name;
            }
        }
        if (found == null) {
            throw new CheckpointException(
                    file + " is a zip archive without data.pkl; it is not a torch.save checkpoint");
        }
        return found;
    }

    private static byte[] read(ZipFile zip, ZipEntry entry, long limit) throws IOException {
        if (entry.getSize() > limit) {
            throw new CheckpointException(
                    "Zip record " + entry.getName() + " is too large (" + entry.getSize() + ")");
        }
        try (InputStream in = zip.getInputStream(entry)) {
            return in.readNBytes((int) Math.min(limit, Integer.MAX_VALUE - 8));
        }
    }

    private TensorData tensor(String name, RestrictedUnpickler.TensorRef ref, String prefix)
            throws CheckpointException {
        RestrictedUnpickler.StorageRef storage = ref.storage();
        String record = prefix + "data/" + storage.key();
        ZipEntry entry = zip.getEntry(record);
        if (entry == null) {
            throw new CheckpointException(
                    "The storage record "
                            + record
                            + " of tensor "
                            + name
                            + " is missing from "
                            + file
                            + "; the archive is incomplete or corrupt, download it again");
        }
        TensorDType dtype = storage.dtype();
        long storageBytes;
        try {
            storageBytes = Math.multiplyExact(storage.numel(), dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new CheckpointException("Storage " + record + " in " + file + " is too large");
        }
        if (entry.getSize() >= 0 && entry.getSize() < storageBytes) {
            throw new CheckpointException(
                    "The storage record "
                            + record
                            + " in "
                            + file
                            + " has "
                            + entry.getSize()
                            + " bytes but its tensors need "
                            + storageBytes
                            + "; the archive is corrupt");
        }
        if (storageBytes > Integer.MAX_VALUE - 8) {
            throw new CheckpointException(
                    "Storage "
                            + record
                            + " of tensor "
                            + name
                            + " in "
                            + file
                            + " is larger than"
                            + " 2 GiB; convert the checkpoint to safetensors");
        }
        checkBounds(name, ref);
        return new TensorData(name, dtype, ref.size(), () -> contiguous(ref, entry));
    }

    private void checkBounds(String name, RestrictedUnpickler.TensorRef ref)
            throws CheckpointException {
        long[] size = ref.size();
        long[] stride = ref.stride();
        boolean empty = false;
        long last = ref.offset();
        try {
            for (int i = 0; i < size.length; i++) {
                if (size[i] < 0 || stride[i] < 0) {
                    throw new ArithmeticException();
                }
                empty |= size[i] == 0;
                if (size[i] > 0) {
                    last = Math.addExact(last, Math.multiplyExact(size[i] - 1, stride[i]));
                }
            }
        } catch (ArithmeticException e) {
            last = Long.MAX_VALUE;
        }
        if (ref.offset() < 0 || (!empty && last >= ref.storage().numel())) {
            throw new CheckpointException(
                    "Tensor "
                            + name
                            + " in "
                            + file
                            + " (offset "
                            + ref.offset()
                            + ", size "
                            + Arrays.toString(size)
                            + ", stride "
                            + Arrays.toString(stride)
                            + ") reaches past the end of its storage of "
                            + ref.storage().numel()
                            + " elements; the file is corrupt");
        }
    }

    private ByteBuffer contiguous(RestrictedUnpickler.TensorRef ref, ZipEntry entry)
            throws IOException {
        byte[] storage = storage(ref.storage(), entry);
        int elementSize = ref.storage().dtype().byteSize();
        long[] size = ref.size();
        long[] stride = ref.stride();
        long numel = 1;
        for (long dim : size) {
            numel *= dim;
        }
        int bytes = (int) (numel * elementSize);
        if (isRowMajor(size, stride)) {
            return ByteBuffer.wrap(storage, (int) (ref.offset() * elementSize), bytes)
                    .slice()
                    .order(ByteOrder.LITTLE_ENDIAN)
                    .asReadOnlyBuffer();
        }
        byte[] out = new byte[bytes];
        long[] index = new long[size.length];
        for (int element = 0; element < numel; element++) {
            long source = ref.offset();
            for (int d = 0; d < size.length; d++) {
                source += index[d] * stride[d];
            }
            System.arraycopy(
                    storage, (int) (source * elementSize), out, element * elementSize, elementSize);
            for (int d = size.length - 1; d >= 0; d--) {
                if (++index[d] < size[d]) {
                    break;
                }
                index[d] = 0;
            }
        }
        return ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).asReadOnlyBuffer();
    }

    private static boolean isRowMajor(long[] size, long[] stride) {
        long expected = 1;
        for (int d = size.length - 1; d >= 0; d--) {
            if (size[d] != 1 && stride[d] != expected) {
                return false;
            }
            expected *= size[d];
        }
        return true;
    }

    private byte[] storage(RestrictedUnpickler.StorageRef ref, ZipEntry entry) throws IOException {
        if (closed) {
            throw new IllegalStateException(file + " is closed");
        }
        SoftReference<byte[]> cached = storages.get(ref.key());
        byte[] bytes = cached == null ? null : cached.get();
        if (bytes == null) {
            int length = (int) (ref.numel() * ref.dtype().byteSize());
            try (InputStream in = zip.getInputStream(entry)) {
                bytes = in.readNBytes(length);
            }
            if (bytes.length < length) {
                throw new CheckpointException(
                        "The storage record "
                                + entry.getName()
                                + " in "
                                + file
                                + " ends after "
                                + bytes.length
                                + " of "
                                + length
                                + " bytes; the archive is truncated");
            }
            storages.put(ref.key(), new SoftReference<>(bytes));
        }
        return bytes;
    }

    /** {@inheritDoc} */
    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    /** {@inheritDoc} */
    @Override
    public TensorData tensor(String name) {
        TensorData tensor = tensors.get(name);
        if (tensor == null) {
            throw new NoSuchElementException("No tensor " + name + " in " + file);
        }
        return tensor;
    }

    /** Closes the archive; its tensors can no longer be read. */
    @Override
    public void close() {
        closed = true;
        storages.clear();
        try {
            zip.close();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot close " + file, e);
        }
    }
}
