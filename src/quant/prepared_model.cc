#include "quant/prepared_model.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/half.h"
#include "model/tensor_names.h"
#include "quant/hot_channels.h"
#include "tokenizer/vocab.h"

namespace llmnpu::quant {

const char* slot_name(LinearSlot s) {
  switch (s) {
    case LinearSlot::Qkv: return "qkv";
    case LinearSlot::O: return "o";
    case LinearSlot::GateUp: return "gate_up";
    case LinearSlot::Down: return "down";
  }
  return "?";
}

std::string linear_name(int layer, LinearSlot s) { return str("blk.", layer, ".", slot_name(s)); }

std::pair<int, int> slot_shape(const ModelConfig& c, LinearSlot s) {
  switch (s) {
    case LinearSlot::Qkv: return {c.dim, c.q_dim() + 2 * c.kv_dim()};
    case LinearSlot::O: return {c.q_dim(), c.dim};
    case LinearSlot::GateUp: return {c.dim, (c.ffn_gated ? 2 : 1) * c.ffn_dim};
    case LinearSlot::Down: return {c.ffn_dim, c.dim};
  }
  return {0, 0};
}

namespace {

// The matrix's rows in fp32 (read in place or decoded from a streamed one) after dst's.
void append_rows(std::vector<float>& dst, const MatrixRef& src, int rows, int cols, const char* what) {
  check(bool(src), "model has no ", what, " weights (is it a prepared model already?)");
  check(src.rows == rows && src.cols == cols, what, " weights are ", src.rows, "x", src.cols, ", expected ",
        rows, "x", cols);
  const size_t at = dst.size();
  dst.resize(at + size_t(rows) * size_t(cols));
  src.read_rows(0, rows, dst.data() + at);
}

}  // namespace

void fused_weights(const Model& model, int layer, LinearSlot slot, std::vector<float>& w,
                   std::vector<float>* bias) {
  const ModelConfig& c = model.config;
  check(layer >= 0 && size_t(layer) < model.weights.layers.size(), "model has no layer ", layer);
  const LayerWeights& L = model.weights.layers[size_t(layer)];
  const auto [in, out] = slot_shape(c, slot);
  w.clear();
  w.reserve(size_t(in) * size_t(out));  // one allocation for the fused parts, none when w is reused
  if (bias) bias->clear();
  switch (slot) {
    case LinearSlot::Qkv:
      append_rows(w, model.matrix(layer, TensorRole::Wq), c.q_dim(), c.dim, "wq");
      append_rows(w, model.matrix(layer, TensorRole::Wk), c.kv_dim(), c.dim, "wk");
      append_rows(w, model.matrix(layer, TensorRole::Wv), c.kv_dim(), c.dim, "wv");
      if (bias && L.bq && L.bk && L.bv) {
        bias->insert(bias->end(), L.bq, L.bq + c.q_dim());
        bias->insert(bias->end(), L.bk, L.bk + c.kv_dim());
        bias->insert(bias->end(), L.bv, L.bv + c.kv_dim());
      }
      break;
    case LinearSlot::O: append_rows(w, model.matrix(layer, TensorRole::Wo), c.dim, c.q_dim(), "wo"); break;
    case LinearSlot::GateUp:
      if (c.ffn_gated) append_rows(w, model.matrix(layer, TensorRole::Gate), c.ffn_dim, c.dim, "gate");
      append_rows(w, model.matrix(layer, TensorRole::Up), c.ffn_dim, c.dim, "up");
      break;
    case LinearSlot::Down:
      append_rows(w, model.matrix(layer, TensorRole::Down), c.dim, c.ffn_dim, "down");
      break;
  }
  // Phi-2's biases on the output projection and the MLP (an ungated MLP: the up projection's).
  const float* b = slot == LinearSlot::O                        ? L.bo
                   : slot == LinearSlot::Down                   ? L.b_down
                   : slot == LinearSlot::GateUp && !c.ffn_gated ? L.b_up
                                                                : nullptr;
  if (bias && b) bias->assign(b, b + (slot == LinearSlot::GateUp ? c.ffn_dim : c.dim));  // one per output row
}

HotChannelRequest hot_channel_request(const ActivationStats& stats, int out,
                                      const LinearPrepareOptions& options) {
  HotChannelRequest r;
  r.channel_outliers = stats.channel_outliers();
  r.channels = select_hot_channels(r.channel_outliers, options.hot_share);
  r.row_bytes = size_t(out) * sizeof(uint16_t);
  // As PreparedLinear::hot_bytes counts them: row, column and value of each weight outlier.
  r.fixed_bytes = size_t(weight_outliers_per_row(options.weight_outlier_share, stats.channels())) *
                  size_t(out) * 3 * sizeof(float);
  return r;
}

HotChannelRequest warm_channel_request(const ActivationStats& stats, int out,
                                       const std::vector<int32_t>& hot) {
  HotChannelRequest r;
  r.channel_outliers = stats.channel_outliers();
  size_t h = 0;
  for (size_t k = 0; k < r.channel_outliers.size(); ++k) {
    while (h < hot.size() && size_t(hot[h]) < k) ++h;
    if (r.channel_outliers[k] > 0 && !(h < hot.size() && size_t(hot[h]) == k))
      r.channels.push_back(int32_t(k));
  }
  r.row_bytes = size_t(out) * sizeof(uint16_t);
  return r;
}

namespace {

// F16 rows of the float weights' columns `channels`, without the weight outliers.
std::vector<uint16_t> shadow_rows_of(const float* w, size_t N, size_t K, const std::vector<int32_t>& channels,
                                     const std::vector<int32_t>& outlier_index, const std::string& name) {
  std::vector<int32_t> index(K, -1);
  for (size_t h = 0; h < channels.size(); ++h) {
    const int32_t k = channels[h];
    check(k >= 0 && size_t(k) < K, name, ": shadow channel ", k, " out of range");
    check(h == 0 || channels[h - 1] < k, name, ": shadow channels must be increasing");
    index[size_t(k)] = int32_t(h);
  }
  std::vector<uint16_t> rows(channels.size() * N);
  for (size_t h = 0; h < channels.size(); ++h)
    for (size_t n = 0; n < N; ++n) rows[h * N + n] = float_to_half(w[n * K + size_t(channels[h])]);
  for (int32_t idx : outlier_index) {
    const int32_t h = index[size_t(idx) % K];
    if (h >= 0) rows[size_t(h) * N + size_t(idx) / K] = 0;
  }
  return rows;
}

}  // namespace

PreparedLinear prepare_linear(int layer, LinearSlot slot, const float* w, int out, int in,
                              std::vector<float> bias, const ActivationStats& stats,
                              const ScaleChoice& choice, const LinearPrepareOptions& options,
                              std::vector<int32_t> hot_channels, std::vector<int32_t> warm_channels) {
  check(stats.channels() == in, linear_name(layer, slot), ": calibration saw ", stats.channels(),
        " input channels, the weights have ", in);
  check(bias.empty() || int(bias.size()) == out, linear_name(layer, slot), ": bias size mismatch");
  check(std::is_sorted(hot_channels.begin(), hot_channels.end()), linear_name(layer, slot),
        ": hot channels must be increasing");
  PreparedLinear p;
  p.layer = layer;
  p.slot = slot;
  p.weights = quantize_weights(w, out, in, options.per_channel_weights,
                               weight_outliers_per_row(options.weight_outlier_share, in));
  p.packed = pack_int8_weights(p.weights.q.data(), out, in, p.weights.scales.data(), p.weights.per_channel);
  // The packed copy is the one kept. Swapped out: `q = {}` would keep the capacity (initializer_list).
  std::vector<int8_t>().swap(p.weights.q);
  p.bias = std::move(bias);
  p.act_scale = choice.scale;
  p.act_max = stats.max();
  p.p99 = stats.percentile(99);
  p.p999 = stats.percentile(99.9);
  p.p9999 = stats.percentile(99.99);
  const auto& counts = stats.channel_outliers();
  p.outliers = stats.total_outliers();
  p.outlier_channels = int(std::count_if(counts.begin(), counts.end(), [](uint64_t n) { return n > 0; }));
  p.channel_outliers = counts;
  p.importance = double(p.act_max) / double(p.act_scale);
  // Hot and warm rows: row h is the weight column of channel k in F16 (what one outlier multiplies),
  // without the weight outliers (they are applied to the float x on their own).
  const size_t N = size_t(out), K = size_t(in);
  p.hot_rows = shadow_rows_of(w, N, K, hot_channels, p.weights.outlier_index, p.name());
  p.warm_rows = shadow_rows_of(w, N, K, warm_channels, p.weights.outlier_index, p.name());
  p.warm_channels = std::move(warm_channels);
  p.hot_channels = std::move(hot_channels);
  p.hot_coverage = outlier_coverage(p.channel_outliers, p.hot_channels);
  return p;
}

int apply_pruning(std::vector<PreparedLinear>& linears, double fraction) {
  check(fraction >= 0 && fraction <= 1, "prune fraction must be in [0, 1], got ", fraction);
  std::vector<size_t> order(linears.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return linears[a].importance < linears[b].importance; });
  const size_t pruned = size_t(std::lround(fraction * double(linears.size())));
  for (size_t i = 0; i < order.size(); ++i) linears[order[i]].shadow = i >= pruned;
  return int(pruned);
}

}  // namespace llmnpu::quant
