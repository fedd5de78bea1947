package io.github.mambadjl.zoo;

import ai.djl.ndarray.types.DataType;
import io.github.mambadjl.hub.HubSettings;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The Criteria arguments and options that the zoo and the {@code hf://} scheme give a model by
 * default (a {@code Criteria}'s own {@code optArgument} / {@code optOption} override them).
 */
public final class ZooArguments {

    /** Argument: the DJL {@code BlockFactory} (default {@link ZooBlockFactory}). */
    public static final String BLOCK_FACTORY = "blockFactory";

    /**
     * Argument: the DJL {@code TranslatorFactory} (default {@link
     * TextGenerationTranslatorFactory}).
     */
    public static final String TRANSLATOR_FACTORY = "translatorFactory";

    /**
     * Argument: the data type of the weights, a DJL {@link DataType} name ({@code float32}, {@code
     * float16} or {@code bfloat16}); default: {@link #DEFAULT_DATA_TYPE}.
     */
    public static final String DATA_TYPE = "dataType";

    /**
     * Argument set by the zoo: the entry's data type, used when {@link #DATA_TYPE} is not given and
     * the engine can compute in it ({@code bfloat16} becomes {@code float32} on PyTorch, whose DJL
     * 0.35.1 binding aborts the JVM on bfloat16 conversions).
     */
    public static final String DEFAULT_DATA_TYPE = "defaultDataType";

    /**
     * Argument: the {@link HubSettings} object the tokenizer fallback is downloaded with (set by
     * the zoo and the {@code hf://} scheme to their own settings; default: the environment).
     */
    public static final String HUB_SETTINGS = "hubSettings";

    /**
     * Argument: the Hub repository whose {@code tokenizer.json} is used when the model's repository
     * has none (default {@code EleutherAI/gpt-neox-20b}).
     */
    public static final String TOKENIZER_REPO = "tokenizerRepo";

    /**
     * The default model options: {@code hasParameter=false}, because the weights are read from the
     * checkpoint's own files and there is no DJL {@code .params} file (none is written into the
     * Hugging Face cache either).
     */
    public static final Map<String, String> OPTIONS = Map.of("hasParameter", "false");

    private ZooArguments() {}

    /**
     * Returns the default arguments of a Hub model.
     *
     * @param settings the Hub settings of its repository
     * @param dataType the default data type of the weights
     * @return block factory, translator factory, data type and Hub settings
     */
    public static Map<String, Object> defaults(HubSettings settings, DataType dataType) {
        Map<String, Object> map = new HashMap<>();
        map.put(BLOCK_FACTORY, ZooBlockFactory.class.getName());
        map.put(TRANSLATOR_FACTORY, TextGenerationTranslatorFactory.class.getName());
        map.put(DEFAULT_DATA_TYPE, dataType.name().toLowerCase(Locale.ROOT));
        map.put(HUB_SETTINGS, settings);
        return map;
    }
}
