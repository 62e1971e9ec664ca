#pragma once
// The architecture hyperparameters of a GGUF file (general.architecture, <arch>.* sizes, norm epsilon,
// RoPE base and scaling), shared by the float-model loader and the prepared-model loader. RoPE layout,
// vocabulary size and bias/tied flags depend on the file's tensors and are left to the caller.
#include "format/gguf.h"
#include "model/config.h"

namespace llmnpu {

ModelConfig read_gguf_hyperparameters(const GgufFile& file);  // throws Error naming the bad key

}  // namespace llmnpu
