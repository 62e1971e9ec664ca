#include "quant/prepared_model.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/half.h"
#include "format/gguf_writer.h"
#include "model/model_writer.h"
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

namespace {

void append_rows(std::vector<float>& dst, const float* src, int rows, int cols, const char* what) {
  check(src != nullptr, "model has no ", what, " weights (is it a prepared model already?)");
  dst.insert(dst.end(), src, src + size_t(rows) * size_t(cols));
}

}  // namespace

std::vector<float> fused_weights(const Model& model, int layer, LinearSlot slot, std::vector<float>* bias) {
  const ModelConfig& c = model.config;
  check(layer >= 0 && size_t(layer) < model.weights.layers.size(), "model has no layer ", layer);
  const LayerWeights& L = model.weights.layers[size_t(layer)];
  std::vector<float> w;
  if (bias) bias->clear();
  switch (slot) {
    case LinearSlot::Qkv:
      append_rows(w, L.wq, c.q_dim(), c.dim, "wq");
      append_rows(w, L.wk, c.kv_dim(), c.dim, "wk");
      append_rows(w, L.wv, c.kv_dim(), c.dim, "wv");
      if (bias && L.bq && L.bk && L.bv) {
        bias->insert(bias->end(), L.bq, L.bq + c.q_dim());
        bias->insert(bias->end(), L.bk, L.bk + c.kv_dim());
        bias->insert(bias->end(), L.bv, L.bv + c.kv_dim());
      }
      break;
    case LinearSlot::O: append_rows(w, L.wo, c.dim, c.q_dim(), "wo"); break;
    case LinearSlot::GateUp:
      if (c.ffn_gated) append_rows(w, L.w_gate, c.ffn_dim, c.dim, "gate");
      append_rows(w, L.w_up, c.ffn_dim, c.dim, "up");
      break;
    case LinearSlot::Down: append_rows(w, L.w_down, c.dim, c.ffn_dim, "down"); break;
  }
  // Phi-2's biases on the output projection and the MLP (an ungated MLP: the up projection's).
  const float* b = slot == LinearSlot::O                        ? L.bo
                   : slot == LinearSlot::Down                   ? L.b_down
                   : slot == LinearSlot::GateUp && !c.ffn_gated ? L.b_up
                                                                : nullptr;
  if (bias && b) bias->assign(b, b + (slot == LinearSlot::GateUp ? c.ffn_dim : c.dim));  // one per output row
  return w;
}

PreparedLinear prepare_linear(int layer, LinearSlot slot, const float* w, int out, int in,
                              std::vector<float> bias, const ActivationStats& stats,
                              const ScaleChoice& choice, const LinearPrepareOptions& options) {
  check(stats.channels() == in, linear_name(layer, slot), ": calibration saw ", stats.channels(),
        " input channels, the weights have ", in);
  check(bias.empty() || int(bias.size()) == out, linear_name(layer, slot), ": bias size mismatch");
  PreparedLinear p;
  p.layer = layer;
  p.slot = slot;
  p.weights = quantize_weights(w, out, in, options.per_channel_weights,
                               weight_outliers_per_row(options.weight_outlier_share, in));
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
  // W^T in F16: row k is the weight column of input channel k, what one outlier multiplies.
  const size_t N = size_t(out), K = size_t(in);
  std::vector<float> rest(w, w + N * K);
  for (int32_t idx : p.weights.outlier_index) rest[size_t(idx)] = 0;
  p.weight_t.resize(N * K);
  for (size_t n = 0; n < N; ++n)
    for (size_t k = 0; k < K; ++k) p.weight_t[k * N + n] = float_to_half(rest[n * K + k]);
  set_hot_channels(p, select_hot_channels(counts, options.hot_share));
  return p;
}

