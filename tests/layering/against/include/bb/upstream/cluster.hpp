#pragma once
// A fixture for tests/layering: the include that made a cycle (upstream -> proxy -> lb ->
// upstream) before the configuration moved to its modules. The check must reject it.
#include <bb/proxy/config.hpp>
