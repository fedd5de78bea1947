package io.github.mambadjl.cache;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * The state of a Mamba or Mamba2 layer: the last {@code conv_kernel - 1} inputs of its causal
 * convolution and its SSM state. Its size does not grow with the sequence.
 */
public final class SsmLayerState implements LayerState {

    private final NDManager manager;
    private NDArray conv;
    private NDArray ssm;

    /**
     * Creates an empty state whose arrays the given manager will own.
     *
     * @param manager the owner of the state arrays
     */
    public SsmLayerState(NDManager manager) {
        this.manager = manager;
    }

    /**
     * Returns the convolution state {@code [batch, channels, width - 1]}, or {@code null} before
     * the first token.
     *
     * @return the convolution state
     */
    public NDArray conv() {
        return conv;
    }

    /**
     * Returns the SSM state ({@code [batch, dim, dState]} for Mamba, {@code [batch, heads, headDim,
     * dState]} for Mamba2), or {@code null} before the first token.
     *
     * @return the SSM state
     */
    public NDArray ssm() {
        return ssm;
    }

    /**
     * Replaces both states; the arrays are moved to this state's manager and the previous ones are
     * freed.
     *
     * @param newConv the new convolution state
     * @param newSsm the new SSM state
     */
    public void update(NDArray newConv, NDArray newSsm) {
        NDArray oldConv = conv;
        NDArray oldSsm = ssm;
        conv = keep(newConv);
        ssm = keep(newSsm);
        if (oldConv != null && oldConv != conv) {
            oldConv.close();
        }
        if (oldSsm != null && oldSsm != ssm) {
            oldSsm.close();
        }
    }

    private NDArray keep(NDArray array) {
        NDArray detached = array.stopGradient();
        detached.attach(manager);
        return detached;
    }

    /** {@inheritDoc} */
    @Override
    public SsmLayerState copy(NDManager target) {
        SsmLayerState copy = new SsmLayerState(target);
        if (conv != null) {
            copy.conv = conv.duplicate();
            copy.conv.attach(target);
            copy.ssm = ssm.duplicate();
            copy.ssm.attach(target);
        }
        return copy;
    }

    /** {@inheritDoc} */
    @Override
    public boolean isEmpty() {
        return conv == null;
    }
}
