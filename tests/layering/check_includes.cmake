# Fails when a file includes a header from a module it must not depend on. Dependencies
# point one way (README, "Design in brief"):
#   core <- redis <- http / upstream / lb / health / limit <- proxy <- asio / sim <- apps
# and among the middle modules only lb -> upstream, health -> http, upstream, and
# limit -> redis (the Redis store; redis is the client and depends on core alone); metrics (counters,
# histograms, the exposition writer; core alone) is used by upstream, health and proxy. cli/ (the
# programs' flag tables) stands apart: it depends on nothing here; sim and apps use it.
# Usage: cmake -DSOURCE_DIR=<repository> -P tests/layering/check_includes.cmake
cmake_minimum_required(VERSION 3.20)
if(NOT SOURCE_DIR)
  message(FATAL_ERROR "usage: cmake -DSOURCE_DIR=<repository> -P check_includes.cmake")
endif()

# What each module may include, besides itself.
set(allowed_core "")
set(allowed_http "core")
set(allowed_upstream "core;metrics")
set(allowed_redis "core")
set(allowed_limit "core;redis;metrics")
set(allowed_metrics "core")
set(allowed_lb "core;upstream")
set(allowed_health "core;http;upstream;metrics")
set(allowed_proxy "core;http;upstream;lb;health;limit;redis;metrics")
set(allowed_asio "core")
set(allowed_top "core;proxy")  # include/bb/proxy.hpp, what a user includes
set(allowed_sim "core;http;upstream;lb;health;limit;redis;metrics;proxy;top;cli")
set(allowed_admin "core;http")
set(allowed_cli "")
set(allowed_apps "core;http;upstream;lb;health;limit;redis;metrics;proxy;top;asio;cli;admin;apps")

file(GLOB_RECURSE files RELATIVE "${SOURCE_DIR}"
  "${SOURCE_DIR}/include/bb/*.hpp" "${SOURCE_DIR}/sim/*.hpp" "${SOURCE_DIR}/sim/*.cpp"
  "${SOURCE_DIR}/cli/*.hpp" "${SOURCE_DIR}/apps/*.hpp" "${SOURCE_DIR}/apps/*.cpp")
set(violations "")
set(checked 0)
foreach(f IN LISTS files)
  if(f MATCHES "^include/bb/([a-z_]+)/")
    set(from "${CMAKE_MATCH_1}")
  elseif(f MATCHES "^include/bb/[a-z_]+\\.hpp$")
    set(from "top")
  elseif(f MATCHES "^(sim|cli|apps)/")
    set(from "${CMAKE_MATCH_1}")
  endif()
  if(NOT DEFINED allowed_${from})
    list(APPEND violations "${f}: module '${from}' has no entry in the dependency table")
    continue()
  endif()
  file(STRINGS "${SOURCE_DIR}/${f}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"](bb|sim|cli|apps)/")
  foreach(line IN LISTS lines)
    math(EXPR checked "${checked} + 1")
    if(line MATCHES "[<\"]bb/([a-z_]+)/")
      set(to "${CMAKE_MATCH_1}")
    elseif(line MATCHES "[<\"]bb/[a-z_]+\\.hpp")
      set(to "top")
    elseif(line MATCHES "[<\"](sim|cli|apps)/")
      set(to "${CMAKE_MATCH_1}")
    else()
      continue()
    endif()
    if(to STREQUAL from)
      continue()
    endif()
    if(NOT to IN_LIST allowed_${from})
      string(STRIP "${line}" shown)
      list(APPEND violations "${f}: ${from} -> ${to} (${shown})")
    endif()
  endforeach()
endforeach()

if(violations)
  list(LENGTH violations n)
  string(REPLACE ";" "\n  " listed "${violations}")
  message(FATAL_ERROR "${n} include(s) against the direction of dependencies:\n  ${listed}")
endif()
message(STATUS "include direction: ${checked} includes checked, none against the direction")
