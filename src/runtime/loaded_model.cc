#include "runtime/loaded_model.h"

#include "backend/float_graph.h"
#include "backend/prepared_graph.h"
#include "model/loader.h"

namespace llmnpu {

LoadedModel load_for_inference(const ModelLoadOptions& options) {
  LoadedModel lm;
  LoadOptions load;
  load.tokenizer_path = options.tokenizer_path;
  if (is_prepared_model(options.model_path)) {  // W8A8 + shadow outliers (llmnpu prepare)
    PreparedGraph prepared = load_prepared_model(options.model_path, load);
    lm.model = std::move(prepared.model);
    lm.graph = std::move(prepared.graph);
  } else {
    lm.model = load_model(options.model_path, load);
    lm.graph = std::make_unique<ModelGraph>(build_float_graph(*lm.model));
  }
  EngineOptions eo;
  eo.threads = options.threads;
  eo.context = options.context;
  lm.engine = std::make_unique<Engine>(*lm.model, *lm.graph, eo);
  return lm;
}

}  // namespace llmnpu
