#include "backend/prepared_writer.h"

#include <algorithm>
#include <list>

#include "backend/int8_linear.h"
#include "core/error.h"
#include "format/gguf_writer.h"
#include "model/model_writer.h"
#include "model/tensor_names.h"

namespace llmnpu {

using quant::kSlotsPerLayer;
using quant::PreparedLinear;

void write_prepared_gguf(const Model& m, const std::vector<PreparedLinear>& linears,
                         const PreparedSettings& s, const std::string& path) {
  const ModelConfig& c = m.config;
  c.validate();
  check(linears.size() == size_t(c.n_layers) * kSlotsPerLayer, "prepared model needs ",
        c.n_layers * kSlotsPerLayer, " linears, got ", linears.size());
  GgufWriter w;
  set_model_metadata(m, w);
  w.set("general.alignment", GgufValue::of_u32(64));  // the kernels load packed panels with aligned loads
  // Prepared-model keys (docs/prepared-format.md).
  const std::string q = "llmnpu.prepared.";
  w.set(q + "version", GgufValue::of_u32(quant::kPreparedVersion));
  w.set(q + "rope_layout",
        GgufValue::of_string(c.rope_layout == RopeLayout::Interleaved ? "interleaved" : "half_split"));
  w.set(q + "scale_method", GgufValue::of_string(quant::scale_method_name(s.policy.method)));
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
  w.set(q + "warm_budget", GgufValue::of_f32(float(s.warm_budget)));
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
  // Norms (and their biases) and RoPE divisors as a float GGUF stores them.
  std::list<std::vector<float>> scratch;
  add_float_tensors(m, w, GgmlType::F32, false, scratch, /*matrices=*/false);
  add_rope_freqs_tensor(c, w);
  // Embedding and output head in F16: the int8 head is quantized from it at load, and the fp32 paths
  // (embedding rows, every position's logits) convert it. Block-quantized embeddings (Q8_0) lose the
  // planted massive channels' neighbours: measured mean KL 0.013 against 1.1e-5 on qwen2.5-0.5b.
  const MatrixRef embedding = m.matrix(-1, TensorRole::TokenEmbedding),
                  head = m.matrix(-1, TensorRole::Output);
  check(bool(embedding) && bool(head),
        "cannot write the prepared model: the embedding or output head is missing");
  // Converted while the file is written, 1024 rows at a time (a whole table would be 272 MB on
  // qwen2.5-0.5b, 525 MB on llama-3.2-1b: the peak of prepare).
  auto add_f16_table = [&](const std::string& name, const MatrixRef& table) {
    const size_t bytes = size_t(table.rows) * size_t(table.cols) * 2;
    w.add_tensor_produced(name, GgmlType::F16, {uint64_t(c.dim), uint64_t(c.vocab_size)}, bytes,
                          [table](const GgufWriter::PieceWriter& write) {
                            constexpr int kRows = 1024;
                            std::vector<uint16_t> block(size_t(kRows) * size_t(table.cols));
                            for (int r0 = 0; r0 < table.rows; r0 += kRows) {
                              const int n = std::min(kRows, table.rows - r0);
                              table.read_rows_f16(r0, n, block.data());
                              write(block.data(), size_t(n) * size_t(table.cols) * 2);
                            }
                          });
  };
  add_f16_table("token_embd.weight", embedding);
  if (!c.tied_output) add_f16_table("output.weight", head);
  for (const PreparedLinear& L : linears) {
    const std::string b = L.name() + ".";
    const uint64_t out = uint64_t(L.out());
    w.add_tensor(b + "weight", GgmlType::I8, {uint64_t(L.packed.data.size())}, L.packed.data.data(),
                 L.packed.data.size());
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
    if (!L.warm_channels.empty()) {
      w.add_tensor(b + "warm_channels", GgmlType::I32, {uint64_t(L.warm_channels.size())},
                   L.warm_channels.data(), L.warm_channels.size() * 4);
      w.add_tensor(b + "warm_rows", GgmlType::F16, {out, uint64_t(L.warm_channels.size())},
                   L.warm_rows.data(), L.warm_rows.size() * 2);
    }
  }
  w.write(path);
}

}  // namespace llmnpu
