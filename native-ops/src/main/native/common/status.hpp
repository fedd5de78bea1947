// Status codes, the thread-local last-error message, and the guard that keeps C++
// exceptions from crossing the C ABI.
#pragma once

#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>

#include "mambaops.h"

namespace mops {

/** An error carrying the status that the C ABI returns for it. */
class Error : public std::runtime_error {
  public:
    Error(mops_status status, const std::string &message)
        : std::runtime_error(message), status_(status) {}
    mops_status status() const { return status_; }

  private:
    mops_status status_;
};

/** The thread-local message behind mops_last_error / mops_cuda_last_error. */
std::string &last_error();

/** Throws an invalid-argument Error with the message when the condition is false. */
inline void require(bool condition, const std::string &message) {
    if (!condition) {
        throw Error(MOPS_ERR_INVALID_ARGUMENT, message);
    }
}

/** Runs body, turning any exception into a status and the thread-local message. */
template <typename Body> int32_t guarded(const char *op, Body &&body) noexcept {
    try {
        last_error().clear();
        body();
        return MOPS_OK;
    } catch (const Error &e) {
        last_error() = std::string(op) + ": " + e.what();
        return e.status();
    } catch (const std::bad_alloc &) {
        last_error() = std::string(op) + ": out of host memory";
        return MOPS_ERR_OUT_OF_MEMORY;
    } catch (const std::exception &e) {
        last_error() = std::string(op) + ": internal error: " + e.what();
        return MOPS_ERR_INTERNAL;
    } catch (...) {
        last_error() = std::string(op) + ": unknown internal error";
        return MOPS_ERR_INTERNAL;
    }
}

} // namespace mops
