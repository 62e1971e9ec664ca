#include "runtime/loaded_model.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "backend/float_graph.h"
#include "backend/prepared_graph.h"
#include "model/loader.h"
#include "runtime/memory_estimate.h"

namespace llmnpu {

SharedModel load_weights(const std::string& model_path, const std::string& tokenizer_path) {
  SharedModel w;
  LoadOptions load;
  load.tokenizer_path = tokenizer_path;
  if (is_prepared_model(model_path)) {  // W8A8 + shadow outliers (llmnpu prepare)
    PreparedGraph prepared = load_prepared_model(model_path, load);
    w.model = std::move(prepared.model);
    w.graph = std::move(prepared.graph);
  } else {
    w.model = load_model(model_path, load);
    w.graph = std::make_shared<ModelGraph>(build_float_graph(*w.model));
  }
#if defined(__GLIBC__)
  // Loading frees many small blocks (the file's parsed metadata: a large vocabulary's strings); glibc
  // keeps their pages in the heap, where the large buffers that come next (mapped) never reuse them.
  malloc_trim(0);
#endif
  return w;
}

LoadedModel attach_engine(const SharedModel& weights, int threads, int context) {
  LoadedModel lm;
  lm.model = weights.model;
  lm.graph = weights.graph;
  EngineOptions eo;
  eo.threads = threads;
  eo.context = context;
  lm.engine = std::make_unique<Engine>(*lm.model, *lm.graph, eo);
  return lm;
}

LoadedModel load_for_inference(const ModelLoadOptions& options) {
  if (options.check_memory)
    check_memory(estimate_run_memory(options.model_path, options.context),
                 "running '" + options.model_path + "'");
  return attach_engine(load_weights(options.model_path, options.tokenizer_path), options.threads,
                       options.context);
}

}  // namespace llmnpu
