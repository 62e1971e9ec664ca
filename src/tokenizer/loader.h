#pragma once
// Alias of tokenizer/load.h (the loaders and load_tokenizer).
#include "tokenizer/load.h"  // IWYU pragma: export
