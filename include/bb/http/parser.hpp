#pragma once
// Incremental parsers for request and response heads (RFC 9110, RFC 9112): both of them,
// for code that uses both. Each idea has a header of its own: limits.hpp,
// head_scanner.hpp (where a head ends), framing.hpp (what it says about its body),
// target.hpp (request targets and Host), request_parser.hpp, response_parser.hpp.

#include "bb/http/request_parser.hpp"
#include "bb/http/response_parser.hpp"
