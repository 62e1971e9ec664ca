#include "kernels/rope.h"

#include <cmath>
#include <numbers>

#include "core/error.h"

namespace llmnpu::kernels {

std::vector<double> rope_inv_freq(int rotary_dim, double base, const RopeScalingParams& scaling) {
  check(rotary_dim > 0 && rotary_dim % 2 == 0, "rope: rotary dimension must be even and positive, got ",
        rotary_dim);
  check(base > 0, "rope: base must be positive, got ", base);
  std::vector<double> inv_freq(size_t(rotary_dim / 2));
  for (size_t i = 0; i < inv_freq.size(); ++i) inv_freq[i] = std::pow(base, -2.0 * double(i) / rotary_dim);
  switch (scaling.kind) {
    case RopeScalingKind::None: break;
    case RopeScalingKind::Linear:
      check(scaling.factor > 0, "rope: linear scaling factor must be positive");
      for (double& f : inv_freq) f /= scaling.factor;
      break;
    case RopeScalingKind::Llama3: {
      check(scaling.factor > 0 && scaling.low_freq_factor > 0 &&
                scaling.high_freq_factor > scaling.low_freq_factor && scaling.original_context > 0,
            "rope: invalid llama3 scaling parameters");
      double low_wavelen = scaling.original_context / scaling.low_freq_factor;
      double high_wavelen = scaling.original_context / scaling.high_freq_factor;
      for (double& f : inv_freq) {
        double wavelen = 2 * std::numbers::pi / f;
        if (wavelen < high_wavelen) continue;  // high frequencies: unchanged
        if (wavelen > low_wavelen) {
          f /= scaling.factor;  // low frequencies: fully scaled
        } else {
          double smooth = (scaling.original_context / wavelen - scaling.low_freq_factor) /
                          (scaling.high_freq_factor - scaling.low_freq_factor);
          f = (1 - smooth) * f / scaling.factor + smooth * f;
        }
      }
      break;
    }
  }
  return inv_freq;
}

namespace {

void check_args(int T, int n_heads, int head_dim, const std::vector<double>& inv_freq) {
  check(T >= 0 && n_heads >= 0 && head_dim >= 0, "rope: negative size");
  check(inv_freq.size() * 2 <= size_t(head_dim), "rope: rotary dimension ", inv_freq.size() * 2,
        " exceeds head_dim ", head_dim);
}

// cos/sin of positions [pos0, pos0 + T) for every frequency, [T][cos half | sin half], computed in
// double. The last table is kept per thread: the q and k of every layer of a chunk use the same
// positions (48 calls per chunk for a 24-layer model), so the table is computed once, not 48 times.
const float* rope_table(int pos0, int T, const std::vector<double>& inv_freq) {
  struct Table {
    int pos0 = -1, T = -1;
    std::vector<double> inv_freq;
    std::vector<float> cs;
  };
  thread_local Table table;
  if (table.pos0 != pos0 || table.T < T || table.inv_freq != inv_freq) {
    const size_t half = inv_freq.size();
    table.cs.resize(size_t(T) * half * 2);
    for (int t = 0; t < T; ++t) {
      const double pos = double(pos0) + t;
      float* row = table.cs.data() + size_t(t) * half * 2;
      for (size_t i = 0; i < half; ++i) {
        const double angle = pos * inv_freq[i];
        row[i] = float(std::cos(angle));
        row[half + i] = float(std::sin(angle));
      }
    }
    table.pos0 = pos0, table.T = T, table.inv_freq = inv_freq;
  }
  return table.cs.data();
}

}  // namespace

void rope_apply(float* x, size_t x_row_stride, int T, int n_heads, int head_dim, int pos0,
                const std::vector<double>& inv_freq, RopePairing pairing) {
  check_args(T, n_heads, head_dim, inv_freq);
  const int half = int(inv_freq.size());
  if (T == 0 || half == 0) return;
  const float* cs_all = rope_table(pos0, T, inv_freq);
  for (int t = 0; t < T; ++t) {
    const float* cs = cs_all + size_t(t) * size_t(half) * 2;
    const float* c = cs;
    const float* s = cs + half;
    for (int h = 0; h < n_heads; ++h) {
      float* v = x + size_t(t) * x_row_stride + size_t(h) * head_dim;
      if (pairing == RopePairing::Interleaved) {
        for (int i = 0; i < half; ++i) {
          float a = v[2 * i], b = v[2 * i + 1];
          v[2 * i] = a * c[i] - b * s[i];
          v[2 * i + 1] = a * s[i] + b * c[i];
        }
      } else {
        float* lo = v;
        float* hi = v + half;
        for (int i = 0; i < half; ++i) {
          float a = lo[i], b = hi[i];
          lo[i] = a * c[i] - b * s[i];
          hi[i] = a * s[i] + b * c[i];
        }
      }
    }
  }
}

void rope_apply_reference(float* x, size_t x_row_stride, int T, int n_heads, int head_dim, int pos0,
                          const std::vector<double>& inv_freq, RopePairing pairing) {
  check_args(T, n_heads, head_dim, inv_freq);
  const int half = int(inv_freq.size());
  for (int t = 0; t < T; ++t)
    for (int h = 0; h < n_heads; ++h) {
      float* v = x + size_t(t) * x_row_stride + size_t(h) * head_dim;
      for (int i = 0; i < half; ++i) {
        double angle = (double(pos0) + t) * inv_freq[size_t(i)];
        int ia = pairing == RopePairing::Interleaved ? 2 * i : i;
        int ib = pairing == RopePairing::Interleaved ? 2 * i + 1 : i + half;
        double a = v[ia], b = v[ib];
        v[ia] = float(a * std::cos(angle) - b * std::sin(angle));
        v[ib] = float(a * std::sin(angle) + b * std::cos(angle));
      }
    }
}

}  // namespace llmnpu::kernels
