#pragma once
/// What a user of balancebeam includes: the proxy and the core it is built on. The real
/// runtime is in <bb/asio/runtime.hpp>; the simulator in <sim/...>.

#include <bb/core/clock.hpp>
#include <bb/core/error.hpp>
#include <bb/core/log.hpp>
#include <bb/core/net.hpp>
#include <bb/core/random.hpp>
#include <bb/core/scope.hpp>
#include <bb/core/task.hpp>
#include <bb/core/timeout.hpp>
#include <bb/core/transport.hpp>
#include <bb/core/when_any.hpp>
#include <bb/proxy/config.hpp>
#include <bb/proxy/proxy.hpp>
