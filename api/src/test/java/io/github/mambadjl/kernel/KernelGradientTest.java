package io.github.mambadjl.kernel;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Autograd through every reference kernel equals central finite differences in float64, for every
 * input (including the initial state) and through both outputs (including the final state).
 */
class KernelGradientTest {

    private static final double EPS = 1e-6;
    private static final double TOL = 1e-6;
    private static final int PROBES = 5;

    private final SsmKernels k = ReferenceSsmKernels.INSTANCE;
    private NDManager manager;
    private Random random;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager("PyTorch");
        random = new Random();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    @Test
    void stateMatrix() {
        check(in -> new NDList(k.stateMatrix(in.get(0), manager)), shape(3, 4));
    }

    @Test
    void causalConv1d() {
        check(
                in -> out(k.causalConv1d(in.get(0), in.get(1), in.get(2), in.get(3), true)),
                shape(2, 3, 6),
                shape(3, 4),
                shape(3),
                shape(2, 3, 3));
        check(
                in -> out(k.causalConv1dUpdate(in.get(0), in.get(1), in.get(2), in.get(3), true)),
                shape(2, 3),
                shape(3, 3),
                shape(3),
                shape(2, 3, 2));
    }

    @Test
    void selectiveScan() {
        check(
                in ->
                        out(
                                k.selectiveScan(
                                        in.get(0),
                                        in.get(1),
                                        in.get(2).exp().neg(),
                                        in.get(3),
                                        in.get(4),
                                        in.get(5),
                                        in.get(6),
                                        in.get(7),
                                        true,
                                        in.get(8))),
                shape(2, 4, 5),
                shape(2, 4, 5),
                shape(4, 3),
                shape(2, 2, 3, 5),
                shape(2, 2, 3, 5),
                shape(4),
                shape(2, 4, 5),
                shape(4),
                shape(2, 4, 3));
        check(
                in ->
                        out(
                                k.selectiveStateUpdate(
                                        in.get(0),
                                        in.get(1),
                                        in.get(2),
                                        in.get(3).exp().neg(),
                                        in.get(4),
                                        in.get(5),
                                        in.get(6),
                                        in.get(7),
                                        in.get(8),
                                        true)),
                shape(2, 4, 3),
                shape(2, 4),
                shape(2, 4),
                shape(4, 3),
                shape(2, 3),
                shape(2, 3),
                shape(4),
                shape(2, 4),
                shape(4));
        check(
                in ->
                        out(
                                k.selectiveStateUpdateProjected(
                                        in.get(0),
                                        in.get(1),
                                        in.get(2),
                                        in.get(3),
                                        in.get(4).exp().neg(),
                                        in.get(5),
                                        in.get(6),
                                        in.get(7),
                                        in.get(8),
                                        in.get(9),
                                        true)),
                shape(2, 4, 3),
                shape(2, 4),
                shape(2, 5),
                shape(4, 5),
                shape(4, 3),
                shape(2, 3),
                shape(2, 3),
                shape(4),
                shape(2, 4),
                shape(4));
    }

    @Test
    void ssdChunkScan() {
        check(
                in ->
                        out(
                                k.ssdChunkScan(
                                        in.get(0),
                                        in.get(1),
                                        in.get(2).exp().neg(),
                                        in.get(3),
                                        in.get(4),
                                        3,
                                        in.get(5),
                                        in.get(6),
                                        in.get(7),
                                        true,
                                        0f,
                                        Float.POSITIVE_INFINITY,
                                        in.get(8))),
                shape(2, 7, 4, 2),
                shape(2, 7, 4),
                shape(4),
                shape(2, 7, 2, 3),
                shape(2, 7, 2, 3),
                shape(4),
                shape(2, 7, 4, 2),
                shape(4),
                shape(2, 4, 2, 3));
        check(
                in ->
                        out(
                                k.ssdStep(
                                        in.get(0),
                                        in.get(1),
                                        in.get(2),
                                        in.get(3).exp().neg(),
                                        in.get(4),
                                        in.get(5),
                                        in.get(6),
                                        in.get(7),
                                        in.get(8),
                                        true,
                                        0f,
                                        Float.POSITIVE_INFINITY)),
                shape(2, 4, 2, 3),
                shape(2, 4, 2),
                shape(2, 4),
                shape(4),
                shape(2, 2, 3),
                shape(2, 2, 3),
                shape(4),
                shape(2, 4, 2),
                shape(4));
    }

    @Test
    void gatedRmsNorm() {
        for (boolean before : new boolean[] {false, true}) {
            check(
                    in ->
                            new NDList(
                                    k.gatedRmsNorm(
                                            in.get(0), in.get(1), in.get(2), 1e-5f, 3, before)),
                    shape(2, 5, 6),
                    shape(2, 5, 6),
                    shape(6));
        }
    }

    private static Shape shape(long... dims) {
        return new Shape(dims);
    }

    private static NDList out(KernelOutput o) {
        return new NDList(o.output(), o.state());
    }

    /** loss = sum_i <f(x)_i, w_i> with fixed random w; compares d loss / d x with differences. */
    private void check(Function<NDList, NDList> f, Shape... shapes) {
        List<double[]> data = new ArrayList<>();
        for (Shape s : shapes) {
            double[] v = new double[(int) s.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = random.nextGaussian() * 0.5;
            }
            data.add(v);
        }
        NDList probeOut = f.apply(inputs(data, shapes));
        List<NDArray> weights = new ArrayList<>();
        for (NDArray o : probeOut) {
            weights.add(manager.randomNormal(o.getShape()).toType(o.getDataType(), false));
        }
        NDList in = inputs(data, shapes);
        List<double[]> grads = new ArrayList<>();
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            for (NDArray a : in) {
                a.setRequiresGradient(true);
            }
            gc.backward(loss(f.apply(in), weights));
            for (NDArray a : in) {
                grads.add(a.getGradient().toDoubleArray());
            }
        }
        for (int input = 0; input < shapes.length; input++) {
            for (int probe = 0; probe < PROBES; probe++) {
                int index = random.nextInt(data.get(input).length);
                double saved = data.get(input)[index];
                data.get(input)[index] = saved + EPS;
                double plus = loss(f.apply(inputs(data, shapes)), weights).getDouble();
                data.get(input)[index] = saved - EPS;
                double minus = loss(f.apply(inputs(data, shapes)), weights).getDouble();
                data.get(input)[index] = saved;
                double numeric = (plus - minus) / (2 * EPS);
                double analytic = grads.get(input)[index];
                assertTrue(
                        Math.abs(numeric - analytic) <= TOL * Math.max(1, Math.abs(numeric)),
                        "input "
                                + input
                                + " element "
                                + index
                                + ": autograd "
                                + analytic
                                + " vs finite difference "
                                + numeric);
            }
        }
    }

    private NDList inputs(List<double[]> data, Shape[] shapes) {
        NDList list = new NDList();
        for (int i = 0; i < shapes.length; i++) {
            list.add(manager.create(data.get(i), shapes[i]));
        }
        return list;
    }

    private static NDArray loss(NDList outputs, List<NDArray> weights) {
        NDArray total = null;
        for (int i = 0; i < outputs.size(); i++) {
            NDArray term = outputs.get(i).mul(weights.get(i)).sum();
            total = total == null ? term : total.add(term);
        }
        return total;
    }
}
