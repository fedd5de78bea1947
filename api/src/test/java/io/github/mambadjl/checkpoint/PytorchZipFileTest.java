package io.github.mambadjl.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mambadjl.config.Fixtures;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PytorchZipFileTest {

    @TempDir Path tmp;

    private static byte[] floats(int n) {
        ByteBuffer buffer = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            buffer.putFloat(i);
        }
        return buffer.array();
    }

    private CheckpointException assertRefused(Path file, String... fragments) throws IOException {
        CheckpointException e =
                assertThrows(CheckpointException.class, () -> PytorchZipFile.open(file));
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment), e.getMessage());
        }
        assertEquals(0, OpenFiles.count(file), "archive left open after a failed open");
        return e;
    }

    private Path archive(String name, PickleBuilder pickle) throws IOException {
        return PickleBuilder.zip(
                tmp.resolve(name), pickle.op('.').bytes(), Map.of("0", floats(12)));
    }

    @Test
    void honoursOffsetsStridesAndSharedStorages() throws IOException {
        PickleBuilder p = new PickleBuilder().proto(2);
        // An OrderedDict with _metadata set through BUILD, as state_dict() pickles.
        p.global("collections", "OrderedDict").op(')').op('R').mark();
        p.str("a").tensor("FloatStorage", "0", 12, 0, new long[] {3, 4}, new long[] {4, 1});
        p.str("t").tensor("FloatStorage", "0", 12, 0, new long[] {4, 3}, new long[] {1, 4});
        p.str("s").tensor("FloatStorage", "0", 12, 2, new long[] {5}, new long[] {2});
        p.str("scalar").tensor("FloatStorage", "0", 12, 11, new long[] {}, new long[] {});
        p.op('u').op('}').str("version").integer(1).op('s').op('b');
        Path file =
                PickleBuilder.zip(tmp.resolve("m.bin"), p.op('.').bytes(), Map.of("0", floats(12)));
        try (PytorchZipFile bin = PytorchZipFile.open(file)) {
            assertEquals(List.of("a", "t", "s", "scalar"), List.copyOf(bin.names()));
            assertArrayEquals(
                    new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
                    bin.tensor("a").toFloatArray());
            assertArrayEquals(new long[] {4, 3}, bin.tensor("t").shape());
            assertArrayEquals(
                    new float[] {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11},
                    bin.tensor("t").toFloatArray());
            assertArrayEquals(new float[] {2, 4, 6, 8, 10}, bin.tensor("s").toFloatArray());
            assertArrayEquals(new float[] {11}, bin.tensor("scalar").toFloatArray());
        }
    }

    @Test
    void readsTheStateSpacesFixture() throws IOException {
        Path file = Fixtures.dir("mamba-tiny-ssm").resolve("pytorch_model.bin");
        try (PytorchZipFile bin = PytorchZipFile.open(file);
                SafetensorsFile hf =
                        SafetensorsFile.open(
                                Fixtures.dir("mamba-tiny").resolve("model.safetensors"))) {
            assertEquals(hf.names().size(), bin.names().size());
            assertEquals(
                    hf.tensor("backbone.embeddings.weight").data(),
                    bin.tensor("backbone.embedding.weight").data());
        }
    }

    @Test
    void refusesPosixSystem() throws IOException {
        PickleBuilder p = new PickleBuilder().proto(2).global("posix", "system");
        p.str("touch /tmp/pwned").op(0x85).op('R');
        assertRefused(archive("a.bin", p), "'posix.system'", "may be unsafe");
    }

    @Test
    void refusesBuiltinsEvalThroughStackGlobal() throws IOException {
        PickleBuilder p = new PickleBuilder().proto(4).str("builtins").str("eval").op(0x93);
        p.str("1+1").op(0x85).op('R');
        assertRefused(archive("b.bin", p), "'builtins.eval'", "may be unsafe");
    }

    @Test
    void refusesReduceOfAnUnknownClass() throws IOException {
        PickleBuilder p = new PickleBuilder().proto(2).op('}').str("w");
        p.global("__main__", "Exploit").op(')').op('R').op('s');
        assertRefused(archive("c.bin", p), "'__main__.Exploit'", "may be unsafe");
    }

    @Test
    void refusesCallingAStorageType() throws IOException {
        PickleBuilder p =
                new PickleBuilder().proto(2).global("torch", "FloatStorage").op(')').op('R');
        assertRefused(archive("d.bin", p), "'torch.FloatStorage'", "unsafe");
    }

    @Test
    void refusesOpcodesThatInstantiateClasses() throws IOException {
        PickleBuilder inst = new PickleBuilder().proto(2).op('}').mark().op('i');
        assertRefused(archive("e.bin", inst), "opcode 0x69", "may be unsafe");
        PickleBuilder newobj =
                new PickleBuilder().proto(2).global("collections", "OrderedDict").op(')').op(0x81);
        assertRefused(archive("f.bin", newobj), "opcode 0x81", "may be unsafe");
    }

    @Test
    void refusesForeignPersistentIds() throws IOException {
        PickleBuilder p = new PickleBuilder().proto(2).str("file:///etc/passwd").op(0x85).op('Q');
        assertRefused(archive("g.bin", p), "persistent id", "not a torch storage record");
    }

    @Test
    void refusesBuildOnAnythingButADict() throws IOException {
        PickleBuilder p = new PickleBuilder().proto(2).op(']').op('}').op('b');
        assertRefused(archive("h.bin", p), "sets the state of a ArrayList");
    }

    @Test
    void reportsTruncatedPickles() throws IOException {
        byte[] whole = new PickleBuilder().proto(2).op('}').str("a long key").op('.').bytes();
        byte[] cut = java.util.Arrays.copyOf(whole, whole.length - 6);
        Path file = PickleBuilder.zip(tmp.resolve("cut.bin"), cut, Map.of());
        assertRefused(file, "is malformed");
    }

    @Test
    void refusesTheLegacyFormat() throws IOException {
        Path file = tmp.resolve("legacy.bin");
        Files.write(file, new byte[] {(byte) 0x80, 2, (byte) 0x8a, 10, 0x6c});
        assertRefused(file, "legacy (pre-1.6) torch.save format");
        Path text = tmp.resolve("text.bin");
        Files.writeString(text, "hello");
        assertRefused(text, "not a torch.save zip archive");
    }

    @Test
    void refusesAMissingStorageRecord() throws IOException {
        Path source = Fixtures.dir("mamba-tiny-ssm").resolve("pytorch_model.bin");
        Path file = tmp.resolve("incomplete.bin");
        try (ZipFile zip = new ZipFile(source.toFile());
                OutputStream os = Files.newOutputStream(file);
                ZipOutputStream out = new ZipOutputStream(os)) {
            for (ZipEntry entry : java.util.Collections.list(zip.entries())) {
                if (entry.getName().endsWith("/data/5")) {
                    continue;
                }
                out.putNextEntry(new ZipEntry(entry.getName()));
                try (InputStream in = zip.getInputStream(entry)) {
                    in.transferTo(out);
                }
                out.closeEntry();
            }
        }
        assertRefused(file, "storage record pytorch_model/data/5", "missing", "download it again");
    }

    @Test
    void refusesTensorsReachingPastTheirStorage() throws IOException {
        PickleBuilder p = new PickleBuilder().proto(2).op('}');
        p.str("x").tensor("FloatStorage", "0", 12, 4, new long[] {3, 4}, new long[] {4, 1}).op('s');
        assertRefused(archive("i.bin", p), "Tensor x", "reaches past the end of its storage");
        PickleBuilder big = new PickleBuilder().proto(2).op('}');
        big.str("y").tensor("FloatStorage", "0", 100, 0, new long[] {100}, new long[] {1}).op('s');
        assertRefused(archive("j.bin", big), "has 48 bytes but its tensors need 400");
    }
}
