#pragma once
// Rotary position embedding, applied in place.
// Angles are pos * inv_freq[i] computed in double, so positions up to 32k and beyond stay accurate.
#include <cstddef>
#include <vector>

namespace llmnpu::kernels {

// Which dimensions form a rotated pair (i = 0 .. rotary_dim/2 - 1):
//   Interleaved: (x[2i], x[2i+1])                  (llama.cpp "normal", Meta llama checkpoints)
//   HalfSplit:   (x[i], x[i + rotary_dim/2])       (HF "rotate_half", NeoX, Qwen2)
enum class RopePairing { Interleaved, HalfSplit };

enum class RopeScalingKind { None, Linear, Llama3 };

struct RopeScalingParams {
  RopeScalingKind kind = RopeScalingKind::None;
  double factor = 1.0;             // Linear: positions / factor. Llama3: long wavelengths / factor.
  double low_freq_factor = 1.0;    // Llama3
  double high_freq_factor = 4.0;   // Llama3
  double original_context = 8192;  // Llama3
};

// inv_freq[i] = base^(-2i / rotary_dim), i < rotary_dim/2, then scaled. Linear scaling is folded in
// (dividing every inv_freq by factor equals dividing positions by factor). Throws on odd rotary_dim.
std::vector<double> rope_inv_freq(int rotary_dim, double base, const RopeScalingParams& scaling = {});

// x: [T][n_heads][head_dim] with row stride x_row_stride (floats) between tokens; heads are contiguous
// inside a token. Token t sits at position pos0 + t. Only the first rotary_dim dims of each head rotate
// (rotary_dim = inv_freq.size() * 2 <= head_dim).
void rope_apply(float* x, size_t x_row_stride, int T, int n_heads, int head_dim, int pos0,
                const std::vector<double>& inv_freq, RopePairing pairing);

void rope_apply_reference(float* x, size_t x_row_stride, int T, int n_heads, int head_dim, int pos0,
                          const std::vector<double>& inv_freq, RopePairing pairing);

}  // namespace llmnpu::kernels
