package io.github.mambadjl.jmh;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import io.github.mambadjl.model.CausalLM;
import io.github.mambadjl.nn.ShapedBlock;
import java.util.Random;

/**
 * Gives every parameter of a freshly built {@link CausalLM} random values of a sane scale, created
 * directly on the manager's device (no checkpoint file): linear and embedding weights and biases
 * normal × 0.02, convolution weights normal × 0.2, norm weights 1, {@code A_log} = log(1..N)
 * (Mamba-1: per state; Mamba-2: per head, cycling over 1..16), {@code D} = 1, {@code dt_bias} the
 * inverse softplus of a dt drawn log-uniformly in [0.001, 0.1].
 *
 * <p>The normal values come from one pool of 4 Mi float32 values drawn on the host and uploaded
 * once; a larger weight repeats a random window of the pool (a whole number of its rows), so a
 * 9B-parameter model is filled in seconds. As {@code MambaModel.load} does, {@code A_log}, {@code
 * D}, {@code dt_bias} and {@code dt_proj.bias} stay float32 in a bfloat16 or float16 model.
 */
final class RandomWeights {

    static final int POOL = 1 << 22;

    private RandomWeights() {}

    /**
     * Fills every parameter of {@code lm}.
     *
     * @param lm a model built by {@link CausalLM#fromConfig}, not yet initialised
     * @param manager the manager (and device) that will own the weights
     * @param dtype the dtype of the weights
     * @param seed the random seed
     * @return the bytes of all weights
     */
    static long fill(CausalLM lm, NDManager manager, DataType dtype, long seed) {
        Random rnd = new Random(seed);
        float[] values = new float[POOL];
        for (int i = 0; i < POOL; i++) {
            values[i] = (float) rnd.nextGaussian();
        }
        long[] bytes = new long[1];
        try (NDManager tmp = manager.newSubManager()) {
            NDArray pool = tmp.create(values, new Shape(POOL));
            walk(
                    lm,
                    "",
                    (name, shape, param) -> {
                        NDArray array = value(name, shape, dtype, pool, tmp, rnd);
                        array.attach(manager);
                        param.setArray(array);
                        bytes[0] += shape.size() * array.getDataType().getNumOfBytes();
                    });
        }
        return bytes[0];
    }

    /** Receives one parameter of the walk. */
    private interface ParameterVisitor {
        void visit(String name, Shape shape, Parameter parameter);
    }

    /** Visits the parameters under their checkpoint names, as {@code namedParameters} does. */
    private static void walk(Block block, String prefix, ParameterVisitor visitor) {
        for (Pair<String, Parameter> p : block.getDirectParameters()) {
            Shape shape = ((ShapedBlock) block).declaredShape(p.getValue());
            visitor.visit(prefix + p.getKey(), shape, p.getValue());
        }
        for (Pair<String, Block> child : block.getChildren()) {
            walk(
                    child.getValue(),
                    prefix + child.getKey().replaceFirst("^\\d+", "") + ".",
                    visitor);
        }
    }

    private static NDArray value(
            String name, Shape shape, DataType dtype, NDArray pool, NDManager tmp, Random rnd) {
        if (name.endsWith(".A_log")) {
            return tmp.create(aLog(shape), shape);
        }
        if (name.endsWith(".D")) {
            return tmp.ones(shape, DataType.FLOAT32);
        }
        if (name.endsWith(".dt_bias") || name.endsWith(".dt_proj.bias")) {
            float[] v = new float[Math.toIntExact(shape.size())];
            for (int i = 0; i < v.length; i++) {
                double dt = Math.exp(Math.log(1e-3) + rnd.nextDouble() * Math.log(100));
                v[i] = (float) (dt + Math.log(-Math.expm1(-dt)));
            }
            return tmp.create(v, shape);
        }
        String leaf = name.substring(0, name.lastIndexOf('.'));
        leaf = leaf.substring(leaf.lastIndexOf('.') + 1);
        if (leaf.contains("norm") && name.endsWith(".weight")) {
            return tmp.ones(shape, dtype);
        }
        double scale = name.endsWith("conv1d.weight") ? 0.2 : 0.02;
        return normal(shape, dtype, scale, pool, tmp, rnd);
    }

    private static float[] aLog(Shape shape) {
        float[] v = new float[Math.toIntExact(shape.size())];
        if (shape.dimension() == 2) {
            int n = (int) shape.get(1);
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) Math.log(1 + i % n);
            }
        } else {
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) Math.log(1 + i % 16);
            }
        }
        return v;
    }

    /** pool window × scale, repeated over whole rows when the weight is larger than the pool. */
    private static NDArray normal(
            Shape shape, DataType dtype, double scale, NDArray pool, NDManager tmp, Random rnd) {
        long n = shape.size();
        long window = n;
        long repeats = 1;
        if (n > POOL) {
            long row = shape.get(shape.dimension() - 1);
            long rows = n / row;
            long k = Math.max(1, POOL / row);
            while (rows % k != 0) {
                k--;
            }
            window = k * row;
            repeats = rows / k;
        }
        long offset = rnd.nextInt((int) (POOL - window + 1));
        // the window and the scale in the weight's dtype, so that the one allocation of the
        // weight's size is the weight itself: a float32 intermediate as large as the weight,
        // freed between the weights' allocations, would leave the device memory pool fragmented
        // (reserved, not in use) by about the weights' size
        try (NDArray slice = pool.get("{}:{}", offset, offset + window);
                NDArray row = slice.reshape(1, window);
                NDArray typedRow = row.toType(dtype, true);
                NDArray factor =
                        tmp.full(new Shape(repeats, 1), (float) scale).toType(dtype, false)) {
            return typedRow.mul(factor).reshape(shape);
        }
    }
}
