package io.github.mambadjl.checkpoint;

import java.util.Set;

/**
 * A set of named tensors read from one or more files; closing it releases the files, after which
 * its tensors can no longer be read.
 */
public interface TensorSource extends AutoCloseable {

    /**
     * Returns the names of the tensors, in file order.
     *
     * @return the tensor names
     */
    Set<String> names();

    /**
     * Returns whether a tensor of this name exists.
     *
     * @param name the tensor name
     * @return {@code true} if it exists
     */
    default boolean contains(String name) {
        return names().contains(name);
    }

    /**
     * Returns the tensor of the given name.
     *
     * @param name the tensor name
     * @return the tensor view
     * @throws java.util.NoSuchElementException if there is no such tensor
     */
    TensorData tensor(String name);

    /** Releases the underlying files. */
    @Override
    void close();
}
