#include "tokenizer/nfc.h"

#include <algorithm>
#include <vector>

#include "core/utf8.h"
#include "tokenizer/nfc_tables.h"

namespace llmnpu {
namespace {

using namespace nfc_tables;

constexpr uint32_t kHangulBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr uint32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount,
                   kSCount = kLCount * kNCount;

uint8_t combining_class(uint32_t cp) {
  if (cp < 0x300) return 0;
  auto* end = kCombiningClasses + kCombiningClassCount;
  auto* it = std::lower_bound(kCombiningClasses, end, cp,
                              [](const CombiningClass& c, uint32_t v) { return c.cp < v; });
  return it != end && it->cp == cp ? it->ccc : 0;
}

void decompose(uint32_t cp, std::vector<uint32_t>& out) {
  if (cp >= kHangulBase && cp < kHangulBase + kSCount) {
    uint32_t s = cp - kHangulBase;
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount) out.push_back(kTBase + s % kTCount);
    return;
  }
  if (cp >= 0xC0) {
    auto* end = kDecompositions + kDecompositionCount;
    auto* it = std::lower_bound(kDecompositions, end, cp,
                                [](const Decomposition& d, uint32_t v) { return d.cp < v; });
    if (it != end && it->cp == cp) {
      for (uint32_t c : it->to)
        if (c) out.push_back(c);
      return;
    }
  }
  out.push_back(cp);
}

// The primary composite of (a, b), or 0.
uint32_t compose(uint32_t a, uint32_t b) {
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
    return kHangulBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  if (a >= kHangulBase && a < kHangulBase + kSCount && (a - kHangulBase) % kTCount == 0 && b > kTBase &&
      b < kTBase + kTCount)
    return a + (b - kTBase);
  auto* end = kCompositions + kCompositionCount;
  auto* it = std::lower_bound(kCompositions, end, std::pair{a, b},
                              [](const Composition& c, std::pair<uint32_t, uint32_t> v) {
                                return c.first < v.first || (c.first == v.first && c.second < v.second);
                              });
  return it != end && it->first == a && it->second == b ? it->composite : 0;
}

}  // namespace

std::string nfc(std::string_view text) {
  // Text below U+0300 is already NFC (no decompositions or combining marks in that range matter).
  bool simple = true;
  for (unsigned char c : text) {
    if (c >= 0xCC) {  // lead bytes of U+0300 and above
      simple = false;
      break;
    }
  }
  if (simple) return std::string(text);

  std::vector<uint32_t> cps;
  for (uint32_t cp : utf8::decode(text)) decompose(cp, cps);

  // Canonical ordering: stable sort each run of non-starters by combining class.
  for (size_t i = 0; i < cps.size();) {
    if (combining_class(cps[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < cps.size() && combining_class(cps[j]) != 0) ++j;
    std::stable_sort(cps.begin() + i, cps.begin() + j,
                     [](uint32_t a, uint32_t b) { return combining_class(a) < combining_class(b); });
    i = j;
  }

  // Canonical composition.
  std::vector<uint32_t> out;
  out.reserve(cps.size());
  size_t starter = SIZE_MAX;  // index in out of the last starter
  int last_ccc = -1;          // class of the last character appended after the starter
  for (uint32_t cp : cps) {
    int ccc = combining_class(cp);
    if (starter != SIZE_MAX) {
      bool blocked = last_ccc != -1 && (last_ccc == 0 || last_ccc >= ccc);
      if (!blocked) {
        if (uint32_t c = compose(out[starter], cp)) {
          out[starter] = c;
          continue;
        }
      }
    }
    if (ccc == 0) {
      starter = out.size();
      last_ccc = -1;
    } else {
      last_ccc = ccc;
    }
    out.push_back(cp);
  }
  return utf8::encode(out);
}

}  // namespace llmnpu
