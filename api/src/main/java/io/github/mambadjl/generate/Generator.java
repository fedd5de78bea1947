package io.github.mambadjl.generate;

import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import io.github.mambadjl.model.CausalLM;

/**
 * Generates text tokens with a {@link CausalLM}: the prompts are prefilled in one call (left-padded
 * to a common length, with an attention mask), then decoding advances the model's inference cache
 * one token per step; the prompt is never run again.
 *
 * <pre>{@code
 * Generator generator = new Generator(lm, manager);
 * GenerationResult r = generator.generate(new long[][] {{1, 2, 3}},
 *         GenerationConfig.builder().optMaxNewTokens(16).optStopTokenIds(eos).build());
 * }</pre>
 */
public final class Generator {

    private final CausalLM model;
    private final NDManager manager;
    private final ParameterStore parameterStore;

    /**
     * Creates a generator.
     *
     * @param model an initialised or loaded model
     * @param manager the manager under which the generator allocates (the model's one, or one on
     *     the same engine and device)
     */
    public Generator(CausalLM model, NDManager manager) {
        this.model = model;
        this.manager = manager;
        this.parameterStore = new ParameterStore(manager, false);
    }

    /**
     * Generates continuations of a batch of prompts.
     *
     * @param prompts the token ids of each prompt (lengths may differ)
     * @param config the generation settings
     * @return the sequences and new tokens
     */
    public GenerationResult generate(long[][] prompts, GenerationConfig config) {
        return generate(prompts, config, null);
    }

    /**
     * Generates continuations, streaming each token to a listener as soon as it is chosen.
     *
     * @param prompts the token ids of each prompt
     * @param config the generation settings
     * @param listener receives every new token, or {@code null}
     * @return the sequences and new tokens
     */
    public GenerationResult generate(
            long[][] prompts, GenerationConfig config, TokenListener listener) {
        try (GenerationSession session = start(prompts, config)) {
            return session.finish(listener);
        }
    }

    /**
     * Prefills the prompts and returns a session that yields the tokens of one step per {@code
     * next()}, computing each step only when asked. Close it when done.
     *
     * @param prompts the token ids of each prompt
     * @param config the generation settings
     * @return the session, an iterator over steps
     */
    public GenerationSession start(long[][] prompts, GenerationConfig config) {
        return new GenerationSession(model, parameterStore, manager, prompts, config);
    }
}
