"""Runs in nova 34.0.0's virtualenv: which remotable methods of nova's objects notify.

A method notifies when its body, or a method of its class it calls, calls `emit`,
`send_update*`, `send_instance_update_notification`, `_send_notification` or a
`notify_about_*` helper. Prints [[class, method], ...] (read as source, nothing imported).
"""

import ast
import json
import pathlib

import nova.objects

NOTIFYING_CALLS = {"emit", "send_update", "send_update_with_states",
                   "send_instance_update_notification", "_send_notification"}  # fmt: skip
REMOTABLE = {"base.remotable", "base.remotable_classmethod"}


def called_name(call):
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def notifying_in(cls):
    methods = {m.name: m for m in cls.body if isinstance(m, ast.FunctionDef)}
    calls = {
        name: {n for n in (called_name(c) for c in ast.walk(m) if isinstance(c, ast.Call)) if n}
        for name, m in methods.items()
    }

    def notifies(name, seen):
        names = calls.get(name, set())
        if names & NOTIFYING_CALLS or any(n.startswith("notify_about_") for n in names):
            return True
        return any(n in methods and n not in seen and notifies(n, seen | {name}) for n in names)

    return [
        name
        for name, method in methods.items()
        if {ast.unparse(d) for d in method.decorator_list} & REMOTABLE
        and notifies(name, frozenset())
    ]


def main():
    found = []
    for path in sorted(pathlib.Path(nova.objects.__file__).parent.glob("*.py")):
        for cls in ast.parse(path.read_text()).body:
            if isinstance(cls, ast.ClassDef):
                found += [[cls.name, name] for name in notifying_in(cls)]
    print(json.dumps(found))


if __name__ == "__main__":
    main()
