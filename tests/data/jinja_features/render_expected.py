#!/usr/bin/env python3
"""Render every snippet in snippets.json with Jinja2 configured as transformers configures it for chat
templates (see ../chat_templates/render_expected.py) and write expected.json: one entry per snippet with
"output", or "error" + "error_type" when Jinja2 raised.

    python3 render_expected.py [--check]
"""
import json
import os
import sys

import jinja2
import jinja2.ext
import jinja2.sandbox

HERE = os.path.dirname(os.path.abspath(__file__))


def make_environment():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env = jinja2.sandbox.ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env


def main():
    env = make_environment()
    with open(os.path.join(HERE, "snippets.json"), encoding="utf-8") as f:
        snippets = json.load(f)
    results = []
    for s in snippets:
        entry = {"t": s["t"]}
        try:
            entry["output"] = env.from_string(s["t"]).render(**s.get("v", {}))
        except Exception as e:  # noqa: BLE001 - every failure is recorded
            entry["error"] = str(e)
            entry["error_type"] = type(e).__name__
        results.append(entry)
    text = json.dumps(results, ensure_ascii=False, indent=1) + "\n"
    path = os.path.join(HERE, "expected.json")
    if "--check" in sys.argv[1:]:
        with open(path, encoding="utf-8", newline="") as f:
            if f.read() != text:
                print("expected.json is stale; rerun render_expected.py", file=sys.stderr)
                return 1
        return 0
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    print(f"jinja2 {jinja2.__version__}: {len(results)} snippets -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
