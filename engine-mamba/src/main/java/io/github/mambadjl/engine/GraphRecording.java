package io.github.mambadjl.engine;

import io.github.mambadjl.nativeops.CudaTensorOps;
import io.github.mambadjl.nativeops.NativeOpException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * A recording of one thread's work on a device into a CUDA graph, in progress: while it lasts, the
 * work the recording thread queues goes to a stream of its own where it is recorded instead of run
 * (other threads' work goes to the device's engine stream and runs as usual), and the memory
 * allocated on that stream belongs to the graph.
 *
 * <p>It keeps what the end of the recording needs: the memory made during it (never allocated when
 * the recording is discarded, so its release must not free it), and the memory made before it whose
 * last reference was released during it. Such a release cannot be recorded (every replay would free
 * it again) and means the step does not leave its inputs where the next replay reads them: the
 * recording is then refused and the memory freed once it has ended.
 */
final class GraphRecording {

    private final CudaBackend backend;
    private final long stream;
    private final Thread owner;
    private final Set<DeviceMemory> made = Collections.newSetFromMap(new IdentityHashMap<>());
    private final List<DeviceMemory> releasedOutside = new ArrayList<>();

    private GraphRecording(CudaBackend backend, long stream) {
        this.backend = backend;
        this.stream = stream;
        this.owner = Thread.currentThread();
    }

    /**
     * Starts recording, on a stream of the device's own, the work the calling thread queues on the
     * device; other threads keep using the device's engine stream meanwhile.
     *
     * @param backend the device
     * @param stream the recording stream (not the engine stream)
     * @return the recording
     */
    static GraphRecording start(CudaBackend backend, long stream) {
        CudaTensorOps.beginGraph(stream);
        return new GraphRecording(backend, stream);
    }

    /**
     * Returns the stream that the recording thread's work goes to.
     *
     * @return the recording stream
     */
    long stream() {
        return stream;
    }

    /**
     * Returns whether the calling thread is the one recording.
     *
     * @return whether its work is recorded
     */
    boolean isOwner() {
        return Thread.currentThread() == owner;
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
            exec = CudaTensorOps.endGraph(stream, backend.engineStream(), false);
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
            CudaTensorOps.endGraph(stream, backend.engineStream(), true);
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
