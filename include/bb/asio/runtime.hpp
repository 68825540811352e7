#pragma once
/// The real-socket runtime in one include: Asio transport, clock and run().

#include <bb/asio/clock.hpp>
#include <bb/asio/run.hpp>
#include <bb/asio/transport.hpp>
