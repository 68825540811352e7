# How the real-socket runtime (include/bb/asio) talks to the kernel, for the programs and
# tests built here (the target bb_asio):
#   BB_ASIO_FAST_PATH ON (default)  the fast path, include/bb/asio/fast: reaches into the
#                                   internals of Asio 1.22.1's epoll reactor to save system
#                                   calls; any other Asio is a configure error
#   BB_ASIO_FAST_PATH OFF           include/bb/asio/portable: Asio's public API only
#   BB_ASIO_IO_URING ON             the portable path on Asio's io_uring backend instead of
#                                   epoll (liburing; needs BB_ASIO_FAST_PATH OFF)
# A project that includes the headers itself gets the portable path unless it defines
# BB_ASIO_FAST_PATH=1.
option(BB_ASIO_FAST_PATH "Real-socket runtime on Asio 1.22.1's epoll internals (fewer system calls)" ON)
option(BB_ASIO_IO_URING "Real-socket runtime on Asio's io_uring backend (portable path, liburing)" OFF)

file(STRINGS "${ASIO_INCLUDE_DIR}/asio/version.hpp" bb_asio_version_line REGEX "^#define ASIO_VERSION [0-9]+")
string(REGEX REPLACE "^#define ASIO_VERSION ([0-9]+).*" "\\1" BB_ASIO_VERSION "${bb_asio_version_line}")

if(BB_ASIO_FAST_PATH)
  if(BB_ASIO_IO_URING)
    message(FATAL_ERROR "BB_ASIO_IO_URING=ON needs BB_ASIO_FAST_PATH=OFF: the fast path is written for epoll")
  endif()
  if(NOT BB_ASIO_VERSION STREQUAL "102201" OR NOT CMAKE_SYSTEM_NAME STREQUAL "Linux")
    message(FATAL_ERROR "BB_ASIO_FAST_PATH=ON is written against Asio 1.22.1 (ASIO_VERSION 102201) on Linux "
      "(epoll); found ASIO_VERSION ${BB_ASIO_VERSION} on ${CMAKE_SYSTEM_NAME} in ${ASIO_INCLUDE_DIR}. "
      "Configure with -DBB_ASIO_FAST_PATH=OFF for the portable path on Asio's public API.")
  endif()
  target_compile_definitions(bb_asio INTERFACE BB_ASIO_FAST_PATH=1)
  message(STATUS "bb_asio: fast path on Asio ${BB_ASIO_VERSION}'s epoll reactor")
else()
  target_compile_definitions(bb_asio INTERFACE BB_ASIO_FAST_PATH=0)
  if(BB_ASIO_IO_URING)
    find_path(LIBURING_INCLUDE_DIR liburing.h)
    find_library(LIBURING_LIBRARY uring)
    if(NOT LIBURING_INCLUDE_DIR OR NOT LIBURING_LIBRARY)
      message(FATAL_ERROR "BB_ASIO_IO_URING=ON needs liburing (Debian: scripts/install-deps liburing-dev)")
    endif()
    target_include_directories(bb_asio SYSTEM INTERFACE ${LIBURING_INCLUDE_DIR})
    target_compile_definitions(bb_asio INTERFACE ASIO_HAS_IO_URING ASIO_DISABLE_EPOLL)
    target_link_libraries(bb_asio INTERFACE ${LIBURING_LIBRARY})
    message(STATUS "bb_asio: portable path on Asio ${BB_ASIO_VERSION}'s io_uring backend")
  else()
    message(STATUS "bb_asio: portable path on Asio ${BB_ASIO_VERSION}")
  endif()
endif()
