#!/usr/bin/env python3
"""Render every chat template in this folder against every case in cases.json
with Python Jinja2, configured the way Hugging Face transformers'
apply_chat_template configures it, and write expected.json.

    python3 render_expected.py            # writes expected.json next to this file
    python3 render_expected.py --check    # exits 1 if expected.json is stale

Only needs jinja2 (transformers itself is not required). What is mirrored from
transformers (utils/chat_template_utils.py, _compile_jinja_template and
render_jinja_template):

  * ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
    extensions=[jinja2.ext.loopcontrols])
  * filters["tojson"] = json.dumps(x, ensure_ascii=False, indent=indent,
    separators=separators, sort_keys=sort_keys)   (no HTML escaping, keys kept
    in insertion order)
  * globals["raise_exception"] raises jinja2.exceptions.TemplateError(message)
  * globals["strftime_now"](fmt) formats the current date; here it is pinned to
    datetime(2026, 7, 26) so the output is deterministic
  * render(messages=..., tools=..., documents=None, add_generation_prompt=...,
    **special_tokens, **extra_kwargs). Note that transformers always passes
    `tools` and `documents`, as None when the caller gave none, so inside the
    template `tools is defined` is true and `tools is none` is true.

Each expected.json entry is {"template", "case", "output"} or, when rendering
raised, {"template", "case", "error", "error_type"}. A case with a "templates"
list is only rendered with those templates (used for the tool-call cases,
which plain templates cannot render). error_type is the Python
exception class name: "TemplateError" means the template called
raise_exception(message) and "error" is exactly that message; anything else
(TypeError, UndefinedError, ...) is an evaluation failure whose message text is
Python's and need not be matched verbatim by another implementation.
"""

import json
import os
import sys
from datetime import datetime

import jinja2
import jinja2.ext
import jinja2.sandbox

HERE = os.path.dirname(os.path.abspath(__file__))
FIXED_NOW = datetime(2026, 7, 26)

# Special tokens passed to each template (from the models' tokenizer configs), shared with the C++ test.
# A case may override them with its own "bos_token" / "eos_token".
with open(os.path.join(HERE, "special_tokens.json"), encoding="utf-8") as _f:
    SPECIAL_TOKENS = json.load(_f)

# Keys of a case that are not passed through as extra template variables.
CASE_KEYS = {"name", "messages", "add_generation_prompt", "tools", "templates"}


def make_environment():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent,
                          separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return FIXED_NOW.strftime(format)

    env = jinja2.sandbox.ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def read_text(path):
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def render_all():
    env = make_environment()
    with open(os.path.join(HERE, "cases.json"), encoding="utf-8") as f:
        cases = json.load(f)
    templates = sorted(n for n in os.listdir(HERE) if n.endswith(".jinja"))
    missing = [t for t in templates if t not in SPECIAL_TOKENS]
    if missing:
        raise SystemExit("no special tokens configured for: " + ", ".join(missing))
    results = []
    for name in templates:
        template = env.from_string(read_text(os.path.join(HERE, name)))
        for case in cases:
            if "templates" in case and name not in case["templates"]:
                continue
            variables = dict(SPECIAL_TOKENS[name])
            variables.update({k: v for k, v in case.items() if k not in CASE_KEYS})
            variables.update(
                messages=json.loads(json.dumps(case["messages"])),  # fresh copy
                tools=case.get("tools"),
                documents=None,
                add_generation_prompt=case["add_generation_prompt"],
            )
            entry = {"template": name, "case": case["name"]}
            try:
                entry["output"] = template.render(**variables)
            except Exception as e:  # noqa: BLE001 - every failure is recorded
                entry["error"] = str(e)
                entry["error_type"] = type(e).__name__
            results.append(entry)
    return results


def main():
    results = render_all()
    text = json.dumps(results, ensure_ascii=False, indent=1) + "\n"
    path = os.path.join(HERE, "expected.json")
    if "--check" in sys.argv[1:]:
        current = read_text(path) if os.path.exists(path) else None
        if current != text:
            print("expected.json is stale; rerun render_expected.py", file=sys.stderr)
            return 1
        return 0
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    ok = sum(1 for r in results if "output" in r)
    print(f"jinja2 {jinja2.__version__}: {len(results)} renders, {ok} outputs, "
          f"{len(results) - ok} errors -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
