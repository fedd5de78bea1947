/**
 * A Hugging Face Hub client and cache that behave as Python's {@code huggingface_hub} does.
 *
 * <p>Files are fetched from {@code HF_ENDPOINT} into the cache at {@code HF_HUB_CACHE} (by default
 * {@code ~/.cache/huggingface/hub}) in the same layout ({@code models--org--name/blobs}, {@code
 * snapshots/<commit>/}, {@code refs/<revision>}), so that a cache filled by Python is reused and
 * the other way round. {@link io.github.mambadjl.hub.SnapshotDownloader} is the entry point; {@link
 * io.github.mambadjl.hub.HubSettings} reads the environment variables.
 */
package io.github.mambadjl.hub;
