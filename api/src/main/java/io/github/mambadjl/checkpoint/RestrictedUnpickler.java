package io.github.mambadjl.checkpoint;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An unpickler for the {@code data.pkl} of a {@code torch.save} zip archive that never runs code:
 * it understands the opcodes of pickle protocols 2 to 5 that build dicts, lists, tuples and
 * scalars, and only the globals needed to rebuild tensors. Any other global (for example {@code
 * posix.system} or {@code builtins.eval}), and any opcode that would instantiate an arbitrary
 * class, is refused with a {@link CheckpointException} that names it.
 */
final class RestrictedUnpickler {

    /** A tensor's storage, as named by a persistent id {@code ('storage', type, key, ...)}. */
    record StorageRef(String key, TensorDType dtype, long numel) {}

    /** A tensor to rebuild from a storage. */
    record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {}

    /** A global that the allow-list admits. */
    private record Global(String module, String name) {
        String qualified() {
            return module + "." + name;
        }
    }

    private static final Object MARK = new Object();

    private static final Map<String, TensorDType> STORAGE_TYPES =
            Map.ofEntries(
                    Map.entry("torch.FloatStorage", TensorDType.F32),
                    Map.entry("torch.HalfStorage", TensorDType.F16),
                    Map.entry("torch.BFloat16Storage", TensorDType.BF16),
                    Map.entry("torch.DoubleStorage", TensorDType.F64),
                    Map.entry("torch.LongStorage", TensorDType.I64),
                    Map.entry("torch.IntStorage", TensorDType.I32),
                    Map.entry("torch.ShortStorage", TensorDType.I16),
                    Map.entry("torch.CharStorage", TensorDType.I8),
                    Map.entry("torch.ByteStorage", TensorDType.U8),
                    Map.entry("torch.BoolStorage", TensorDType.BOOL));

    private static final String REBUILD_TENSOR = "torch._utils._rebuild_tensor_v2";
    private static final String REBUILD_PARAMETER = "torch._utils._rebuild_parameter";
    private static final String ORDERED_DICT = "collections.OrderedDict";

    private static final Set<String> CALLABLES =
            Set.of(REBUILD_TENSOR, REBUILD_PARAMETER, ORDERED_DICT);

    private final ByteBuffer in;
    private final String source;
    private final List<Object> stack = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    private RestrictedUnpickler(byte[] pickle, String source) {
        this.in = ByteBuffer.wrap(pickle).order(ByteOrder.LITTLE_ENDIAN);
        this.source = source;
    }

    /**
     * Unpickles a {@code torch.save} pickle.
     *
     * @param pickle the pickle bytes
     * @param source the file it came from, for messages
     * @return the unpickled object: maps, lists, {@link TensorRef}s, strings, numbers
     * @throws CheckpointException if the pickle is malformed or uses a refused global or opcode
     */
    static Object load(byte[] pickle, String source) throws CheckpointException {
        try {
            return new RestrictedUnpickler(pickle, source).run();
        } catch (java.nio.BufferUnderflowException
                | IndexOutOfBoundsException
                | ClassCastException
                | ArithmeticException e) {
            throw new CheckpointException(
                    "The pickle in " + source + " is malformed (" + e + "); the file is corrupt",
                    e);
        }
    }

