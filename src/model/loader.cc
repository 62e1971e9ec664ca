#include "model/loader.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/mapped_file.h"
#include "format/gguf.h"
#include "format/safetensors.h"
#include "model/load_common.h"
#include "tokenizer/load.h"

namespace llmnpu {

namespace {

namespace fs = std::filesystem;

// A model path may name the folder itself or a file inside a Hugging Face folder.
bool is_hf_member(const fs::path& p) {
  const std::string name = p.filename().string();
  return name == "config.json" || name == "model.safetensors.index.json" || p.extension() == ".safetensors";
}

std::string hf_folder(const std::string& path) {
  fs::path p(path);
  return fs::is_directory(p) ? path : folder_of(path);
}

}  // namespace

const char* model_format_name(ModelFormat f) {
  switch (f) {
    case ModelFormat::Gguf: return "gguf";
    case ModelFormat::HuggingFace: return "hf";
    case ModelFormat::Llama2c: return "llama2c";
  }
  return "?";
}

ModelFormat detect_model_format(const std::string& path) {
  const fs::path p(path);
  std::error_code ec;
  check(fs::exists(p, ec), "'", path, "' does not exist");
  if (fs::is_directory(p, ec)) {
    check(fs::exists(p / "config.json"), "'", path,
          "' is a folder without config.json (not a Hugging Face model)");
    return ModelFormat::HuggingFace;
  }
  char magic[4] = {};
  std::ifstream in(path, std::ios::binary);
  check(in.good(), "cannot open '", path, "'");
  in.read(magic, 4);
  if (in.gcount() == 4 && std::memcmp(magic, "GGUF", 4) == 0) return ModelFormat::Gguf;
  if (is_hf_member(p)) return ModelFormat::HuggingFace;
  if (p.extension() == ".bin") return ModelFormat::Llama2c;  // confirmed by the exact size check on load
  fail("'", path, "' is not a recognised model (GGUF file, Hugging Face folder or llama2.c .bin)");
}

std::unique_ptr<Model> load_model(const std::string& path, const LoadOptions& opts) {
  std::unique_ptr<Model> model;
  switch (detect_model_format(path)) {
    case ModelFormat::Gguf: model = load_gguf_model(path, opts.stream_matrices); break;
    case ModelFormat::HuggingFace: model = load_hf_model(hf_folder(path), opts.stream_matrices); break;
    case ModelFormat::Llama2c: model = load_llama2c_model(path); break;
  }
  if (!opts.tokenizer_path.empty()) {
    model->tokenizer = load_tokenizer(opts.tokenizer_path);
  } else if (model->format != "gguf") {  // GGUF models carry their tokenizer (load_gguf_model reads it)
    // Beside the weights: tokenizer.json for HF folders, tokenizer.bin for llama2.c checkpoints.
    const fs::path dir = model->format == "hf" ? fs::path(model->path) : fs::path(folder_of(path));
    if (model->format == "hf" && fs::exists(dir / "tokenizer.json"))
      model->tokenizer = load_tokenizer((dir / "tokenizer.json").string());
    else if (model->format == "llama2c" && fs::exists(dir / "tokenizer.bin"))
      model->tokenizer =
          make_tokenizer(vocab_from_llama2c((dir / "tokenizer.bin").string(), model->config.vocab_size));
  }
  if (model->tokenizer)
    check(model->tokenizer->vocab_size() <= size_t(model->config.vocab_size), "'", path,
          "': the tokenizer has ", model->tokenizer->vocab_size(), " tokens but the model only ",
          model->config.vocab_size);
  return model;
}

std::vector<StoredTensor> list_stored_tensors(const std::string& path) {
  std::vector<StoredTensor> out;
  switch (detect_model_format(path)) {
    case ModelFormat::Gguf: {
      GgufFile f(path);
      for (const auto& t : f.tensors()) out.push_back({t.name, ggml_type_name(t.type), t.shape(), t.nbytes});
      break;
    }
    case ModelFormat::HuggingFace: {
      SafetensorsSet set(hf_folder(path));
      for (const auto* t : set.tensors()) out.push_back({t->name, t->dtype, t->shape, t->nbytes});
      break;
    }
    case ModelFormat::Llama2c: {
      MappedFile file(path);
      const Llama2cHeader h = read_llama2c_header(file.data(), file.size(), path);
      const TensorTable table = llama2c_tensors(h, file.data());
      for (const auto& t : table.all()) out.push_back({t.name, t.type_name, t.shape, t.nbytes});
      break;
    }
  }
  return out;
}

}  // namespace llmnpu
