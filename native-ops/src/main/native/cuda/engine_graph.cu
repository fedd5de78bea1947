// Engine ops (CUDA): recording the work queued on an engine stream into a CUDA graph (stream
// capture), and replaying it with one launch.
#include <cuda_runtime.h>

#include "engine_common.cuh"
#include "mambaops.h"
#include "status.hpp"

extern "C" MOPS_API int32_t mops_cuda_graph_begin(void *stream) {
    return mops::guarded("cuda_graph_begin", [&] {
        cudaStream_t s = mops::ce::bind(stream);
        mops::require(!mops::ce::is_recording(s), "the stream is already recording a graph");
        MOPS_CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
    });
}

extern "C" MOPS_API int32_t mops_cuda_graph_end(void *stream, void *launch_stream, int32_t discard,
                                                void **exec) {
    return mops::guarded("cuda_graph_end", [&] {
        mops::require(exec != nullptr, "exec is NULL");
        mops::require(launch_stream != nullptr, "launch_stream is NULL");
        *exec = nullptr;
        cudaStream_t s = mops::ce::bind(stream);
        mops::require(mops::ce::is_recording(s), "the stream is not recording a graph");
        cudaGraph_t graph = nullptr;
        cudaError_t ended = cudaStreamEndCapture(s, &graph);
        if (discard || ended != cudaSuccess) {
            mops::ce::settle_recorded(s, true);
            if (graph != nullptr) {
                cudaGraphDestroy(graph);
            }
            if (ended != cudaSuccess) {
                cudaGetLastError(); // capture errors are not sticky: clear the last error
                throw mops::Error(MOPS_ERR_CUDA,
                                  std::string("the recording of the graph failed: ") +
                                      cudaGetErrorString(ended) +
                                      " (an operation of the step cannot be recorded)");
            }
            return;
        }
        cudaGraphExec_t instance = nullptr;
        // Each launch frees what the previous launch allocated and left live (the step's outputs),
        // at the same addresses, so the outputs stay where the arrays of the recording point.
        cudaError_t made =
            cudaGraphInstantiateWithFlags(&instance, graph, cudaGraphInstantiateFlagAutoFreeOnLaunch);
        cudaGraphDestroy(graph);
        if (made != cudaSuccess) {
            mops::ce::settle_recorded(s, true);
            MOPS_CUDA_CHECK(made);
        }
        cudaError_t launched = cudaGraphLaunch(instance, static_cast<cudaStream_t>(launch_stream));
        if (launched != cudaSuccess) {
            cudaGraphExecDestroy(instance);
            mops::ce::settle_recorded(s, true);
            MOPS_CUDA_CHECK(launched);
        }
        mops::ce::settle_recorded(s, false);
        *exec = instance;
    });
}

extern "C" MOPS_API int32_t mops_cuda_graph_launch(void *exec, void *stream) {
    return mops::guarded("cuda_graph_launch", [&] {
        mops::require(exec != nullptr, "exec is NULL");
        cudaStream_t s = mops::ce::bind(stream);
        MOPS_CUDA_CHECK(cudaGraphLaunch(static_cast<cudaGraphExec_t>(exec), s));
    });
}

extern "C" MOPS_API int32_t mops_cuda_graph_destroy(void *exec) {
    return mops::guarded("cuda_graph_destroy", [&] {
        if (exec != nullptr) {
            MOPS_CUDA_CHECK(cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(exec)));
        }
    });
}
