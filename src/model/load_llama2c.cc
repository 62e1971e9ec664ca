// llama2.c checkpoints (Karpathy's run.c format): a 7 x int32 header, then float32 arrays in a fixed
// order with every layer's copy of a weight stored together. There is no magic number, so the header
// must predict the file size exactly.
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/mapped_file.h"
#include "model/load_common.h"

namespace llmnpu {

namespace {

constexpr size_t kHeaderBytes = 7 * sizeof(int32_t);

// Float counts of each array, in file order (with per-layer arrays counted for all layers).
struct Layout {
  uint64_t embedding, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, freq_cis, wcls;
  uint64_t total() const {
    return embedding + rms_att + wq + wk + wv + wo + rms_ffn + w1 + w2 + w3 + rms_final + freq_cis + wcls;
  }
};

Layout layout_of(const Llama2cHeader& h) {
  using U = uint64_t;
  const U dim = U(h.dim), L = U(h.n_layers), head = U(h.dim / h.n_heads), kv = U(h.n_kv_heads) * head;
  const U vocab = U(h.vocab_size), hidden = U(h.hidden_dim);
  return {vocab * dim,
          L * dim,
          L * dim * dim,
          L * kv * dim,
          L * kv * dim,
          L * dim * dim,
          L * dim,
          L * hidden * dim,
          L * dim * hidden,
          L * hidden * dim,
          dim,
          U(h.seq_len) * head,  // two arrays of seq_len * head/2
          h.shared_classifier ? 0 : vocab * dim};
}

}  // namespace

Llama2cHeader read_llama2c_header(const uint8_t* data, size_t size, const std::string& path) {
  check(size >= kHeaderBytes, "'", path, "' is not a llama2.c checkpoint (shorter than its header)");
  int32_t v[7];
  std::memcpy(v, data, kHeaderBytes);
  // A negative vocab size means an unshared classifier; INT32_MIN has no positive twin.
  const int32_t vocab = v[5] == INT32_MIN ? 0 : v[5] < 0 ? -v[5] : v[5];
  Llama2cHeader h{v[0], v[1], v[2], v[3], v[4], vocab, v[6], v[5] > 0};
  const bool plausible = h.dim > 0 && h.dim <= (1 << 16) && h.hidden_dim > 0 && h.hidden_dim <= (1 << 18) &&
                         h.n_layers > 0 && h.n_layers <= 1024 && h.n_heads > 0 && h.n_heads <= h.dim &&
                         h.dim % h.n_heads == 0 && h.n_kv_heads > 0 && h.n_kv_heads <= h.n_heads &&
                         h.n_heads % h.n_kv_heads == 0 && h.vocab_size > 0 && h.vocab_size <= (1 << 22) &&
                         h.seq_len > 0 && h.seq_len <= (1 << 22);
  check(plausible, "'", path, "' is not a llama2.c checkpoint (implausible header: dim ", v[0], ", hidden ",
        v[1], ", layers ", v[2], ", heads ", v[3], ", kv heads ", v[4], ", vocab ", v[5], ", seq_len ", v[6],
        ")");
  const uint64_t expected = kHeaderBytes + layout_of(h).total() * 4;
  check(expected == size, "'", path, "' is not a llama2.c checkpoint: its header implies ", expected,
        " bytes, the file has ", size);
  return h;
}

TensorTable llama2c_tensors(const Llama2cHeader& h, const uint8_t* data) {
  using U = uint64_t;
  const U dim = U(h.dim), head = U(h.dim / h.n_heads), kv = U(h.n_kv_heads) * head, hidden = U(h.hidden_dim);
  TensorTable table;
  const uint8_t* p = data + kHeaderBytes;
  auto add = [&](const std::string& name, std::vector<uint64_t> shape) {
    uint64_t count = 1;
    for (auto d : shape) count *= d;
    table.add({name, "F32", true, GgmlType::F32, std::move(shape), p, size_t(count * 4)});
    p += count * 4;
  };
  auto per_layer = [&](TensorRole role, std::vector<uint64_t> shape) {
    for (int l = 0; l < h.n_layers; ++l) add(tensor_name(NameScheme::Llama2c, role, l), shape);
  };
  add(tensor_name(NameScheme::Llama2c, TensorRole::TokenEmbedding), {U(h.vocab_size), dim});
  per_layer(TensorRole::AttnNorm, {dim});
  per_layer(TensorRole::Wq, {dim, dim});
  per_layer(TensorRole::Wk, {kv, dim});
  per_layer(TensorRole::Wv, {kv, dim});
  per_layer(TensorRole::Wo, {dim, dim});
  per_layer(TensorRole::FfnNorm, {dim});
  per_layer(TensorRole::Gate, {hidden, dim});
  per_layer(TensorRole::Down, {dim, hidden});
  per_layer(TensorRole::Up, {hidden, dim});
  add(tensor_name(NameScheme::Llama2c, TensorRole::OutputNorm), {dim});
  add("freq_cis_real", {U(h.seq_len), head / 2});
  add("freq_cis_imag", {U(h.seq_len), head / 2});
  if (!h.shared_classifier) add(tensor_name(NameScheme::Llama2c, TensorRole::Output), {U(h.vocab_size), dim});
  return table;
}

std::unique_ptr<Model> load_llama2c_model(const std::string& path) {
  auto file = std::make_shared<MappedFile>(path);
  const Llama2cHeader h = read_llama2c_header(file->data(), file->size(), path);
  auto model = std::make_unique<Model>();
  model->format = "llama2c";
  model->path = path;
  ModelConfig& c = model->config;
  c.arch = "llama";
  c.name = std::filesystem::path(path).stem().string();
  c.dim = h.dim;
  c.n_layers = h.n_layers;
  c.n_heads = h.n_heads;
  c.n_kv_heads = h.n_kv_heads;
  c.head_dim = h.dim / h.n_heads;
  c.ffn_dim = h.hidden_dim;
  c.vocab_size = h.vocab_size;
  c.max_seq_len = h.seq_len;
  c.norm_eps = 1e-5f;
  c.rope_base = 10000.0f;
  c.rope_layout = RopeLayout::Interleaved;
  c.tied_output = h.shared_classifier;
  c.validate();
  assemble_weights(*model, llama2c_tensors(h, file->data()), NameScheme::Llama2c);
  model->keep_alive.push_back(file);
  return model;
}

}  // namespace llmnpu
