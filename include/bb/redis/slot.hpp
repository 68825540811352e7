#pragma once
/// bb::redis::key_slot: the Redis Cluster hash slot of a key (CRC16/XMODEM of the key, or
/// of its hash tag, modulo 16384), as the cluster specification defines it.

#include <cstdint>
#include <string_view>

namespace bb::redis {

/// Slots in a Redis Cluster.
inline constexpr std::uint16_t slot_count = 16384;

/// CRC16 with polynomial 0x1021, initial value 0, no reflection (XMODEM): Redis's.
constexpr std::uint16_t crc16(std::string_view bytes) noexcept {
  std::uint16_t crc = 0;
  for (unsigned char c : bytes) {
    crc = static_cast<std::uint16_t>(crc ^ (c << 8));
    for (int i = 0; i < 8; ++i) crc = static_cast<std::uint16_t>(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
  }
  return crc;
}

/// The slot of `key`: only the part between the first '{' and the next '}' counts when
/// that part is not empty (a hash tag), else the whole key.
constexpr std::uint16_t key_slot(std::string_view key) noexcept {
  if (const auto open = key.find('{'); open != std::string_view::npos) {
    const auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) key = key.substr(open + 1, close - open - 1);
  }
  return static_cast<std::uint16_t>(crc16(key) % slot_count);
}

static_assert(crc16("123456789") == 0x31c3);  // the XMODEM check value

}  // namespace bb::redis