void set_hot_channels(PreparedLinear& p, std::vector<int32_t> channels) {
  const size_t N = size_t(p.out());
  check(std::is_sorted(channels.begin(), channels.end()), p.name(), ": hot channels must be increasing");
  p.hot_rows.clear();
  for (int32_t k : channels) {
    check(k >= 0 && k < p.in(), p.name(), ": hot channel ", k, " out of range");
    p.hot_rows.insert(p.hot_rows.end(), p.weight_t.begin() + long(size_t(k) * N),
                      p.weight_t.begin() + long((size_t(k) + 1) * N));
  }
  p.hot_channels = std::move(channels);
  p.hot_coverage = outlier_coverage(p.channel_outliers, p.hot_channels);
}

BudgetedHotChannels apply_resident_budget(std::vector<PreparedLinear>& linears, size_t budget_bytes) {
  std::vector<HotChannelRequest> requests;
  for (const PreparedLinear& L : linears)
    requests.push_back({L.hot_channels, L.channel_outliers, size_t(L.out()) * sizeof(uint16_t),
                        L.hot_bytes() - L.hot_rows.size() * sizeof(uint16_t)});
  BudgetedHotChannels r = fit_hot_channels(requests, budget_bytes);
  for (size_t i = 0; i < linears.size(); ++i)
    if (r.channels[i] != linears[i].hot_channels) set_hot_channels(linears[i], r.channels[i]);
  return r;
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

void write_prepared_gguf(const Model& m, const std::vector<PreparedLinear>& linears,
                         const PreparedSettings& s, const std::string& path) {
  const ModelConfig& c = m.config;
  c.validate();
  check(linears.size() == size_t(c.n_layers) * kSlotsPerLayer, "prepared model needs ",
        c.n_layers * kSlotsPerLayer, " linears, got ", linears.size());
  GgufWriter w;
  set_model_metadata(m, w);
  // Prepared-model keys (docs/prepared-format.md).
  const std::string q = "llmnpu.prepared.";
  w.set(q + "version", GgufValue::of_u32(kPreparedVersion));
  w.set(q + "rope_layout",
        GgufValue::of_string(c.rope_layout == RopeLayout::Interleaved ? "interleaved" : "half_split"));
  w.set(q + "scale_method", GgufValue::of_string(scale_method_name(s.policy.method)));
  w.set(q + "percentile", GgufValue::of_f32(float(s.policy.percentile)));
  w.set(q + "percentile_ratio", GgufValue::of_f32(float(s.policy.ratio)));
  w.set(q + "channel_ratio", GgufValue::of_f32(float(s.policy.channel_ratio)));
  w.set(q + "max_channel_share", GgufValue::of_f32(float(s.policy.max_channel_share)));
  w.set(q + "weight_granularity", GgufValue::of_string(s.per_channel_weights ? "channel" : "tensor"));
  w.set(q + "tail_percentile", GgufValue::of_f32(float(s.policy.tail_percentile)));
  w.set(q + "weight_outlier_share", GgufValue::of_f32(float(s.weight_outlier_share)));
  w.set(q + "hot_share", GgufValue::of_f32(float(s.hot_share)));
  w.set(q + "prune", GgufValue::of_string(s.prune));
  w.set(q + "prune_fraction", GgufValue::of_f32(float(s.prune_fraction)));
  w.set(q + "calibration_tokens", GgufValue::of_u32(uint32_t(s.calibration_tokens)));
  w.set(q + "calibration_file", GgufValue::of_string(s.calibration_file));
  w.set(q + "resident_budget", GgufValue::of_f32(float(s.resident_budget)));
  w.set(q + "recipe_mode", GgufValue::of_string(s.recipe_mode));
  w.set(q + "recipe", GgufValue::of_string(s.recipe));
  w.set(q + "heldout_mean_kl", GgufValue::of_f32(float(s.heldout_kl)));
  w.set(q + "heldout_baseline_kl", GgufValue::of_f32(float(s.heldout_baseline_kl)));
  std::vector<std::string> names;
  std::vector<int32_t> shadow, outlier_channels, hot_counts;
  std::vector<float> importance, act_max, p99, p999, p9999, outliers, coverage;
  for (size_t i = 0; i < linears.size(); ++i) {
    const PreparedLinear& L = linears[i];
    check(L.layer == int(i / kSlotsPerLayer) && int(L.slot) == int(i % kSlotsPerLayer),
          "prepared linears out of order at ", i);
    names.push_back(L.name());
    shadow.push_back(L.shadow ? 1 : 0);
    outlier_channels.push_back(L.outlier_channels);
    hot_counts.push_back(int32_t(L.hot_channels.size()));
    importance.push_back(float(L.importance));
    act_max.push_back(L.act_max);
    p99.push_back(L.p99);
    p999.push_back(L.p999);
    p9999.push_back(L.p9999);
    outliers.push_back(float(L.outliers));
    coverage.push_back(float(L.hot_coverage));
  }
  w.set(q + "linears", GgufValue::of_strings(names));
  w.set(q + "shadow", GgufValue::of_i32s(shadow));
  w.set(q + "importance", GgufValue::of_f32s(importance));
  w.set(q + "act_max", GgufValue::of_f32s(act_max));
  w.set(q + "act_p99", GgufValue::of_f32s(p99));
  w.set(q + "act_p99_9", GgufValue::of_f32s(p999));
  w.set(q + "act_p99_99", GgufValue::of_f32s(p9999));
  w.set(q + "outlier_channels", GgufValue::of_i32s(outlier_channels));
  w.set(q + "calibration_outliers", GgufValue::of_f32s(outliers));
  w.set(q + "hot_channels", GgufValue::of_i32s(hot_counts));
  w.set(q + "hot_coverage", GgufValue::of_f32s(coverage));

  auto f32 = [&](const std::string& name, const float* data, std::vector<uint64_t> dims) {
    check(data != nullptr, "cannot write the prepared model: '", name, "' is missing");
    uint64_t n = 1;
    for (auto d : dims) n *= d;
    w.add_tensor(name, GgmlType::F32, dims, data, size_t(n * 4));
  };
  // Embedding, norms (and their biases), output head and RoPE divisors as a float GGUF stores them.
  std::list<std::vector<float>> scratch;
  add_float_tensors(m, w, GgmlType::F32, false, scratch);
  add_rope_freqs_tensor(c, w);
  for (const PreparedLinear& L : linears) {
    const std::string b = L.name() + ".";
    const uint64_t in = uint64_t(L.in()), out = uint64_t(L.out());
    w.add_tensor(b + "weight", GgmlType::I8, {in, out}, L.weights.q.data(), L.weights.q.size());
    f32(b + "weight_scale", L.weights.scales.data(), {uint64_t(L.weights.scales.size())});
    if (!L.bias.empty()) f32(b + "bias", L.bias.data(), {out});
    f32(b + "act_scale", &L.act_scale, {1});
    if (!L.weights.outlier_index.empty()) {
      const uint64_t count = L.weights.outlier_index.size();
      w.add_tensor(b + "weight_outlier_index", GgmlType::I32, {count}, L.weights.outlier_index.data(),
                   count * 4);
      f32(b + "weight_outlier_value", L.weights.outlier_value.data(), {count});
    }
    if (!L.hot_channels.empty()) {
      w.add_tensor(b + "hot_channels", GgmlType::I32, {uint64_t(L.hot_channels.size())},
                   L.hot_channels.data(), L.hot_channels.size() * 4);
      w.add_tensor(b + "hot_rows", GgmlType::F16, {out, uint64_t(L.hot_channels.size())}, L.hot_rows.data(),
                   L.hot_rows.size() * 2);
    }
    w.add_tensor(b + "weight_t", GgmlType::F16, {out, in}, L.weight_t.data(), L.weight_t.size() * 2);
  }
  w.write(path);
}

}  // namespace llmnpu::quant
