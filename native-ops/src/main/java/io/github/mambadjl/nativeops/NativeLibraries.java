package io.github.mambadjl.nativeops;

import com.sun.jna.NativeLibrary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Loads the native libraries of mamba-djl.
 *
 * <p>By default JNA finds {@code linux-x86-64/libmambaops.so} (and {@code libmambaops_cuda.so}) on
 * the class path, that is inside the {@code native-ops} jar, and extracts them to a temporary file.
 * For development, the system property {@value #NATIVE_DIR_PROPERTY} may name a directory that
 * holds freshly built libraries instead.
 */
public final class NativeLibraries {

    /** System property naming a directory to load the native libraries from. */
    public static final String NATIVE_DIR_PROPERTY = "mambadjl.native.dir";

    /** The ABI version these bindings were written for ({@code MOPS_ABI_VERSION}). */
    public static final int ABI_VERSION = 5;

    static final String CPU_NAME = "mambaops";
    static final String CUDA_NAME = "mambaops_cuda";

    private NativeLibraries() {}

    /**
     * Returns the CPU library, loading it on first use.
     *
     * @return the loaded CPU library
     * @throws UnsatisfiedLinkError if the library cannot be found or loaded
     */
    static NativeLibrary cpu() {
        return CpuHolder.LIBRARY;
    }

    /**
     * Returns the CUDA library if it was built and loads here.
     *
     * @return the CUDA library, or empty when this build has none or it does not load
     */
    static Optional<NativeLibrary> cuda() {
        return Optional.ofNullable(CudaHolder.LIBRARY);
    }

    /**
     * Returns why the CUDA library is not available, or an empty string when it is.
     *
     * @return the reason the CUDA library did not load
     */
    public static String cudaUnavailableReason() {
        return CudaHolder.FAILURE;
    }

    private static NativeLibrary load(String name) {
        String dir = System.getProperty(NATIVE_DIR_PROPERTY);
        if (dir != null && !dir.isEmpty()) {
            Path file = Path.of(dir, "lib" + name + ".so");
            if (!Files.isRegularFile(file)) {
                throw new UnsatisfiedLinkError(
                        "lib"
                                + name
                                + ".so not found in "
                                + dir
                                + " (set by -D"
                                + NATIVE_DIR_PROPERTY
                                + "); unset the property to load the library from the jar");
            }
            return NativeLibrary.getInstance(file.toAbsolutePath().toString());
        }
        return NativeLibrary.getInstance(name);
    }

    private static final class CpuHolder {
        static final NativeLibrary LIBRARY;

        static {
            try {
                LIBRARY = load(CPU_NAME);
            } catch (UnsatisfiedLinkError e) {
                UnsatisfiedLinkError error =
                        new UnsatisfiedLinkError(
                                "could not load the mamba-djl CPU library lib"
                                        + CPU_NAME
                                        + ".so: "
                                        + e.getMessage()
                                        + ". It ships in the native-ops jar for linux-x86-64;"
                                        + " on another platform build native-ops from source.");
                error.initCause(e);
                throw error;
            }
        }
    }

    private static final class CudaHolder {
        static final NativeLibrary LIBRARY;
        static final String FAILURE;

        static {
            NativeLibrary lib = null;
            String failure = "";
            try {
                lib = load(CUDA_NAME);
            } catch (UnsatisfiedLinkError e) {
                failure =
                        "the CUDA library lib"
                                + CUDA_NAME
                                + ".so is not available: "
                                + e.getMessage()
                                + " (it is built only where nvcc was found)";
            }
            LIBRARY = lib;
            FAILURE = failure;
        }
    }
}