    private Object run() throws CheckpointException {
        while (true) {
            int at = in.position();
            int opcode = in.get() & 0xFF;
            switch (opcode) {
                case 0x80 -> in.get(); // PROTO
                case 0x95 -> in.getLong(); // FRAME
                case '.' -> {
                    return pop(); // STOP
                }
                case '(' -> stack.add(MARK);
                case '0' -> pop(); // POP
                case '1' -> popMark(); // POP_MARK
                case '2' -> push(peek()); // DUP
                case 'N' -> push(null);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'J' -> push((long) in.getInt()); // BININT
                case 'K' -> push((long) (in.get() & 0xFF)); // BININT1
                case 'M' -> push((long) (in.getShort() & 0xFFFF)); // BININT2
                case 0x8a -> push(readLong1(at)); // LONG1
                case 'G' ->
                        push(Double.longBitsToDouble(Long.reverseBytes(in.getLong()))); // BINFLOAT
                case 'X' -> push(readString(in.getInt() & 0xFFFFFFFFL)); // BINUNICODE
                case 0x8c -> push(readString(in.get() & 0xFF)); // SHORT_BINUNICODE
                case 0x8d -> push(readString(in.getLong())); // BINUNICODE8
                case 'U' -> push(readString(in.get() & 0xFF)); // SHORT_BINSTRING
                case 'T' -> push(readString(in.getInt() & 0xFFFFFFFFL)); // BINSTRING
                case 'C' -> push(readBytes(in.get() & 0xFF)); // SHORT_BINBYTES
                case 'B' -> push(readBytes(in.getInt() & 0xFFFFFFFFL)); // BINBYTES
                case '}' -> push(new LinkedHashMap<Object, Object>()); // EMPTY_DICT
                case ']' -> push(new ArrayList<Object>()); // EMPTY_LIST
                case ')' -> push(List.of()); // EMPTY_TUPLE
                case 't' -> push(tuple(popMark())); // TUPLE
                case 0x85 -> push(tuple(List.of(pop()))); // TUPLE1
                case 0x86 -> {
                    Object b = pop();
                    Object a = pop();
                    push(tuple(List.of(a, b)));
                }
                case 0x87 -> {
                    Object c = pop();
                    Object b = pop();
                    Object a = pop();
                    push(tuple(List.of(a, b, c)));
                }
                case 'l' -> push(new ArrayList<>(popMark())); // LIST
                case 'd' -> push(dict(popMark())); // DICT
                case 'a' -> append(); // APPEND
                case 'e' -> appends(); // APPENDS
                case 's' -> setItems(2); // SETITEM
                case 'u' -> setItems(-1); // SETITEMS
                case 'q' -> memo.put((long) (in.get() & 0xFF), peek()); // BINPUT
                case 'r' -> memo.put(in.getInt() & 0xFFFFFFFFL, peek()); // LONG_BINPUT
                case 0x94 -> memo.put((long) memo.size(), peek()); // MEMOIZE
                case 'h' -> push(memoGet(in.get() & 0xFF, at)); // BINGET
                case 'j' -> push(memoGet(in.getInt() & 0xFFFFFFFFL, at)); // LONG_BINGET
                case 'c' -> push(global(readLine(), readLine())); // GLOBAL
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop();
                    Object module = pop();
                    push(global(String.valueOf(module), String.valueOf(name)));
                }
                case 'Q' -> push(persistentLoad(pop())); // BINPERSID
                case 'R' -> reduce(); // REDUCE
                case 'b' -> build(); // BUILD
                default ->
                        throw new CheckpointException(
                                String.format(
                                        "The pickle in %s uses opcode 0x%02x at byte %d, which a"
                                                + " torch.save state dict does not need and mamba-djl"
                                                + " refuses: the file may be unsafe. Convert the"
                                                + " checkpoint to safetensors with a trusted tool",
                                        source, opcode, at));
            }
        }
    }

    private void push(Object value) {
        stack.add(value);
    }

    private Object pop() {
        Object value = stack.remove(stack.size() - 1);
        if (value == MARK) {
            throw new IndexOutOfBoundsException("unexpected mark");
        }
        return value;
    }

    private Object peek() {
        return stack.get(stack.size() - 1);
    }

    private List<Object> popMark() {
        int mark = stack.lastIndexOf(MARK);
        if (mark < 0) {
            throw new IndexOutOfBoundsException("no mark on the stack");
        }
        List<Object> items = new ArrayList<>(stack.subList(mark + 1, stack.size()));
        stack.subList(mark, stack.size()).clear();
        return items;
    }

    private static List<Object> tuple(List<Object> items) {
        return Collections.unmodifiableList(new ArrayList<>(items));
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object value) throws CheckpointException {
        if (value instanceof ArrayList<?>) {
            return (List<Object>) value;
        }
        throw new CheckpointException(
                "The pickle in " + source + " appends to a " + describe(value) + ", not a list");
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> map(Object value) throws CheckpointException {
        if (value instanceof LinkedHashMap<?, ?>) {
            return (Map<Object, Object>) value;
        }
        throw new CheckpointException(
                "The pickle in "
                        + source
                        + " sets items of a "
                        + describe(value)
                        + ": only dicts are supported; the file may be unsafe");
    }

    private static Map<Object, Object> dict(List<Object> items) {
        Map<Object, Object> map = new LinkedHashMap<>();
        for (int i = 0; i + 1 < items.size(); i += 2) {
            map.put(items.get(i), items.get(i + 1));
        }
        return map;
    }

    private void append() throws CheckpointException {
        Object value = pop();
        list(peek()).add(value);
    }

    private void appends() throws CheckpointException {
        List<Object> items = popMark();
        list(peek()).addAll(items);
    }

    private void setItems(int count) throws CheckpointException {
        List<Object> items;
        if (count < 0) {
            items = popMark();
        } else {
            Object value = pop();
            Object key = pop();
            items = List.of(key, value);
        }
        if (items.size() % 2 != 0) {
            throw new CheckpointException(
                    "The pickle in " + source + " has an odd number of dict items");
        }
        map(peek()).putAll(dict(items));
    }

    private Object memoGet(long key, int at) throws CheckpointException {
        if (!memo.containsKey(key)) {
            throw new CheckpointException(
                    "The pickle in "
                            + source
                            + " reads memo "
                            + key
                            + " (byte "
                            + at
                            + ") before"
                            + " setting it; the file is corrupt");
        }
        return memo.get(key);
    }

    private long readLong1(int at) throws CheckpointException {
        int n = in.get() & 0xFF;
        if (n > 8) {
            throw new CheckpointException(
                    "The pickle in "
                            + source
                            + " has an integer of "
                            + n
                            + " bytes at byte "
                            + at
                            + "; integers larger than 64 bits are not supported");
        }
        long value = 0;
        for (int i = 0; i < n; i++) {
            value |= (in.get() & 0xFFL) << (8 * i);
        }
        if (n > 0 && n < 8 && (value & (1L << (8 * n - 1))) != 0) {
            value -= 1L << (8 * n);
        }
        return value;
    }

    private String readString(long length) {
        return new String(readBytes(length), StandardCharsets.UTF_8);
    }

    private byte[] readBytes(long length) {
        if (length < 0 || length > in.remaining()) {
            throw new IndexOutOfBoundsException("a string runs past the end of the pickle");
        }
        byte[] bytes = new byte[(int) length];
        in.get(bytes);
        return bytes;
    }

    private String readLine() {
        int start = in.position();
        while (in.get() != '\n') {
            // scan to the end of the line
        }
        byte[] bytes = new byte[in.position() - start - 1];
        in.get(start, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private Object global(String module, String name) throws CheckpointException {
        String qualified = module + "." + name;
        if (CALLABLES.contains(qualified) || STORAGE_TYPES.containsKey(qualified)) {
            return new Global(module, name);
        }
        throw new CheckpointException(
                "The pickle in "
                        + source
                        + " refers to the global '"
                        + qualified
                        + "', which mamba-djl does not allow: the file may be unsafe (loading it"
                        + " in Python could run code). Only tensors, their storages and"
                        + " OrderedDict are allowed; convert the checkpoint to safetensors with a"
                        + " trusted tool");
    }

    private Object persistentLoad(Object pid) throws CheckpointException {
        if (pid instanceof List<?> tuple
                && tuple.size() == 5
                && "storage".equals(tuple.get(0))
                && tuple.get(1) instanceof Global type
                && STORAGE_TYPES.containsKey(type.qualified())
                && tuple.get(2) instanceof String key
                && tuple.get(4) instanceof Long numel
                && numel >= 0) {
            return new StorageRef(key, STORAGE_TYPES.get(type.qualified()), numel);
        }
        throw new CheckpointException(
                "The pickle in "
                        + source
                        + " has the persistent id "
                        + pid
                        + ", which is not a torch storage record ('storage', type, key,"
                        + " location, numel); the file may be unsafe or not a torch.save zip");
    }

    private void reduce() throws CheckpointException {
        Object args = pop();
        Object callable = pop();
        if (!(callable instanceof Global global) || !(args instanceof List<?> arguments)) {
            throw new CheckpointException(
                    "The pickle in "
                            + source
                            + " calls a "
                            + describe(callable)
                            + ", which mamba-djl does not allow: the file may be unsafe");
        }
        switch (global.qualified()) {
            case ORDERED_DICT -> {
                if (!arguments.isEmpty()) {
                    throw new CheckpointException(
                            "The pickle in " + source + " builds an OrderedDict with arguments");
                }
                push(new LinkedHashMap<Object, Object>());
            }
            case REBUILD_TENSOR -> push(rebuildTensor(arguments));
            case REBUILD_PARAMETER -> {
                if (arguments.isEmpty() || !(arguments.get(0) instanceof TensorRef)) {
                    throw new CheckpointException(
                            "The pickle in " + source + " rebuilds a parameter without a tensor");
                }
                push(arguments.get(0));
            }
            default ->
                    throw new CheckpointException(
                            "The pickle in "
                                    + source
                                    + " calls '"
                                    + global.qualified()
                                    + "', which is not callable in a state dict: the file may be"
                                    + " unsafe");
        }
    }

    private TensorRef rebuildTensor(List<?> args) throws CheckpointException {
        if (args.size() < 4
                || !(args.get(0) instanceof StorageRef storage)
                || !(args.get(1) instanceof Long offset)
                || !(args.get(2) instanceof List<?> size)
                || !(args.get(3) instanceof List<?> stride)
                || size.size() != stride.size()) {
            throw new CheckpointException(
                    "The pickle in "
                            + source
                            + " calls _rebuild_tensor_v2 with unexpected arguments "
                            + args);
        }
        return new TensorRef(storage, offset, longs(size), longs(stride));
    }

    private long[] longs(List<?> values) throws CheckpointException {
        long[] result = new long[values.size()];
        for (int i = 0; i < result.length; i++) {
            if (!(values.get(i) instanceof Long value)) {
                throw new CheckpointException(
                        "The pickle in " + source + " has a non-integer tensor size " + values);
            }
            result[i] = value;
        }
        return result;
    }

    private void build() throws CheckpointException {
        Object state = pop();
        Object target = peek();
        // OrderedDict.__reduce__ hands its instance dict (state_dict()._metadata) to BUILD.
        if (target instanceof LinkedHashMap<?, ?>
                && (state == null || state instanceof LinkedHashMap<?, ?>)) {
            return;
        }
        throw new CheckpointException(
                "The pickle in "
                        + source
                        + " sets the state of a "
                        + describe(target)
                        + ", which mamba-djl does not allow: the file may be unsafe");
    }

    private static String describe(Object value) {
        if (value instanceof Global global) {
            return "'" + global.qualified() + "'";
        }
        return value == null ? "None" : value.getClass().getSimpleName();
    }
}
