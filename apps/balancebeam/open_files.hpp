#pragma once
/// balancebeam::raise_open_file_limit: as many descriptors as the hard limit allows.

#include <sys/resource.h>

namespace balancebeam {

/// Every connection is a descriptor (two while it talks to an upstream): takes all the
/// open-file limit allows, since a soft limit of 1024 is common where the hard one is far
/// higher. The limit then in force; 0 when it cannot be read.
inline rlim_t raise_open_file_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0) return 0;
  if (r.rlim_cur < r.rlim_max && r.rlim_max != RLIM_INFINITY) {
    rlimit want = r;
    want.rlim_cur = r.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &want) == 0) r = want;
  }
  return r.rlim_cur;
}

}  // namespace balancebeam
