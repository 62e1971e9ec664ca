#pragma once
// Jinja2's built-in filters, tests and global functions, and the Python methods templates call on
// strings, dicts and lists, each behaving as in Jinja2's ImmutableSandboxedEnvironment with
// transformers' tojson (json.dumps with ensure_ascii=False). Unknown names are errors naming them.
#include <string>

#include "jinja/value.h"

namespace llmnpu::jinja {

Value apply_filter(const std::string& name, const Value& input, CallArgs& args);
bool apply_test(const std::string& name, const Value& input, CallArgs& args);
bool has_filter(const std::string& name);
bool has_test(const std::string& name);

// self.name as a callable bound to self (str.split, dict.items, ...), or undefined when the type has
// no such method.
Value bound_method(const Value& self, const std::string& name);

// range, namespace, dict, raise_exception, strftime_now (local time), cycler-free subset; undefined
// when no such global.
Value global_function(const std::string& name);

// Elements a for loop or a filter iterates: list items, dict keys, string characters; undefined is
// empty. Throws Error for values that cannot be iterated.
Array iterate(const Value& v);
// len(): strings in code points.
int64_t length_of(const Value& v);

}  // namespace llmnpu::jinja
