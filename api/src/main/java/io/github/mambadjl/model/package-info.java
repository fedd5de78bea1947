/**
 * The causal language models of the Mamba family ({@link io.github.mambadjl.model.CausalLM}) and
 * the {@link io.github.mambadjl.model.MambaBlockFactory} that DJL Criteria use to load them.
 */
package io.github.mambadjl.model;
