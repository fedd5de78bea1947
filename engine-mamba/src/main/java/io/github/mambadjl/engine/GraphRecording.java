package io.github.mambadjl.engine;

import io.github.mambadjl.nativeops.CudaTensorOps;
import io.github.mambadjl.nativeops.NativeOpException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * A recording of one device's engine stream into a CUDA graph, in progress: while it lasts, the
 * work the engine queues on the stream is recorded instead of run, and the memory allocated on the
 * stream belongs to the graph.
 *
 * <p>It keeps what the end of the recording needs: the memory made during it (never allocated when
 * the recording is discarded, so its release must not free it), and the memory made before it whose
 * last reference was released during it. Such a release cannot be recorded (every replay would free
 * it again) and means the step does not leave its inputs where the next replay reads them: the
 * recording is then refused and the memory freed once it has ended.
 */
final class GraphRecording {

    private final CudaBackend backend;
    private final Set<DeviceMemory> made = Collections.newSetFromMap(new IdentityHashMap<>());
    private final List<DeviceMemory> releasedOutside = new ArrayList<>();

    private GraphRecording(CudaBackend backend) {
        this.backend = backend;
    }

    /**
     * Starts recording a device's stream.
     *
     * @param backend the device
     * @return the recording
     */
    static GraphRecording start(CudaBackend backend) {
        CudaTensorOps.beginGraph(backend.stream());
        return new GraphRecording(backend);
    }

    /**
     * Notes memory allocated during the recording.
     *
     * @param memory the memory
     */
    synchronized void made(DeviceMemory memory) {
        made.add(memory);
    }

    /**
     * Decides what the release of memory's last reference during the recording does.
     *
     * @param memory the memory whose last reference was released
     * @return {@code true} when the memory was made before the recording: its free waits for the
     *     end of the recording, which this release makes fail
     */
    synchronized boolean deferRelease(DeviceMemory memory) {
        if (made.contains(memory)) {
            return false;
        }
        releasedOutside.add(memory);
        return true;
    }

    /**
     * Ends the recording and runs it once.
     *
     * @return the graph ({@code cudaGraphExec_t}) to launch again
     * @throws IllegalStateException when the step cannot be recorded (nothing ran)
     */
    long finish() {
        if (!releasedOutside.isEmpty()) {
            discard();
            throw new IllegalStateException(
                    "the step freed "
                            + releasedOutside.size()
                            + " array(s) made before the recording: a recorded step must update"
                            + " the arrays it reads in place, so that every replay finds them");
        }
        long exec;
        try {
            exec = CudaTensorOps.endGraph(backend.stream(), false);
        } catch (NativeOpException e) {
            settle();
            throw new IllegalStateException(e.getMessage(), e);
        }
        backend.endRecording(this);
        return exec;
    }

    /** Ends the recording without running it: nothing of the step ran. */
    void discard() {
        try {
            CudaTensorOps.endGraph(backend.stream(), true);
        } finally {
            settle();
        }
    }

    /** Forgets the memory of a recording that never ran and frees the releases it deferred. */
    private void settle() {
        backend.endRecording(this);
        for (DeviceMemory memory : made) {
            memory.forget();
        }
        for (DeviceMemory memory : releasedOutside) {
            memory.freeNow();
        }
    }
}
