#include "backend/prepared_graph.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "backend/float_linear.h"
#include "core/error.h"
#include "core/half.h"
#include "core/mapped_file.h"
#include "core/thread_pool.h"
#include "format/gguf.h"
#include "model/gguf_config.h"
#include "model/tensor_names.h"
#include "tokenizer/load.h"

namespace llmnpu {

using quant::kSlotsPerLayer;
using quant::LinearSlot;

bool is_prepared_model(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  if (!in.read(magic, 4) || std::memcmp(magic, "GGUF", 4) != 0) return false;
  in.close();
  GgufFile f(path);
  return f.find("llmnpu.prepared.version") != nullptr;
}

namespace {

const char* role_name_of(LinearSlot s) { return quant::slot_name(s); }

// Rows of an F16 table; keep: what must outlive the rows (null when the table is mapped).
EmbeddingRows f16_embedding(const uint16_t* table, int dim, int vocab,
                            std::shared_ptr<const std::vector<uint16_t>> keep) {
  const size_t d = size_t(dim);
  return {[table, d, keep](int32_t id, float* out) {
            const uint16_t* row = table + size_t(id) * d;
            for (size_t i = 0; i < d; ++i) out[i] = half_to_float(row[i]);
          },
          vocab};
}

// head: the int8 head; null = quantized here from the model's fp32 head. embedding: rows for a model
// without an fp32 table; none given: the F16 rows a prepared file would hold (the head's own when tied),
// so an in-memory prepared model computes what its file will.
ModelGraph assemble(const ModelConfig& c, const Model& model, std::vector<std::unique_ptr<Int8Linear>> ops,
                    std::vector<Int8Linear*>* raw, std::unique_ptr<LinearOp> head = nullptr,
                    EmbeddingRows embedding = {}) {
  ModelGraph g;
  raw->clear();
  for (auto& op : ops) raw->push_back(op.get());
  for (int l = 0; l < c.n_layers; ++l) {
    LayerLinears L;
    L.qkv = std::move(ops[size_t(l * kSlotsPerLayer + 0)]);
    L.o = std::move(ops[size_t(l * kSlotsPerLayer + 1)]);
    L.gate_up = std::move(ops[size_t(l * kSlotsPerLayer + 2)]);
    L.down = std::move(ops[size_t(l * kSlotsPerLayer + 3)]);
    g.layers.push_back(std::move(L));
  }
  if (head) {
    g.head = std::move(head);
  } else {
    // Quantized from the F16 head (as a prepared file stores it) on every core (a second or so for a
    // 150k vocabulary).
    const MatrixRef head_weights = model.matrix(-1, TensorRole::Output);
    check(bool(head_weights), "the model has no output head");
    std::vector<uint16_t> f16(size_t(c.dim) * size_t(c.vocab_size));
    head_weights.read_rows_f16(0, c.vocab_size, f16.data());
    const uint16_t* rows = f16.data();  // the head owns the vector; its buffer stays where it is
    ThreadPool load_pool(ThreadPool::hardware_threads());
    g.head = std::make_unique<Int8Head>(rows, c.dim, c.vocab_size, &load_pool, model.weights.output_b,
                                        std::move(f16));
  }
  if (!embedding.row) {
    if (c.tied_output) {
      embedding =
          f16_embedding(static_cast<const Int8Head&>(*g.head).f16_weights(), c.dim, c.vocab_size, nullptr);
    } else {
      const MatrixRef rows = model.matrix(-1, TensorRole::TokenEmbedding);
      auto table = std::make_shared<std::vector<uint16_t>>(size_t(c.dim) * size_t(c.vocab_size));
      rows.read_rows_f16(0, c.vocab_size, table->data());
      embedding = f16_embedding(table->data(), c.dim, c.vocab_size, table);
    }
  }
  g.embedding = std::move(embedding);
  bind_program(g, model, true);
  size_t pruned = 0;
  for (auto* op : *raw) pruned += op->shadow() ? 0 : 1;
  g.describe =
      str("w8a8 + shadow outliers (int8 on the accelerator role: ", int8_kernel_name(best_int8_kernel()),
          " on CPU cores; shadow outliers in fp32 on the host role beside it (heterogeneous) or inline; "
          "attention in fp32 on the host; int8 head; ",
          raw->size() - pruned, "/", raw->size(), " shadow paths kept)");
  return g;
}

// --- file loading -----------------------------------------------------------------------------------

// The architecture keys are the float model's (model/gguf_config.h); prepared files add their layout.
ModelConfig read_config(const GgufFile& f) {
  ModelConfig c = read_gguf_hyperparameters(f);
  const std::string& path = f.path();
  // Prepared files store the weights in the source model's own RoPE layout and say which.
  const std::string layout = f.get_string("llmnpu.prepared.rope_layout", "");
  check(layout == "interleaved" || layout == "half_split", "'", path,
        "': llmnpu.prepared.rope_layout must be interleaved or half_split");
  c.rope_layout = layout == "interleaved" ? RopeLayout::Interleaved : RopeLayout::HalfSplit;
  const GgufTensor& emb = f.tensor("token_embd.weight");
  check(
      emb.dims.size() == 2 && emb.dims[0] == uint64_t(c.dim) && emb.dims[1] > 0 && emb.dims[1] <= (1u << 30),
      "'", path, "': token_embd.weight has the wrong shape");
  c.vocab_size = int(emb.dims[1]);
  c.qkv_bias = f.find_tensor("blk.0.qkv.bias") != nullptr;
  c.tied_output = f.find_tensor("output.weight") == nullptr;
  c.validate();
  return c;
}

const GgufTensor& typed(const GgufFile& f, const std::string& name, GgmlType type,
                        std::vector<uint64_t> dims) {
  const GgufTensor& t = f.tensor(name);
  check(t.type == type, "'", f.path(), "': tensor '", name, "' is ", ggml_type_name(t.type), ", expected ",
        ggml_type_name(type));
  check(t.dims == dims, "'", f.path(), "': tensor '", name, "' has the wrong shape");
  return t;
}

const float* f32_tensor(const GgufFile& f, const std::string& name, std::vector<uint64_t> dims) {
  return reinterpret_cast<const float*>(typed(f, name, GgmlType::F32, std::move(dims)).data);
}

}  // namespace

PreparedGraph load_prepared_model(const std::string& path, const LoadOptions& options) {
  auto file = std::make_shared<GgufFile>(path);
  const GgufFile& f = *file;
  check(f.find("llmnpu.prepared.version") != nullptr, "'", path,
        "' is not a prepared model (run llmnpu prepare)");
  const int64_t version = f.get("llmnpu.prepared.version").as_int();
  check(version >= quant::kPreparedVersion || version < 1, "'", path, "' was prepared in format ", version,
        " by an older llmnpu; this build reads format ", quant::kPreparedVersion,
        ": run llmnpu prepare on the float model again");
  check(version == quant::kPreparedVersion, "'", path, "': prepared format version ", version,
        " is not supported (this build reads ", quant::kPreparedVersion, ")");
  // Weights are used in place from the map: every element must sit at its natural alignment (a file
  // with general.alignment 1 can place a float at an odd address), and the packed int8 panels at 64
  // bytes (the kernels read them with aligned 512-bit loads).
  for (const GgufTensor& t : f.tensors()) {
    const bool panels = t.type == GgmlType::I8 && t.name.size() > 7 && t.name.ends_with(".weight");
    const size_t align = panels                                               ? 64
                         : t.type == GgmlType::F32 || t.type == GgmlType::I32 ? 4
                         : t.type == GgmlType::F16                            ? 2
                                                                              : 1;
    check(reinterpret_cast<uintptr_t>(t.data) % align == 0, "'", path, "': tensor '", t.name,
          "' is not aligned to ", align, " bytes (general.alignment ", f.alignment(), ")");
  }
  PreparedGraph out;
  out.model = std::make_unique<Model>();
  Model& m = *out.model;
  m.format = "prepared";
  m.path = path;
  m.config = read_config(f);
  const ModelConfig& c = m.config;
  // The float tensors under their GGUF names (model/model_writer.h add_float_tensors).
  auto read = [&](TensorRole role, int layer) {
    const auto shape = expected_shape(c, role);
    return f32_tensor(f, tensor_name(NameScheme::Gguf, role, layer), {shape.rbegin(), shape.rend()});
  };
  m.weights.output_norm = read(TensorRole::OutputNorm, 0);
  if (c.norm_kind == NormKind::Layer) m.weights.output_norm_b = read(TensorRole::OutputNormBias, 0);
  if (c.linear_biases && !c.tied_output) m.weights.output_b = read(TensorRole::OutputBias, 0);
  // F16 embedding and head used in place from the map; the int8 head is quantized from it here.
  auto f16 = [&](const std::string& name) {
    return reinterpret_cast<const uint16_t*>(
        typed(f, name, GgmlType::F16, {uint64_t(c.dim), uint64_t(c.vocab_size)}).data);
  };
  const uint16_t* embedding_table = f16("token_embd.weight");
  std::unique_ptr<Int8Head> head;
  {
    ThreadPool load_pool(ThreadPool::hardware_threads());
    const uint16_t* head_table = c.tied_output ? embedding_table : f16("output.weight");
    head = std::make_unique<Int8Head>(head_table, c.dim, c.vocab_size, &load_pool, m.weights.output_b);
    // Decode reads the int8 copy; the F16 table is read again only for embedding rows and all-position
    // logits, so its pages need not stay resident.
    release_mapped_pages(head_table, size_t(c.dim) * size_t(c.vocab_size) * sizeof(uint16_t));
  }
  const EmbeddingRows embedding = f16_embedding(embedding_table, c.dim, c.vocab_size, nullptr);
  m.weights.layers.assign(size_t(c.n_layers), {});
  for (int l = 0; l < c.n_layers; ++l)
    for (TensorRole role : layer_roles(c))
      if (!is_linear_role(role)) layer_weight(m.weights.layers[size_t(l)], role) = read(role, l);
  m.keep_alive.push_back(file->mapping());
  if (!options.tokenizer_path.empty())
    m.tokenizer = load_tokenizer(options.tokenizer_path);
  else if (f.find("tokenizer.ggml.model"))
    m.tokenizer = make_tokenizer(vocab_from_gguf(f));
  if (m.tokenizer)
    check(m.tokenizer->vocab_size() <= size_t(c.vocab_size), "'", path, "': the tokenizer has ",
          m.tokenizer->vocab_size(), " tokens but the model only ", c.vocab_size);

  const size_t n = size_t(c.n_layers) * kSlotsPerLayer;
  const GgufValue& shadow_value = f.get("llmnpu.prepared.shadow");
  check(shadow_value.type == GgufType::ARRAY, "'", path, "': llmnpu.prepared.shadow is not an array");
  const std::vector<int64_t> shadow = shadow_value.as_ints();
  check(shadow.size() == n, "'", path, "': llmnpu.prepared.shadow has ", shadow.size(), " entries, expected ",
        n);

  std::vector<std::unique_ptr<Int8Linear>> ops;
  for (int l = 0; l < c.n_layers; ++l)
    for (int s = 0; s < kSlotsPerLayer; ++s) {
      const LinearSlot slot = LinearSlot(s);
      const std::string b = quant::linear_name(l, slot) + ".";
      const auto [in, outf] = quant::slot_shape(c, slot);
      const uint64_t K = uint64_t(in), N = uint64_t(outf);
      Int8LinearSpec spec;
      spec.in = in;
      spec.out = outf;
      const GgufTensor& packed = f.tensor(b + "weight");
      check(packed.type == GgmlType::I8 && packed.dims.size() == 1, "'", path, "': tensor '", b,
            "weight' must be I8 panels (one dimension)");
      spec.packed_weight = reinterpret_cast<const int8_t*>(packed.data);
      spec.packed_bytes = size_t(packed.dims[0]);
      const GgufTensor& scales = f.tensor(b + "weight_scale");
      check(scales.type == GgmlType::F32 && scales.dims.size() == 1 &&
                (scales.dims[0] == N || scales.dims[0] == 1),
            "'", path, "': tensor '", b, "weight_scale' must be F32 [", N, "] or [1]");
      spec.weight_scales = reinterpret_cast<const float*>(scales.data);
      spec.per_channel = scales.dims[0] == N && N > 1;
      if (f.find_tensor(b + "bias")) spec.bias = f32_tensor(f, b + "bias", {N});
      spec.act_scale = *f32_tensor(f, b + "act_scale", {1});
      spec.shadow = shadow[size_t(l * kSlotsPerLayer + s)] != 0;
      // Hot (resident) and warm (mapped) shadow rows: a channel list and its F16 rows, both optional.
      auto shadow_rows = [&](const std::string& kind, std::vector<int32_t>& channels, const uint16_t*& rows) {
        const GgufTensor* ids = f.find_tensor(b + kind + "_channels");
        if (!ids) return;
        check(ids->type == GgmlType::I32 && ids->dims.size() == 1 && ids->dims[0] <= K, "'", path,
              "': tensor '", b, kind, "_channels' must be I32 with at most ", K, " entries");
        const int32_t* data = reinterpret_cast<const int32_t*>(ids->data);
        channels.assign(data, data + ids->dims[0]);
        rows = reinterpret_cast<const uint16_t*>(
            typed(f, b + kind + "_rows", GgmlType::F16, {N, ids->dims[0]}).data);
      };
      shadow_rows("hot", spec.hot_channels, spec.hot_rows);
      shadow_rows("warm", spec.warm_channels, spec.warm_rows);
      if (const GgufTensor* idx = f.find_tensor(b + "weight_outlier_index")) {
        check(idx->type == GgmlType::I32 && idx->dims.size() == 1 && idx->dims[0] <= K * N, "'", path,
              "': tensor '", b, "weight_outlier_index' must be I32 with at most ", K * N, " entries");
        spec.weight_outliers = size_t(idx->dims[0]);
        spec.weight_outlier_index = reinterpret_cast<const int32_t*>(idx->data);
        spec.weight_outlier_value = f32_tensor(f, b + "weight_outlier_value", {idx->dims[0]});
      }
      try {
        ops.push_back(std::make_unique<Int8Linear>(spec));
      } catch (const Error& e) {
        fail("'", path, "': ", b.substr(0, b.size() - 1), " (", role_name_of(slot), "): ", e.what());
      }
    }
  out.graph = std::make_unique<ModelGraph>(
      assemble(c, m, std::move(ops), &out.linears, std::move(head), std::move(embedding)));
  return out;
}

ModelGraph build_prepared_graph(const Model& model, const std::vector<quant::PreparedLinear>& linears,
                                std::vector<Int8Linear*>* raw, bool stream_head) {
  const ModelConfig& c = model.config;
  check(linears.size() == size_t(c.n_layers) * kSlotsPerLayer, "prepared graph needs ",
        c.n_layers * kSlotsPerLayer, " linears, got ", linears.size());
  std::vector<std::unique_ptr<Int8Linear>> ops;
  for (const auto& L : linears) {
    Int8LinearSpec spec;
    spec.in = L.in();
    spec.out = L.out();
    spec.packed_weight = L.packed.data.data();
    spec.packed_bytes = L.packed.data.size();
    spec.weight_scales = L.weights.scales.data();
    spec.per_channel = L.weights.per_channel;
    spec.bias = L.bias.empty() ? nullptr : L.bias.data();
    spec.act_scale = L.act_scale;
    spec.shadow = L.shadow;
    spec.hot_channels = L.hot_channels;
    spec.hot_rows = L.hot_rows.data();
    spec.warm_channels = L.warm_channels;
    spec.warm_rows = L.warm_rows.data();
    spec.weight_outlier_index = L.weights.outlier_index.data();
    spec.weight_outlier_value = L.weights.outlier_value.data();
    spec.weight_outliers = L.weights.outlier_index.size();
    ops.push_back(std::make_unique<Int8Linear>(spec));
  }
  std::vector<Int8Linear*> local;
  const MatrixRef head = model.matrix(-1, TensorRole::Output),
                  embedding = model.matrix(-1, TensorRole::TokenEmbedding);
  const auto f16_in_source = [](const MatrixRef& m) {
    return m.streamed && m.streamed->type == GgmlType::F16;
  };
  if (stream_head && f16_in_source(head) && f16_in_source(embedding)) {
    // F16 rows decode to the values the file's F16 head and embedding hold: the streamed fp32 linear
    // computes what the file's head computes beyond its int8 rows.
    EmbeddingRows rows{[embedding](int32_t id, float* out) { embedding.read_rows(id, 1, out); },
                       embedding.rows};
    return assemble(c, model, std::move(ops), raw ? raw : &local,
                    std::make_unique<FloatLinear>(head, model.weights.output_b), std::move(rows));
  }
  return assemble(c, model, std::move(ops), raw ? raw : &local);
}

size_t resident_shadow_bytes(const std::vector<Int8Linear*>& ops) {
  size_t n = 0;
  for (auto* op : ops) n += op->resident_shadow_bytes();
  return n;
}

size_t int8_weight_bytes(const std::vector<Int8Linear*>& ops) {
  size_t n = 0;
  for (auto* op : ops) n += op->int8_weight_bytes();
  return n;
}

}  // namespace llmnpu
