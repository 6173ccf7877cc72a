// What the fuzz targets share: an input is either handled or refused with a klab::Error (one line
// for the user); any other exception escaping is a finding.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "klab/error.h"

template <typename Fn>
int only_klab_errors(Fn&& fn) {
  try {
    fn();
  } catch (const klab::Error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FINDING: not a klab::Error: %s\n", e.what());
    std::abort();
  }
  return 0;
}
