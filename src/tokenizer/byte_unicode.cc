#include "tokenizer/byte_unicode.h"

#include "core/utf8.h"

namespace llmnpu::byte_unicode {
namespace {

struct Tables {
  std::array<uint32_t, 256> to_cp{};
  std::array<std::string, 256> to_utf8;
  std::array<int16_t, 324> from_cp{};  // code points < 324 cover every mapped character

  Tables() {
    from_cp.fill(-1);
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      to_cp[b] = printable ? uint32_t(b) : next++;
      utf8::append(to_utf8[b], to_cp[b]);
      from_cp[to_cp[b]] = int16_t(b);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

uint32_t byte_to_codepoint(uint8_t b) { return tables().to_cp[b]; }
const std::string& byte_to_utf8(uint8_t b) { return tables().to_utf8[b]; }

bool piece_to_bytes(std::string_view piece, std::string& out) {
  const auto& t = tables();
  auto* p = reinterpret_cast<const uint8_t*>(piece.data());
  size_t i = 0, n = piece.size();
  while (i < n) {
    uint32_t cp;
    if (p[i] < 0x80) {
      cp = p[i++];
    } else if ((p[i] & 0xE0) == 0xC0 && i + 1 < n) {
      cp = ((p[i] & 0x1F) << 6) | (p[i + 1] & 0x3F);
      i += 2;
    } else {
      return false;
    }
    if (cp >= t.from_cp.size() || t.from_cp[cp] < 0) return false;
    out += char(t.from_cp[cp]);
  }
  return true;
}

}  // namespace llmnpu::byte_unicode
