#include "status.hpp"

namespace mops {

std::string &last_error() {
    thread_local std::string message;
    return message;
}

} // namespace mops
