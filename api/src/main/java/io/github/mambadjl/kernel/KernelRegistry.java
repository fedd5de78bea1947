package io.github.mambadjl.kernel;

import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;

/** Holds the kernels registered through {@link SsmKernelsProvider}, by engine name. */
final class KernelRegistry {

    static final Map<String, SsmKernels> PROVIDERS = load();

    private KernelRegistry() {}

    private static Map<String, SsmKernels> load() {
        Map<String, SsmKernels> map = new ConcurrentHashMap<>();
        for (SsmKernelsProvider provider : ServiceLoader.load(SsmKernelsProvider.class)) {
            map.put(provider.engineName(), provider.kernels());
        }
        return map;
    }
}
