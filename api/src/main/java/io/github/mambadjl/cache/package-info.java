/**
 * The inference cache: per layer conv and SSM states or attention keys and values, with snapshot,
 * restore and fork.
 */
package io.github.mambadjl.cache;
