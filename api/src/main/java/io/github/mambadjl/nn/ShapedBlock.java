package io.github.mambadjl.nn;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A block whose parameter shapes follow from its settings, not from its input. The shapes are
 * applied when the block is initialised, so that a parameter may instead be given its array
 * directly (for example from a checkpoint) before initialisation.
 */
public abstract class ShapedBlock extends AbstractBlock {

    private final Map<Parameter, Shape> shapes = new LinkedHashMap<>();

    /** Creates a block of version 1. */
    protected ShapedBlock() {
        super((byte) 1);
    }

    /**
     * Adds a parameter with the shape it will be initialised with.
     *
     * @param parameter the parameter and its shape
     * @return the parameter
     */
    protected final Parameter declare(ShapedParameter parameter) {
        Parameter p = addParameter(parameter.parameter());
        shapes.put(p, parameter.shape());
        return p;
    }

    /**
     * Returns the shape a parameter of this block must have.
     *
     * @param parameter a direct parameter of this block
     * @return its declared shape
     */
    public Shape declaredShape(Parameter parameter) {
        return shapes.get(parameter);
    }

    /** {@inheritDoc} */
    @Override
    protected void prepare(Shape[] inputShapes) {
        for (Map.Entry<Parameter, Shape> e : shapes.entrySet()) {
            Parameter p = e.getKey();
            if (!p.isInitialized() && p.getShape() == null) {
                p.setShape(e.getValue());
            }
        }
    }

    /**
     * Initialises the children; their parameter shapes follow from their settings, so they receive
     * this block's input shapes unchanged.
     *
     * @param manager the manager of the parameters
     * @param dataType the data type of the parameters
     * @param inputShapes the input shapes of this block
     */
    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {
        for (Block child : getChildren().values()) {
            child.initialize(manager, dataType, inputShapes);
        }
    }

    /**
     * A parameter and the shape it is declared with.
     *
     * @param parameter the parameter, without shape
     * @param shape its shape
     */
    public record ShapedParameter(Parameter parameter, Shape shape) {}
}
